"""What connectors hand back: table descriptions and query results, as plain frozen dataclasses."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    """True when the query had more rows than the `limit` it ran under, or the budget cut it."""
    dropped: str | None = None
    """What a `RowBudget` cut, in words."""

    @property
    def row_count(self) -> int:
        return len(self.rows)


class RowBudget:
    """Bounds a result while it is fetched, batch by batch, so a huge one is never held whole: text
    cells are cut to `max_cell_chars`, and fetching stops once the kept cells add up to `max_bytes`."""

    BATCH = 256

    def __init__(self, *, max_cell_chars: int, max_bytes: int) -> None:
        self.max_cell_chars = max_cell_chars
        self.max_bytes = max_bytes
        self.size = 0
        self.cells_cut = 0
        self.full = False
        self.kept = 0
        self.row_cap: int | None = None
        """Set when the row limit, not the bytes, left rows unread."""

    def take(self, rows: Sequence[Sequence[object]]) -> list[tuple[object, ...]]:
        taken: list[tuple[object, ...]] = []
        for row in rows:
            cells: list[object] = []
            cut = row_size = 0
            for value in row:
                if isinstance(value, str) and len(value) > self.max_cell_chars:
                    cut += 1
                    value = value[: self.max_cell_chars] + "…"
                cells.append(value)
                row_size += len(value) if isinstance(value, str | bytes) else 8
            if self.size + row_size > self.max_bytes and (self.kept or taken):
                self.full = True
                break
            self.size += row_size
            self.cells_cut += cut
            taken.append(tuple(cells))
        self.kept += len(taken)
        return taken

    def note(self) -> str | None:
        notes: list[str] = []
        if self.row_cap is not None:
            notes.append(f"rows past {self.row_cap:,} dropped")
        if self.full:
            notes.append(
                f"rows after the first {self.kept:,} dropped past the {self.max_bytes:,}-byte table limit"
            )
        if self.cells_cut:
            s = "s" if self.cells_cut != 1 else ""
            notes.append(f"{self.cells_cut:,} cell{s} cut to {self.max_cell_chars:,} characters")
        return "; ".join(notes) or None


def fetch_within(
    fetchmany: Callable[[int], Sequence[Sequence[object]]], *, limit: int | None, budget: RowBudget | None
) -> tuple[list[tuple[object, ...]], bool]:
    """Rows from a cursor's `fetchmany`, in batches, at most `limit` (one more is read to see that there
    were more) and within `budget`; and whether rows were left unread."""
    rows: list[tuple[object, ...]] = []
    while True:
        want = RowBudget.BATCH if limit is None else min(RowBudget.BATCH, limit + 1 - len(rows))
        if want <= 0:
            break
        batch = fetchmany(want)
        if not batch:
            break
        rows.extend(budget.take(batch) if budget is not None else (tuple(r) for r in batch))
        if budget is not None and budget.full:
            return rows, True
    if limit is not None and len(rows) > limit:
        if budget is not None:
            budget.row_cap = limit
        return rows[:limit], True
    return rows, False


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
