"""Running SQL: render the template, refuse writes, run it read-only, emit the SQL and the table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from oxy.databases._types import RowBudget
from oxy.databases.table import TableOutput
from oxy.events.types import SqlEvent, TableEvent
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable
from oxy.execution.sql_literal import SQL_DIALECT_VARIABLE
from oxy.execution.templates import TemplateOrigin


@dataclass(frozen=True, kw_only=True, slots=True)
class SqlRequest:
    """A SQL template, the database to run it on, and the variables to render it with."""

    sql: str
    database: str
    variables: Mapping[str, Any] = field(default_factory=dict[str, Any])
    origin: TemplateOrigin | None = None
    render: bool = True
    """False when `sql` is already rendered (a workflow task renders it itself, a model wrote it)."""
    limit: int | None = None
    """Rows to fetch at most (`dry_run_limit`); the run's `max_table_rows` caps it either way."""


class ExecuteSql(Executable[SqlRequest, TableOutput]):
    """Render, run and report one SQL statement; the output is the result table."""

    async def execute(self, ctx: ExecutionContext, input: SqlRequest) -> TableOutput:
        runtime = ctx.runtime
        connector = await runtime.databases.aget(input.database)  # opening a DuckDB folder loads it
        sql = input.sql
        if input.render:
            # The dialect comes last: no variable can change how `sql_literal` quotes.
            variables = {**ctx.variables, **input.variables, SQL_DIALECT_VARIABLE: connector.dialect}
            sql = await runtime.renderer.arender(sql, variables, origin=input.origin)
        await ctx.emit(
            SqlEvent(
                source=ctx.source,
                sql=sql,
                database=input.database,
                dialect=connector.dialect,
                call_id=ctx.call_id,
            )
        )
        limits = ctx.limits
        limit = limits.max_table_rows if input.limit is None else min(limits.max_table_rows, input.limit)
        budget = RowBudget(max_cell_chars=limits.max_cell_chars, max_bytes=limits.max_table_bytes)
        result = await connector.aquery(sql, limit=limit, budget=budget)
        table = TableOutput(
            columns=tuple(result.columns),
            rows=tuple(tuple(r) for r in result.rows),
            truncated=result.truncated or result.dropped is not None,
            dropped=result.dropped,
        )
        await ctx.emit(
            TableEvent(
                source=ctx.source,
                columns=table.columns,
                rows=table.rows,
                truncated=table.truncated,
                database=input.database,
                dropped=table.dropped,
                call_id=ctx.call_id,
            )
        )
        return table
