"""What connectors hand back: table descriptions and query results, as plain frozen dataclasses."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

__all__ = [
    "Column",
    "JsonValue",
    "QueryResult",
    "TableInfo",
    "create_table_ddl",
    "group_ddl",
    "to_json_value",
]

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
"""A value as it travels in events, JSONL transcripts and HTTP responses."""


@dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    type: str
    """The type as the database spells it (`BIGINT`, `character varying(20)`, ...)."""


@dataclass(frozen=True, kw_only=True)
class TableInfo:
    """One table or view, as templates and agents see it."""

    schema: str
    """The schema (DuckDB/Postgres), database (MySQL) or `main` (SQLite, DuckDB datasets) holding it."""
    name: str
    columns: tuple[Column, ...]
    ddl: str
    """A one-statement `CREATE TABLE ...;` for prompts, possibly after a `-- comment` line."""


@dataclass(frozen=True, kw_only=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: tuple[tuple[JsonValue, ...], ...]
    truncated: bool = False
    """True when the query had more rows than the `limit` it ran under."""

    @property
    def row_count(self) -> int:
        return len(self.rows)


def to_json_value(value: object) -> JsonValue:
    """Turn whatever a driver returns into a value `json.dumps` takes as is."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [to_json_value(item) for item in value]
    return str(value)


def create_table_ddl(
    schema: str | None, name: str, columns: Iterable[Column], *, dialect: str, comment: str | None = None
) -> str:
    """`CREATE TABLE "schema"."name" ("col" TYPE, ...);` with identifiers quoted the dialect's way."""

    def quote(identifier: str) -> str:
        return exp.to_identifier(identifier, quoted=True).sql(dialect=dialect)

    target = quote(name) if schema is None else f"{quote(schema)}.{quote(name)}"
    body = ", ".join(f"{quote(column.name)} {column.type}".rstrip() for column in columns)
    ddl = f"CREATE TABLE {target} ({body});"
    return f"-- {comment}\n{ddl}" if comment else ddl


def group_ddl(tables: Iterable[TableInfo]) -> dict[str, str]:
    """Each schema's tables as one DDL text, tables separated by a blank line (Oxy's `datasets.<ds>.ddl`)."""
    grouped: dict[str, list[str]] = {}
    for table in tables:
        grouped.setdefault(table.schema, []).append(table.ddl)
    return {schema: "\n\n".join(ddls) for schema, ddls in grouped.items()}
