"""SQLite, PostgreSQL (and its wire-compatible kin) and MySQL through one pooled SQLAlchemy engine each.

Every session is read-only on the server's side too: SQLite opens the file with `mode=ro`, PostgreSQL
sessions default to read-only transactions and each transaction is started `READ ONLY`, MySQL sessions run
`SET SESSION TRANSACTION READ ONLY` when they connect.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import sqlalchemy
from sqlalchemy import URL, Engine, event
from sqlalchemy.engine.reflection import Inspector, ObjectKind
from sqlalchemy.exc import CompileError, DBAPIError, SQLAlchemyError

from oxy.databases._connector import Connector
from oxy.databases._interrupt import Statement
from oxy.databases._readonly import is_plain_query
from oxy.databases._types import Column, RowBudget, TableInfo, create_table_ddl, fetch_within
from oxy.errors import DatabaseError, RunCancelled

__all__ = ["SQLAlchemyConnector", "create_read_only_engine"]

_SYSTEM_SCHEMAS = frozenset(
    {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
)


def create_read_only_engine(url: URL) -> Engine:
    """A pooled engine whose sessions can't write, for the backends SQLAlchemy drives here."""
    backend = url.get_backend_name()
    options: dict[str, Any] = {}
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args = {"options": "-c default_transaction_read_only=on", "connect_timeout": 10}
        options = {"pool_pre_ping": True, "execution_options": {"postgresql_readonly": True}}
    elif backend == "mysql":
        connect_args = {"init_command": "SET SESSION TRANSACTION READ ONLY", "connect_timeout": 10}
        options = {"pool_pre_ping": True, "pool_recycle": 3600}
    engine = sqlalchemy.create_engine(url, connect_args=connect_args, **options)
    if backend == "sqlite":
        event.listen(engine, "connect", _lock_down_sqlite)
    return engine


def _lock_down_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Read-only at the driver too, should a statement get past the gate: no database may be attached
    (ATTACH would create a file) and `query_only` refuses every write."""
    dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    dbapi_connection.execute("PRAGMA query_only = ON")


class SQLAlchemyConnector(Connector):
    """One database behind a SQLAlchemy engine; the engine's pool makes it safe to share across threads."""

    def __init__(self, *, name: str, dialect: str, engine: Engine) -> None:
        super().__init__(name=name, dialect=dialect)
        self._engine = engine
        backend = engine.dialect.name
        self._backend = backend
        self._explain_prefix = "EXPLAIN QUERY PLAN" if backend == "sqlite" else "EXPLAIN"

    @property
    def engine(self) -> Engine:
        return self._engine

    def tables(self) -> list[TableInfo]:
        try:
            with self._engine.connect() as connection:
                inspector = sqlalchemy.inspect(connection)
                found: list[TableInfo] = []
                for schema in self._schemas(inspector):
                    found.extend(self._schema_tables(inspector, schema))
                return found
        except SQLAlchemyError as error:
            raise self._error(error) from error

    def _schemas(self, inspector: Inspector) -> list[str]:
        if self._backend != "postgresql":
            return [inspector.default_schema_name or "main"]
        return [
            schema
            for schema in inspector.get_schema_names()
            if schema not in _SYSTEM_SCHEMAS and not schema.startswith("pg_")
        ]

    def _schema_tables(self, inspector: Inspector, schema: str) -> list[TableInfo]:
        default = schema == inspector.default_schema_name
        reflected = inspector.get_multi_columns(schema=None if default else schema, kind=ObjectKind.ANY)
        tables: list[TableInfo] = []
        for (_, table), columns in sorted(reflected.items(), key=lambda item: item[0][1]):
            described = tuple(
                Column(name=column["name"], type=self._type_name(column["type"])) for column in columns
            )
            ddl = create_table_ddl(None if default else schema, table, described, dialect=self.dialect)
            tables.append(TableInfo(schema=schema, name=table, columns=described, ddl=ddl))
        return tables

    def _type_name(self, type_: Any) -> str:
        try:
            return str(type_.compile(dialect=self._engine.dialect))
        except CompileError:  # SQLite columns declared without a type
            return ""

    def _explain(self, sql: str, *, statement: Statement) -> str:
        columns, rows, _ = self._run(f"{self._explain_prefix} {sql}", limit=None, statement=statement)
        if len(columns) == 1 or self._backend == "sqlite":
            return "\n".join(str(row[-1]) for row in rows)
        return "\n".join(
            "  ".join(f"{name}={value}" for name, value in zip(columns, row, strict=True)) for row in rows
        )

    def _run(
        self, sql: str, *, limit: int | None, statement: Statement, budget: RowBudget | None = None
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]], bool]:
        try:
            with self._engine.connect() as connection:
                statement.attach(self._interrupter(connection))
                try:
                    # `no_parameters`: the SQL goes to the driver untouched (`%`, `:name` are no placeholders).
                    connection = connection.execution_options(
                        no_parameters=True, stream_results=self._streams(sql, limit=limit)
                    )
                    result = connection.exec_driver_sql(sql)
                    if not result.returns_rows:
                        return (), [], False
                    columns = tuple(result.keys())
                    rows, truncated = fetch_within(result.fetchmany, limit=limit, budget=budget)
                    result.close()
                finally:
                    statement.detach()  # before the connection goes back to the pool: no stray interrupt
        except SQLAlchemyError as error:
            if statement.cancelled:
                raise RunCancelled(f"{self.label}: the query was interrupted.") from None
            raise self._error(error) from error
        return columns, rows, truncated

    def _interrupter(self, connection: sqlalchemy.Connection) -> Callable[[], None]:
        """How to stop the statement this connection runs, from another thread: SQLite's
        `interrupt()`, PostgreSQL's cancel request, MySQL's `KILL QUERY` from a second connection."""
        raw: Any = connection.connection.driver_connection
        if self._backend == "mysql":
            thread_id = int(raw.thread_id())
            engine = self._engine

            def kill() -> None:
                with engine.connect() as other:
                    other.exec_driver_sql(f"KILL QUERY {thread_id}")

            return kill
        if self._backend == "postgresql":
            return raw.cancel
        return raw.interrupt

    def _streams(self, sql: str, *, limit: int | None) -> bool:
        """Stream from the server when only the first rows are wanted, so the rest are never sent.

        Postgres streams through a server-side cursor, which only takes SELECT and VALUES queries.
        """
        if limit is None or self._backend not in ("postgresql", "mysql"):
            return False
        return self._backend == "mysql" or is_plain_query(sql, dialect=self.dialect)

    def _error(self, error: SQLAlchemyError) -> DatabaseError:
        """The database's own words: the driver's message, without SQLAlchemy's wrapping."""
        message = str(error.orig) if isinstance(error, DBAPIError) and error.orig is not None else str(error)
        return DatabaseError(f"{self.label}: {message.strip()}")

    def close(self) -> None:
        self.interrupt_all()
        self._engine.dispose()
