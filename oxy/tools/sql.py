"""`execute_sql` and `validate_sql`: the model's read-only way into a project database.

`execute_sql` emits the SQL and the full result table (up to the run's row cap) as events; the
model sees at most `Limits.model_rows` rows, with a note saying how much was cut.
`validate_sql` parses the query in the database's dialect and asks the database to EXPLAIN it,
without running it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated

import sqlglot
from pydantic import Field
from sqlglot.errors import ParseError, TokenError

from oxy.databases.table import TableOutput
from oxy.errors import ToolError
from oxy.execution.context import ExecutionContext
from oxy.execution.sql import ExecuteSql, SqlRequest
from oxy.tools.base import FunctionTool, Tool
from oxy.tools.registry import ToolBuild, tool_type
from oxy.tools.sql_grammar import sql_arguments_grammar

if TYPE_CHECKING:
    from oxy.config.tools import ExecuteSqlTool, ValidateSqlTool

SqlArgument = Annotated[
    str, Field(description="One read-only SQL query (SELECT ... or WITH ... SELECT ...).")
]


def execute_sql_tool(
    *,
    database: str,
    dialect: str,
    name: str = "execute_sql",
    description: str | None = None,
    dry_run_limit: int | None = None,
    arguments_grammar: Callable[[], str | None] | None = None,
) -> Tool:
    """A tool that runs one read-only query on `database` and shows the model the result;
    `arguments_grammar` narrows what a grammar-constrained model may write (`sql_arguments_grammar`)."""

    async def execute_sql(ctx: ExecutionContext, sql: SqlArgument) -> str:
        request = SqlRequest(sql=sql, database=database, render=False, limit=dry_run_limit)
        table = await ExecuteSql().execute(ctx, request)
        return table_for_model(table, max_rows=ctx.limits.model_rows)

    return FunctionTool(
        execute_sql,
        name=name,
        description=description
        or f"Run one read-only SQL query on the {dialect} database '{database}' and return the result table.",
        arguments_grammar=arguments_grammar,
    )


def validate_sql_tool(
    *, database: str, dialect: str, name: str = "validate_sql", description: str | None = None
) -> Tool:
    """A tool that checks a query against `database` (parse + EXPLAIN) without running it."""

    async def validate_sql(ctx: ExecutionContext, sql: SqlArgument) -> str:
        connector = await ctx.runtime.databases.aget(database)
        try:
            sqlglot.parse(sql, read=connector.dialect)
        except (ParseError, TokenError) as exc:
            raise ToolError(
                f"The query does not parse as {connector.dialect} SQL: {_first_line(str(exc))}"
            ) from None
        await connector.aexplain(sql)
        return "The query is valid."

    return FunctionTool(
        validate_sql,
        name=name,
        description=description
        or f"Check that a SQL query is valid on the {dialect} database '{database}' without running it.",
    )


@tool_type("execute_sql")
def _execute_sql(config: ExecuteSqlTool, build: ToolBuild) -> Tool:
    dialect = build.runtime.database_config(config.database, file=build.file).dialect
    databases = build.runtime.databases

    @cache
    def grammar() -> str | None:
        return sql_arguments_grammar(databases.tables(config.database), dialect)

    return execute_sql_tool(
        database=config.database,
        dialect=dialect,
        name=config.name,
        description=config.description,
        dry_run_limit=config.dry_run_limit,
        arguments_grammar=grammar,
    )


@tool_type("validate_sql")
def _validate_sql(config: ValidateSqlTool, build: ToolBuild) -> Tool:
    return validate_sql_tool(
        database=config.database,
        dialect=build.runtime.database_config(config.database, file=build.file).dialect,
        name=config.name,
        description=config.description,
    )


def table_for_model(table: TableOutput, *, max_rows: int) -> str:
    """The result as a markdown table of at most `max_rows` rows, with a note when rows were cut."""
    if not table.rows:
        return "The query returned no rows. Columns: " + ", ".join(table.columns)
    shown = TableOutput(columns=table.columns, rows=table.rows[:max_rows])
    text = shown.to_markdown()
    if len(table.rows) > max_rows:
        more = "more" if table.truncated else str(len(table.rows) - max_rows)
        text += f"\n\n(Showing the first {max_rows} rows; {more} rows were cut. Aggregate in SQL to see everything.)"
    elif table.truncated and not table.dropped:
        text += "\n\n(The result was cut at the row cap; aggregate in SQL to see everything.)"
    if table.dropped:
        text += f"\n\n(The result was cut: {table.dropped}. Select fewer columns or shorter values, or aggregate.)"
    return text


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
