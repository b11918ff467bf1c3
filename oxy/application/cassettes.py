"""`--record` / `--replay`: every model of a runtime behind one cassette file."""

from __future__ import annotations

from pathlib import Path

from oxy.application.runtime import Runtime
from oxy.models.cassette import Cassette, CassetteClient, CassetteMode
from oxy.models.client import ModelClient

__all__ = ["DEFAULT_CASSETTE", "use_cassette"]

DEFAULT_CASSETTE = Path(".oxy") / "cassettes" / "default.json"
"""Relative to the project root; commit it (un-ignore `.oxy/cassettes/`) so CI can replay it."""


def use_cassette(runtime: Runtime, path: Path | None, mode: CassetteMode) -> Cassette:
    """Put every model of config.yml behind the cassette at `path` (default `DEFAULT_CASSETTE`).
    Replaying, no real client is ever made; recording, each is made on its first request."""
    file = (path if path is not None else runtime.root / DEFAULT_CASSETTE).resolve()
    try:
        display = file.relative_to(runtime.root.resolve()).as_posix()
    except ValueError:
        display = str(file)
    cassette = Cassette(file, mode, display=display)

    def live(name: str) -> ModelClient:
        from oxy.models import client_for  # lazy: a real client only when recording asks for one

        return client_for(runtime.model_config(name), project_root=runtime.root)

    models: dict[str, ModelClient] = {}
    for name in runtime.project.config.model_names:
        given = runtime.models.get(name)
        models[name] = CassetteClient(
            name, cassette, (lambda g=given: g) if given else (lambda n=name: live(n))
        )
    runtime.models = models
    return cassette
