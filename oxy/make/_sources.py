"""What `--from` points at, staged the way the project will hold it, and what its tables look like."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from oxy.config.databases import DuckDBDatabase
from oxy.databases import Connector, open_database
from oxy.errors import ConfigError

__all__ = ["DATA_SUFFIXES", "Column", "Staged", "Table", "stage"]

DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".json", ".jsonl", ".ndjson")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
DATA_DIR = "data"
SAMPLE_ROWS = 3


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    sample: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]

    @property
    def sql_name(self) -> str:
        """How a query names it: `"orders"`, or `"sales"."orders"` outside DuckDB's `main` schema."""
        quoted = _identifier(self.name)
        return quoted if self.schema == "main" else f"{_identifier(self.schema)}.{quoted}"

    @property
    def slug(self) -> str:
        """A file and template name: `orders`, `sales_orders`."""
        raw = self.name if self.schema == "main" else f"{self.schema}_{self.name}"
        slug = "".join(c if c.isalnum() or c == "_" else "_" for c in raw).strip("_") or "table"
        return f"t_{slug}" if slug[0].isdigit() else slug


@dataclass(frozen=True, slots=True)
class Staged:
    """The data as the project will hold it: files to copy (source → project path), the database entry."""

    copies: tuple[tuple[Path, str], ...]
    database: dict[str, Any]
    tables: tuple[Table, ...]


def stage(source: Path, *, database: str) -> Staged:
    """Look at `source` (a data file, a folder of them, or a `.duckdb` file) and describe its tables."""

    source = source.resolve()
    if not source.exists():
        raise ConfigError(f"--from {str(source)!r}: no such file or folder")
    if source.is_file() and source.suffix.lower() in DUCKDB_SUFFIXES:
        target = f"{DATA_DIR}/{source.name}"
        entry = {"name": database, "type": "duckdb", "path": target}
        config = DuckDBDatabase.model_validate({"name": database, "type": "duckdb", "path": str(source)})
        copies = ((source, target),)
    else:
        files = _data_files(source)
        copies = tuple((file, f"{DATA_DIR}/{file.name}") for file in files)
        entry = {"name": database, "type": "duckdb", "dataset": f"{DATA_DIR}/"}
        config = None
    if config is not None:
        connector = open_database(config, project_root=source.parent)
        with connector:
            tables = _describe(connector)
    else:
        tables = _describe_files([file for file, _ in copies], database=database)
    if not tables:
        raise ConfigError(f"--from {str(source)!r}: found no tables in it")
    return Staged(copies=copies, database=entry, tables=tuple(tables))


def _data_files(source: Path) -> list[Path]:
    kinds = ", ".join(DATA_SUFFIXES + DUCKDB_SUFFIXES)
    if source.is_file():
        if source.suffix.lower() not in DATA_SUFFIXES:
            raise ConfigError(f"--from {str(source)!r}: expected a data file ({kinds}) or a folder of them")
        return [source]
    files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in DATA_SUFFIXES)
    if not files:
        raise ConfigError(
            f"--from {str(source)!r}: the folder holds no data files ({', '.join(DATA_SUFFIXES)})"
        )
    return files


def _describe_files(files: list[Path], *, database: str) -> list[Table]:
    """Load the files as the project's dataset will (one table per file stem) and describe them."""

    from oxy.databases._duckdb import DuckDBConnector  # lazy: DuckDB loads only to read a .duckdb source

    with tempfile.TemporaryDirectory(prefix="oxy-make-") as folder:
        for file in files:
            shutil.copy2(file, Path(folder) / file.name)
        with DuckDBConnector.open_dataset(name=database, folder=Path(folder)) as connector:
            return _describe(connector)


def _describe(connector: Connector) -> list[Table]:
    tables: list[Table] = []
    for info in connector.tables():
        table = Table(schema=info.schema, name=info.name, columns=())
        result = connector.query(f"SELECT * FROM {table.sql_name}", limit=SAMPLE_ROWS * 4)
        columns: list[Column] = []
        for index, column in enumerate(info.columns):
            values = [row[index] for row in result.rows if row[index] is not None]
            sample = tuple(dict.fromkeys(_sample(v) for v in values))[:SAMPLE_ROWS]
            columns.append(Column(name=column.name, type=column.type, sample=sample))
        tables.append(Table(schema=info.schema, name=info.name, columns=tuple(columns)))
    return tables


def _sample(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _identifier(name: str) -> str:
    """`name` as DuckDB reads it: bare when it can be, quoted when it is a keyword of DuckDB's (`pivot`,
    `describe`, `window`, ...) or not a plain identifier."""
    return exp.to_identifier(name).sql(dialect="duckdb")
