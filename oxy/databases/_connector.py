"""`Connector`: one database, read-only, with sync methods for worker threads and async twins."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import anyio.to_thread

from oxy.databases._readonly import ensure_read_only
from oxy.databases._types import QueryResult, TableInfo, to_json_value

__all__ = ["Connector"]


class Connector(ABC):
    """A connection (or pool) to one database that only ever reads.

    `query` and `explain` refuse anything but one read-only statement (`ReadOnlyViolation`) before the
    database sees it; SQL errors come back as `DatabaseError` carrying the database's own message.
    The sync methods block (drivers do); the `a*` twins run them in a worker thread.
    """

    def __init__(self, *, name: str, dialect: str) -> None:
        self.name = name
        self.dialect = dialect
        """The sqlglot dialect name, e.g. `duckdb`, `postgres`, `sqlite`, `mysql`."""

    @property
    def label(self) -> str:
        """`name (dialect)`, how errors name this database."""
        return f"{self.name} ({self.dialect})"

    @abstractmethod
    def tables(self) -> list[TableInfo]:
        """Every user table and view, each with a `CREATE TABLE` DDL line for prompts."""

    def query(self, sql: str, *, limit: int | None = None) -> QueryResult:
        """Run one read-only statement; fetch at most `limit` rows (`truncated` says if there were more)."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit!r}")
        ensure_read_only(sql, dialect=self.dialect)
        return self._fetch(sql, limit=limit)

    def explain(self, sql: str) -> str:
        """The database's plan for `sql`, without running it: a cheap check that the query is valid."""
        ensure_read_only(sql, dialect=self.dialect)
        return self._explain(sql)

    @abstractmethod
    def close(self) -> None:
        """Release connections and files; the connector is not used afterwards."""

    def _fetch(self, sql: str, *, limit: int | None) -> QueryResult:
        columns, rows, truncated = self._run(sql, limit=limit)
        return QueryResult(
            columns=columns,
            rows=tuple(tuple(to_json_value(value) for value in row) for row in rows),
            truncated=truncated,
        )

    @abstractmethod
    def _run(
        self, sql: str, *, limit: int | None
    ) -> tuple[tuple[str, ...], Sequence[Sequence[object]], bool]:
        """Run `sql` (already checked to be one read): its column names, at most `limit` rows as the
        driver returns them (fetch `limit + 1` to see truncation), and whether rows were cut."""

    @abstractmethod
    def _explain(self, sql: str) -> str:
        """Run the dialect's EXPLAIN (never EXPLAIN ANALYZE) of `sql` and return the plan as text."""

    async def atables(self) -> list[TableInfo]:
        return await anyio.to_thread.run_sync(self.tables)

    async def aquery(self, sql: str, *, limit: int | None = None) -> QueryResult:
        return await anyio.to_thread.run_sync(functools.partial(self.query, sql, limit=limit))

    async def aexplain(self, sql: str) -> str:
        return await anyio.to_thread.run_sync(self.explain, sql)

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"
