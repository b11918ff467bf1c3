"""An agent's toolsets: one per `tools:` entry (built by the tool type's registered builder), then the
runtime's extra toolsets."""

from __future__ import annotations

from collections.abc import Sequence

from oxy.application.cycles import check_no_cycles
from oxy.application.runtime import Runtime
from oxy.config.permissions import Permissions
from oxy.config.tools import ToolConfig
from oxy.errors import ConfigError
from oxy.tools.registry import Delegates, ToolBuild, build_toolset
from oxy.tools.toolset import Toolset


def agent_toolsets(
    configs: Sequence[ToolConfig],
    *,
    runtime: Runtime,
    file: str,
    delegates: Delegates,
    permissions: Permissions | None = None,
) -> list[Toolset]:
    """Build each configured tool; names must be unique within one agent."""
    if any(config.type in ("agent", "workflow") for config in configs):
        check_no_cycles(runtime.project, file)
    names = [config.name for config in configs]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"two tools are named {name!r}; give each a unique `name`", file=file)
    build = ToolBuild(runtime=runtime, file=file, delegates=delegates, permissions=permissions)
    return [*(build_toolset(config, build) for config in configs), *runtime.toolsets]
