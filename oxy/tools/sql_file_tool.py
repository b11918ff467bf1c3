"""A `.sql` file as a tool (a routing agent's SQL route): no arguments, the result table comes back."""

from __future__ import annotations

from pathlib import Path

from oxy.config.sql_file import SqlFile
from oxy.execution.context import ExecutionContext
from oxy.execution.sql import ExecuteSql, SqlRequest
from oxy.execution.templates import TemplateOrigin
from oxy.tools.base import FunctionTool, Tool
from oxy.tools.sql import table_for_model

__all__ = ["sql_file_description", "sql_file_tool"]


def sql_file_tool(sql_file: SqlFile, *, name: str, file: str, database: str, description: str) -> Tool:
    """Run the query in `sql_file` (rendered against the run's variables) on `database`."""

    text = sql_file.path.read_text(encoding="utf-8")
    origin = TemplateOrigin(file=file, line=text[: len(text) - len(sql_file.sql)].count("\n") + 1)
    request = SqlRequest(sql=sql_file.sql, database=database, origin=origin)

    async def run_query(ctx: ExecutionContext) -> str:
        table = await ExecuteSql().execute(ctx, request)
        return table_for_model(table, max_rows=ctx.limits.model_rows)

    return FunctionTool(run_query, name=name, description=description)


def sql_file_description(sql_file: SqlFile) -> str:
    """What the query answers: its front matter's `embed` questions, else its leading `--` comments."""
    if sql_file.front_matter is not None and sql_file.front_matter.embed:
        topics = "; ".join(" ".join(e.split()) for e in sql_file.front_matter.embed if e.strip())
        return f"Run the saved query {sql_file.path.name}; it answers: {topics}."
    about = _leading_comment(sql_file.sql)
    if about:
        return f"Run the saved query {sql_file.path.name}: {about}"
    return f"Run the saved query {Path(sql_file.path).name} and return its result table."


def _leading_comment(sql: str) -> str:
    """The text of the `/* ... */` block or the `--` lines the query starts with, on one line."""
    text = sql.lstrip()
    if text.startswith("/*"):
        end = text.find("*/")
        return " ".join(text[2:end].split()) if end > 0 else ""
    comments: list[str] = []
    for line in text.splitlines():
        if not line.strip().startswith("--"):
            break
        comments.append(line.strip().removeprefix("--").strip())
    return " ".join(c for c in comments if c)
