"""From the `tools:` entries of an agent file to `Tool` objects."""

from __future__ import annotations

from collections.abc import Sequence

from oxy.config.tools import ExecuteSqlTool, ToolConfig, ValidateSqlTool
from oxy.errors import ConfigError, NotSupported
from oxy.runtime import Runtime
from oxy.tools.base import Tool
from oxy.tools.sql import execute_sql_tool, validate_sql_tool


def build_tools(configs: Sequence[ToolConfig], *, runtime: Runtime, file: str) -> list[Tool]:
    """Build each configured tool; names must be unique within one agent."""
    tools: list[Tool] = []
    seen: set[str] = set()
    for config in configs:
        tool = _build(config, runtime=runtime, file=file)
        if tool.name in seen:
            raise ConfigError(f"two tools are named {tool.name!r}; give each a unique `name`", file=file)
        seen.add(tool.name)
        tools.append(tool)
    return tools


def _build(config: ToolConfig, *, runtime: Runtime, file: str) -> Tool:
    if isinstance(config, ExecuteSqlTool):
        return execute_sql_tool(
            database=config.database,
            dialect=_dialect(runtime, config.database, file=file),
            name=config.name,
            description=config.description,
            dry_run_limit=config.dry_run_limit,
        )
    if isinstance(config, ValidateSqlTool):
        return validate_sql_tool(
            database=config.database,
            dialect=_dialect(runtime, config.database, file=file),
            name=config.name,
            description=config.description,
        )
    raise NotSupported(
        f"{file}: tool type {config.type!r} (tool {config.name!r}) does not run in this version of oxy yet; "
        "remove it from the agent's tools or use execute_sql / validate_sql"
    )


def _dialect(runtime: Runtime, database: str, *, file: str) -> str:
    return runtime.database_config(database, file=file).dialect
