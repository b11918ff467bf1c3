"""Finding an agent's model in the project and getting its (process-wide, cached) client."""

from __future__ import annotations

from oxy.models.client import ModelClient
from oxy.runtime import Runtime


def model_client(runtime: Runtime, name: str, *, file: str) -> ModelClient:
    """The client for model `name` of the project; a `ConfigError` listing the known names if none."""
    from oxy.models import client_for

    return client_for(runtime.model_config(name, file=file), project_root=runtime.root)
