"""DuckDB over a `.duckdb` file or a folder of CSV/Parquet/JSON files, read-only either way.

A folder (`dataset:`) is loaded once into a private DuckDB file in a temporary directory: one table per
file stem (`orders.csv` → `orders`), plus a view named after the file itself so Oxy-style queries
(`FROM 'orders.csv'`) keep working. That file is then reopened read-only, like a `path:` database, with
file access switched off and the configuration locked, so no statement can write anywhere.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import duckdb

from oxy.databases._connector import Connector
from oxy.databases._interrupt import Statement
from oxy.databases._types import Column, RowBudget, TableInfo, create_table_ddl, fetch_within
from oxy.errors import DatabaseError, RunCancelled

__all__ = ["DuckDBConnector"]

_READERS = {
    ".csv": "read_csv_auto",
    ".tsv": "read_csv_auto",
    ".parquet": "read_parquet",
    ".json": "read_json_auto",
    ".jsonl": "read_json_auto",
    ".ndjson": "read_json_auto",
}

_LOCKDOWN = {"enable_external_access": False, "autoload_known_extensions": False, "lock_configuration": True}

_COLUMNS_SQL = """
SELECT schema_name, table_name, column_name, data_type
FROM duckdb_columns()
WHERE database_name = current_database() AND NOT internal
ORDER BY schema_name, table_name, column_index
"""


class DuckDBConnector(Connector):
    """One read-only DuckDB database; each query runs on its own cursor, so threads may share it."""

    def __init__(
        self, *, name: str, connection: duckdb.DuckDBPyConnection, cleanup: Path | None = None
    ) -> None:
        super().__init__(name=name, dialect="duckdb")
        self._connection: duckdb.DuckDBPyConnection | None = connection
        self._cleanup = cleanup
        self._sources: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def open_file(cls, *, name: str, path: Path) -> DuckDBConnector:
        """Open an existing `.duckdb` file read-only."""
        if not path.is_file():
            raise DatabaseError(f"{name} (duckdb): no database file at {str(path)!r}.")
        try:
            connection = duckdb.connect(str(path), read_only=True, config=dict(_LOCKDOWN))
        except duckdb.Error as error:
            raise DatabaseError(f"{name} (duckdb): could not open {str(path)!r}: {error}") from error
        return cls(name=name, connection=connection)

    @classmethod
    def open_dataset(cls, *, name: str, folder: Path) -> DuckDBConnector:
        """Load every CSV/Parquet/JSON file directly in `folder` and serve them read-only."""
        if not folder.is_dir():
            raise DatabaseError(f"{name} (duckdb): the dataset folder {str(folder)!r} does not exist.")
        files = sorted(
            path for path in folder.iterdir() if path.suffix.lower() in _READERS and path.is_file()
        )
        workdir = Path(tempfile.mkdtemp(prefix="oxy-duckdb-"))
        database = workdir / f"{name}.duckdb"
        sources: dict[str, str] = {}
        try:
            with duckdb.connect(str(database)) as loader:
                for file in files:
                    sources.update(_load(loader, file, taken=sources))
            connection = duckdb.connect(str(database), read_only=True, config=dict(_LOCKDOWN))
        except duckdb.Error as error:
            shutil.rmtree(workdir, ignore_errors=True)
            raise DatabaseError(f"{name} (duckdb): could not load {str(folder)!r}: {error}") from error
        connector = cls(name=name, connection=connection, cleanup=workdir)
        connector._sources = sources
        return connector

    def tables(self) -> list[TableInfo]:
        file_views = set(self._sources.values())
        grouped: dict[tuple[str, str], list[Column]] = {}
        for schema, table, column, data_type in self._run(_COLUMNS_SQL, limit=None)[1]:
            if schema == "main" and table in file_views:
                continue  # the `'orders.csv'` alias of `orders`
            grouped.setdefault((str(schema), str(table)), []).append(
                Column(name=str(column), type=str(data_type))
            )
        return [
            TableInfo(
                schema=schema,
                name=table,
                columns=tuple(columns),
                ddl=create_table_ddl(
                    None if schema == "main" else schema,
                    table,
                    columns,
                    dialect=self.dialect,
                    comment=self._sources.get(table) if schema == "main" else None,
                ),
            )
            for (schema, table), columns in grouped.items()
        ]

    def _explain(self, sql: str, *, statement: Statement) -> str:
        _, rows, _ = self._run(f"EXPLAIN {sql}", limit=None, statement=statement)
        return "\n".join(str(row[-1]) for row in rows)

    def _run(
        self,
        sql: str,
        *,
        limit: int | None,
        statement: Statement | None = None,
        budget: RowBudget | None = None,
    ) -> tuple[tuple[str, ...], list[tuple[object, ...]], bool]:
        with self._lock:
            if self._connection is None:
                raise DatabaseError(f"{self.label}: the connection is closed.")
            cursor = self._connection.cursor()
        try:
            if statement is not None:
                statement.attach(cursor.interrupt)
            cursor.execute(sql)
            columns = tuple(str(item[0]) for item in cursor.description or ())
            rows, truncated = fetch_within(cursor.fetchmany, limit=limit, budget=budget)
        except duckdb.InterruptException:
            raise RunCancelled(f"{self.label}: the query was interrupted.") from None
        except duckdb.Error as error:
            raise DatabaseError(f"{self.label}: {error}") from error
        finally:
            if statement is not None:
                statement.detach()
            cursor.close()
        return columns, rows, truncated

    def close(self) -> None:
        # A query still running (its run was cancelled) is interrupted first: closing a busy
        # connection fails, and would leave the dataset's temporary folder behind.
        self.interrupt_all()
        with self._lock:
            connection, self._connection = self._connection, None
        try:
            if connection is not None:
                connection.close()
        finally:
            if self._cleanup is not None:
                shutil.rmtree(self._cleanup, ignore_errors=True)
                self._cleanup = None


def _load(loader: duckdb.DuckDBPyConnection, file: Path, *, taken: dict[str, str]) -> dict[str, str]:
    """Create table `<stem>` from `file` (unless another file took that name) and view `'<file name>'`."""
    reader = _READERS[file.suffix.lower()]
    source = f"{reader}({_literal(str(file.resolve()))})"
    view = _identifier(file.name)
    if file.stem in taken or file.stem == file.name:
        loader.execute(f"CREATE TABLE {view} AS SELECT * FROM {source}")
        return {}
    loader.execute(f"CREATE TABLE {_identifier(file.stem)} AS SELECT * FROM {source}")
    loader.execute(f"CREATE VIEW {view} AS SELECT * FROM {_identifier(file.stem)}")
    return {file.stem: file.name}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
