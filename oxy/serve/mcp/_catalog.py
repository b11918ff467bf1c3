"""What `oxy mcp` offers: the project's agents, workflows and SQL files as MCP tools, with Oxy's names.

config.yml's `mcp: {tools: [globs]}` chooses the files (omitted: every agent and workflow; an empty list:
none). An agent is `agent-<name>` (input `question`), a workflow `workflow-<name>` (its variables), a SQL
file `sql-<name>` (its template variables); `<name>` is the file name without its suffix, or its path
when two files share a name.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import minijinja

from oxy.application.runner import AGENT_SUFFIX, WORKFLOW_SUFFIXES
from oxy.application.runtime import Runtime
from oxy.config import parse_sql_file
from oxy.config._paths import confine_glob

__all__ = ["ExposedTool", "exposed_tools"]

Kind = Literal["agent", "workflow", "sql"]
_INVALID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, kw_only=True)
class ExposedTool:
    name: str
    kind: Kind
    path: str
    """Relative to the project root."""
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict[str, Any])
    error: str | None = None
    """Why the file did not load: listed all the same (with the reason), and calling it says so."""


def exposed_tools(runtime: Runtime) -> dict[str, ExposedTool]:
    """The tools `oxy mcp` offers, by name, in the order of their files."""
    project = runtime.project
    config = project.config.mcp
    if config is None:
        paths = [
            *project.glob(f"**/*{AGENT_SUFFIX}"),
            *(p for s in WORKFLOW_SUFFIXES for p in project.glob(f"**/*{s}")),
        ]
    else:
        found: list[str] = []
        for pattern in config.tools:
            for path in confine_glob(project.root, pattern, what="mcp tool", file="config.yml", strict=False):
                rel = path.relative_to(project.root.resolve()).as_posix()
                if rel not in found and _kind(rel) is not None:
                    found.append(rel)
        paths = found
    names = _names(paths)
    return {name: _describe(runtime, name, _kind(path) or "sql", path) for path, name in names.items()}


def _names(paths: list[str]) -> dict[str, str]:
    """`{path: tool name}`: `<kind>-<stem>`, or `<kind>-<path>` where stems clash, made valid for model
    APIs; a name that still clashes (or is too long) ends with a hash of its path."""
    valid = {path: _INVALID.sub("_", f"{_kind(path)}-{_stem(path)}") for path in paths}
    counts = Counter(valid.values())
    for path in paths:
        if counts[valid[path]] > 1:
            valid[path] = _INVALID.sub("_", f"{_kind(path)}-{_unsuffixed(path)}")
    counts = Counter(valid.values())
    for path, name in valid.items():
        if counts[name] > 1 or len(name) > 64:
            digest = hashlib.sha256(path.encode()).hexdigest()[:8]
            valid[path] = f"{name[:55]}_{digest}"
    return valid


def _kind(path: str) -> Kind | None:
    if path.endswith(AGENT_SUFFIX):
        return "agent"
    if path.endswith(WORKFLOW_SUFFIXES):
        return "workflow"
    if path.endswith(".sql"):
        return "sql"
    return None


def _unsuffixed(path: str) -> str:
    for suffix in (AGENT_SUFFIX, *WORKFLOW_SUFFIXES, ".sql"):
        if path.endswith(suffix):
            return path.removesuffix(suffix).replace("/", "-")
    return path


def _stem(path: str) -> str:
    return _unsuffixed(path.rsplit("/", 1)[-1])


def _describe(runtime: Runtime, name: str, kind: Kind, path: str) -> ExposedTool:
    try:
        if kind == "agent":
            agent = runtime.project.agent(path)
            return ExposedTool(
                name=name,
                kind=kind,
                path=path,
                description=agent.description or f"Ask the {_stem(path)} agent a question ({path}).",
                input_schema={
                    "type": "object",
                    "properties": {"question": {"type": "string", "description": "What to ask the agent."}},
                    "required": ["question"],
                },
            )
        if kind == "workflow":
            workflow = runtime.project.workflow(path)
            variables = {key: dict(schema) for key, schema in (workflow.variables or {}).items()}
            required = [key for key, schema in variables.items() if "default" not in schema]
            schema: dict[str, Any] = {"type": "object", "properties": variables}
            if required:
                schema["required"] = required
            return ExposedTool(
                name=name,
                kind=kind,
                path=path,
                description=workflow.description or f"Run the {_stem(path)} workflow ({path}).",
                input_schema=schema,
            )
        sql = parse_sql_file(runtime.root / path, file=path)
        names = sorted(
            minijinja.Environment().undeclared_variables_in_str(sql.sql) - set(runtime.renderer.globals)
        )
        database = sql.database or "the default database"
        return ExposedTool(
            name=name,
            kind=kind,
            path=path,
            description=f"Run the SQL query {path} on {database}; returns its rows.",
            input_schema={
                "type": "object",
                "properties": {
                    n: {
                        "type": ["number", "boolean", "string"],
                        "description": f"The query's template variable `{n}` (a number, or plain text: it "
                        "is written into the SQL).",
                    }
                    for n in names
                },
            },
        )
    except Exception as exc:  # an OxyError, or minijinja's syntax error: the file is listed with the reason
        return ExposedTool(
            name=name,
            kind=kind,
            path=path,
            description=f"{path} does not load: {exc}",
            input_schema={"type": "object", "properties": {}},
            error=str(exc),
        )
