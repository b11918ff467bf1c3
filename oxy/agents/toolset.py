"""From the `tools:` entries of an agent file to `Tool` objects.

It lives with the agents, not in `oxy.tools`, because agent and workflow tools need the agents
layer to build what they delegate to; the tools themselves only take callables."""

from __future__ import annotations

from collections.abc import Sequence

from oxy.config.tools import AgentTool, ExecuteSqlTool, ToolConfig, ValidateSqlTool, WorkflowTool
from oxy.errors import ConfigError, NotSupported
from oxy.runtime import Runtime
from oxy.tools.base import Tool
from oxy.tools.sql import execute_sql_tool, validate_sql_tool


def build_tools(configs: Sequence[ToolConfig], *, runtime: Runtime, file: str) -> list[Tool]:
    """Build each configured tool; names must be unique within one agent."""
    if any(isinstance(config, AgentTool | WorkflowTool) for config in configs):
        from oxy.agents.cycles import check_no_cycles

        check_no_cycles(runtime.project, file)
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
    if isinstance(config, AgentTool):
        return _agent_tool(config, runtime=runtime)
    if isinstance(config, WorkflowTool):
        return _workflow_tool(config, runtime=runtime)
    raise NotSupported(
        f"{file}: tool type {config.type!r} (tool {config.name!r}) does not run in this version of oxy yet; "
        "remove it from the agent's tools or use execute_sql / validate_sql"
    )


def _dialect(runtime: Runtime, database: str, *, file: str) -> str:
    return runtime.database_config(database, file=file).dialect


def _agent_tool(config: AgentTool, *, runtime: Runtime) -> Tool:
    from oxy.agents.delegates import agent_asker, agent_description
    from oxy.tools.agent_tool import agent_tool

    description = config.description or agent_description(config.agent_ref, runtime=runtime)
    return agent_tool(
        name=config.name, description=description, ask=agent_asker(config.agent_ref, runtime=runtime)
    )


def _workflow_tool(config: WorkflowTool, *, runtime: Runtime) -> Tool:
    from oxy.agents.delegates import workflow_description, workflow_runner, workflow_variables
    from oxy.tools.workflow_tool import WorkflowAsTool

    ref = config.workflow_ref
    return WorkflowAsTool(
        name=config.name,
        description=config.description or workflow_description(ref, runtime=runtime),
        variables=config.variables
        if config.variables is not None
        else workflow_variables(ref, runtime=runtime),
        run=workflow_runner(ref, runtime=runtime, output_task=config.output_task_ref),
    )
