"""One way in for every entry point (CLI, HTTP, tests): run a project file and stream its events.

`run_file` looks at what the file is (`.sql`, `*.agent.yml`, a workflow) and builds the matching
executable; the run's events go to `sink`, its outcome comes back as a `RunResult`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oxy.errors import ConfigError, NotSupported
from oxy.execution.run import RunResult, run_executable
from oxy.execution.sinks import EventSink
from oxy.execution.templates import TemplateOrigin
from oxy.runtime import Runtime

WORKFLOW_SUFFIXES = (".workflow.yml", ".procedure.yml", ".automation.yml")
AGENT_SUFFIX = ".agent.yml"


def relative_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


async def run_file(
    path: Path,
    *,
    runtime: Runtime,
    prompt: str | None = None,
    variables: Mapping[str, Any] | None = None,
    database: str | None = None,
    sink: EventSink | None = None,
    run_id: str | None = None,
) -> RunResult[Any]:
    """Run the project file at `path`: a SQL file, an agent (with `prompt`) or a workflow."""
    name = path.name
    if name.endswith(".sql"):
        return await run_sql_file(
            path, runtime=runtime, variables=variables, database=database, sink=sink, run_id=run_id
        )
    if name.endswith(AGENT_SUFFIX) or name.endswith(WORKFLOW_SUFFIXES):
        raise NotSupported(
            f"{relative_name(path, runtime.root)}: running agents and workflows lands in a later release"
        )
    raise ConfigError(
        "oxy run takes a .sql file, an *.agent.yml or a *.workflow.yml / *.procedure.yml / *.automation.yml file",
        file=relative_name(path, runtime.root),
    )


async def run_sql_file(
    path: Path,
    *,
    runtime: Runtime,
    variables: Mapping[str, Any] | None = None,
    database: str | None = None,
    sink: EventSink | None = None,
    run_id: str | None = None,
) -> RunResult[Any]:
    """Render and run a SQL file against `database`, its front matter's, or the project default."""
    from oxy.config import parse_sql_file
    from oxy.workflows.sql import ExecuteSql, SqlRequest

    rel = relative_name(path, runtime.root)
    sql_file = parse_sql_file(path, project=runtime.project)
    db_name = database or sql_file.database or runtime.project.default_database(file=rel)
    runtime.project.check_database(db_name, file=rel)
    request = SqlRequest(
        sql=sql_file.sql,
        database=db_name,
        variables=dict(variables or {}),
        origin=TemplateOrigin(file=rel, line=sql_file.body_line),
    )
    return await run_executable(ExecuteSql(), request, target=rel, sink=sink, services=runtime, run_id=run_id)
