"""`Connector`: one database, read-only, with sync methods for worker threads and async twins."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self, TypeVar

import anyio.to_thread

from oxy.databases._interrupt import Statement, Statements
from oxy.databases._readonly import ensure_read_only
from oxy.databases._types import QueryResult, RowBudget, TableInfo, to_json_value

__all__ = ["Connector"]

T = TypeVar("T")


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
        self._statements = Statements()

    @property
    def label(self) -> str:
        """`name (dialect)`, how errors name this database."""
        return f"{self.name} ({self.dialect})"

    @abstractmethod
    def tables(self) -> list[TableInfo]:
        """Every user table and view, each with a `CREATE TABLE` DDL line for prompts."""

    def query(
        self,
        sql: str,
        *,
        limit: int | None = None,
        statement: Statement | None = None,
        budget: RowBudget | None = None,
    ) -> QueryResult:
        """Run one read-only statement; fetch at most `limit` rows (`truncated` says if there were more)
        within `budget` (cells cut, rows dropped past its bytes, while fetching: never held whole).

        `statement.cancel()`, from another thread, interrupts it in the database."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit!r}")
        ensure_read_only(sql, dialect=self.dialect)
        with self._statements.running(statement) as running:
            return self._fetch(sql, limit=limit, statement=running, budget=budget)

    def explain(self, sql: str, *, statement: Statement | None = None) -> str:
        """The database's plan for `sql`, without running it: a cheap check that the query is valid."""
        ensure_read_only(sql, dialect=self.dialect)
        with self._statements.running(statement) as running:
            return self._explain(sql, statement=running)

    def interrupt_all(self, *, wait_s: float = 5.0) -> bool:
        """Interrupt every statement running on this connector and wait for their threads (closing does)."""
        return self._statements.cancel_all(wait_s=wait_s)

    @abstractmethod
    def close(self) -> None:
        """Release connections and files; the connector is not used afterwards."""

    def _fetch(
        self,
        sql: str,
        *,
        limit: int | None,
        statement: Statement | None = None,
        budget: RowBudget | None = None,
    ) -> QueryResult:
        columns, rows, truncated = self._run(
            sql, limit=limit, statement=statement or Statement(), budget=budget
        )
        return QueryResult(
            columns=columns,
            rows=tuple(tuple(to_json_value(value) for value in row) for row in rows),
            truncated=truncated,
            dropped=budget.note() if budget is not None else None,
        )

    @abstractmethod
    def _run(
        self, sql: str, *, limit: int | None, statement: Statement, budget: RowBudget | None = None
    ) -> tuple[tuple[str, ...], Sequence[Sequence[object]], bool]:
        """Run `sql` (already checked to be one read): its column names, at most `limit` rows as the
        driver returns them (fetch `limit + 1` to see truncation), and whether rows were cut.
        `statement.attach(...)` how to interrupt it once the driver runs it."""

    @abstractmethod
    def _explain(self, sql: str, *, statement: Statement) -> str:
        """Run the dialect's EXPLAIN (never EXPLAIN ANALYZE) of `sql` and return the plan as text."""

    async def atables(self) -> list[TableInfo]:
        return await anyio.to_thread.run_sync(self.tables)

    async def aquery(
        self, sql: str, *, limit: int | None = None, budget: RowBudget | None = None
    ) -> QueryResult:
        """`query` in a worker thread. Cancelled, it returns at once and interrupts the statement in the
        database (the thread ends as soon as the driver gives up); the caller sees the cancellation."""
        statement = Statement()
        query = functools.partial(self.query, sql, limit=limit, statement=statement, budget=budget)
        return await _interruptible(query, statement)

    async def aexplain(self, sql: str) -> str:
        statement = Statement()
        return await _interruptible(functools.partial(self.explain, sql, statement=statement), statement)

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


async def _interruptible(call: Callable[[], T], statement: Statement) -> T:
    try:
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        statement.cancel()  # returns at once: a daemon thread interrupts, needing no worker-thread token
        raise
