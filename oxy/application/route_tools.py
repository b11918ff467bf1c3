"""A routing agent's routes as tools, named after their files' stems (valid, unique function names)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from oxy.agents.routes import AGENT_SUFFIX, WORKFLOW_SUFFIXES, Route
from oxy.config.sql_file import parse_sql_file
from oxy.execution.runtime import RuntimeHandle
from oxy.tools.agent_tool import agent_tool
from oxy.tools.base import Tool
from oxy.tools.registry import Delegates
from oxy.tools.sql_file_tool import sql_file_description, sql_file_tool
from oxy.tools.workflow_tool import WorkflowAsTool

__all__ = ["route_tools", "tool_name"]

_INVALID = re.compile(r"[^A-Za-z0-9_]+")
_MAX_NAME = 64


def route_tools(routes: Sequence[Route], *, runtime: RuntimeHandle, delegates: Delegates) -> list[Tool]:
    tools: list[Tool] = []
    taken: set[str] = set()
    for route in routes:
        name = tool_name(route.file, taken=taken)
        if route.kind == "agent":
            description = delegates.agent_description(route.file)
            tools.append(agent_tool(name=name, description=description, ask=delegates.ask_agent(route.file)))
        elif route.kind == "workflow":
            tools.append(
                WorkflowAsTool(
                    name=name,
                    description=delegates.workflow_description(route.file),
                    variables=delegates.workflow_variables(route.file),
                    run=delegates.run_workflow(route.file),
                )
            )
        else:
            sql_file = parse_sql_file(runtime.project.path(route.file), file=route.file)
            database = sql_file.database or runtime.default_database(file=route.file)
            runtime.database_config(database, file=route.file)
            tools.append(
                sql_file_tool(
                    sql_file,
                    name=name,
                    file=route.file,
                    database=database,
                    description=sql_file_description(sql_file),
                )
            )
    return tools


def tool_name(file: str, *, taken: set[str]) -> str:
    """A function name from the file's stem (`agents/sales-v2.agent.yml` → `sales_v2`), unique in `taken`."""
    stem = PurePosixPath(file).name
    for suffix in (AGENT_SUFFIX, *WORKFLOW_SUFFIXES, ".sql"):
        stem = stem.removesuffix(suffix)
    base = _INVALID.sub("_", stem).strip("_") or "route"
    if base[0].isdigit():
        base = f"route_{base}"
    base = base[:_MAX_NAME]
    name, n = base, 2
    while name in taken:
        suffix = f"_{n}"
        name = base[: _MAX_NAME - len(suffix)] + suffix
        n += 1
    taken.add(name)
    return name
