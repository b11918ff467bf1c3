"""`{{ value | sql_literal }}`: a template value as a SQL literal of the database's dialect.

A variable pasted inside quotes (`where name = '{{ customer }}'`) lets a value holding a quote rewrite
the query. `sql_literal` quotes (and escapes) it for the dialect of the database the SQL runs on:
strings become string literals (`'O''Brien'`; MySQL also escapes backslashes), numbers stay numbers,
`None` is `NULL`, booleans `TRUE`/`FALSE`, and a list becomes `(a, b, c)` for `IN`. The dialect comes
from the SQL being rendered for a database; `sql_literal("mysql")` names one.
"""

from __future__ import annotations

import math
from typing import Any

import minijinja

__all__ = ["SQL_DIALECT_VARIABLE", "sql_literal"]

SQL_DIALECT_VARIABLE = "__sql_dialect__"
"""Set in the variables of SQL rendered for a database: the dialect `sql_literal` quotes for."""


@minijinja.pass_state
def sql_literal(state: Any, value: Any, dialect: str | None = None) -> str:
    chosen = dialect or state.lookup(SQL_DIALECT_VARIABLE) or ""
    return quote_literal(value, dialect=str(chosen))


def quote_literal(value: Any, *, dialect: str = "") -> str:
    """`value` as a SQL literal of `dialect` (sqlglot's name; empty for ANSI SQL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"sql_literal: {value!r} has no SQL literal")
        return repr(value)
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return "(" + ", ".join(quote_literal(v, dialect=dialect) for v in items) + ")"
    from sqlglot import exp  # lazy: sqlglot loads only when a template quotes a string

    return exp.Literal.string(str(value)).sql(dialect=dialect or None)
