"""`open_database`: the connector for a config entry, or `NotSupported` saying what to do instead.

Connectors are opened by the config's `type`: `@connector_type("duckdb")` registers an opener. The
built-in openers live here rather than beside their connectors so that registering them imports no
driver: each imports its connector module (DuckDB, SQLAlchemy) only when a database of its kind opens.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from oxy.config._paths import confine
from oxy.config.databases import (
    AirhouseDatabase,
    DatabaseConfig,
    DuckDBDatabase,
    MySQLDatabase,
    PostgresDatabase,
    RedshiftDatabase,
    SQLiteDatabase,
)
from oxy.config.loader import CONFIG_FILE
from oxy.config.plugins import load_plugins
from oxy.databases._connector import Connector
from oxy.errors import DatabaseError, NotSupported

# Each driver stack is imported when a database of its kind is opened: SQLAlchemy alone costs
# ~0.2 s, DuckDB ~0.1 s, and a run touches only the databases its templates and tools name.

__all__ = ["connector_type", "open_database"]

_DRIVER_EXTRAS = {"postgres": ("psycopg", "postgres"), "mysql": ("pymysql", "mysql")}


ConfigT = TypeVar("ConfigT")
Opener = Callable[[Any, Path], Connector]
_OPENERS: dict[str, Opener] = {}
_plugins_loaded = False


def connector_type(
    *types: str,
) -> Callable[[Callable[[ConfigT, Path], Connector]], Callable[[ConfigT, Path], Connector]]:
    """Register the decorated `(config, project_root) -> Connector` as the opener of database `types`.

    Other packages register theirs through the `oxy.databases` entry-point group."""

    def register(opener: Callable[[ConfigT, Path], Connector]) -> Callable[[ConfigT, Path], Connector]:
        for kind in types:
            _OPENERS[kind] = opener
        return opener

    return register


def open_database(config: DatabaseConfig, *, project_root: Path) -> Connector:
    """Open `config` read-only; relative paths are relative to `project_root`.

    DuckDB folders are loaded here (it may take a moment); server databases connect on first use.
    """
    opener = _OPENERS.get(config.type)
    if opener is None and not _load_plugins():
        opener = _OPENERS.get(config.type)
    if opener is None:
        known = ", ".join(sorted(_OPENERS))
        raise NotSupported(
            f"Database {config.name!r}: type {config.type!r} is not supported yet; oxy runs {known} databases."
        )
    return opener(config, project_root)


def database_types() -> frozenset[str]:
    """Every `type:` oxy can open here: its own and those plugins register."""
    _load_plugins()
    return frozenset(_OPENERS)


def _load_plugins() -> bool:
    """Load the `oxy.databases` entry points once; whether they were loaded before."""
    global _plugins_loaded
    if _plugins_loaded:
        return True
    _plugins_loaded = True
    load_plugins("oxy.databases")
    return False


@connector_type("duckdb")
def _duckdb(config: DuckDBDatabase, project_root: Path) -> Connector:
    # lazy: a driver stack loads when a database of its kind opens
    from oxy.databases._duckdb import DuckDBConnector

    if config.dataset is not None:
        folder = _dataset_folder(project_root, config.dataset, name=config.name)
        return DuckDBConnector.open_dataset(name=config.name, folder=folder)
    if config.path is not None:
        path = _confine(project_root, config.path, name=config.name, key="path")
        return DuckDBConnector.open_file(name=config.name, path=path)
    raise NotSupported(
        f"Database {config.name!r}: DuckLake (duckdb with 'data_path') is not supported yet; "
        "point 'path' at a .duckdb file or 'dataset' at a folder of CSV/Parquet files."
    )


@connector_type("sqlite")
def _sqlite(config: SQLiteDatabase, project_root: Path) -> Connector:
    return _open_sqlite(config.name, _confine(project_root, config.path, name=config.name, key="path"))


@connector_type("postgres", "redshift", "airhouse", "mysql")
def _server(
    config: PostgresDatabase | RedshiftDatabase | AirhouseDatabase | MySQLDatabase, project_root: Path
) -> Connector:
    # lazy: a driver stack loads when a database of its kind opens
    from oxy.databases._sqlalchemy import SQLAlchemyConnector, create_read_only_engine
    from oxy.databases._urls import server_url  # lazy: a driver stack loads when a database of its kind opens

    _require_driver(config.name, "mysql" if isinstance(config, MySQLDatabase) else "postgres")
    engine = create_read_only_engine(server_url(config))
    return SQLAlchemyConnector(name=config.name, dialect=config.dialect, engine=engine)


def _confine(root: Path, ref: str, *, name: str, key: str) -> Path:

    return confine(root, ref, what=f"database {name!r}: {key}", file=CONFIG_FILE)


def _dataset_folder(root: Path, dataset: str, *, name: str) -> Path:
    """The folder, inside the project; so is every file in it (a link in it may not lead out either)."""
    folder = _confine(root, dataset, name=name, key="dataset")
    if folder.is_dir():
        base = root.resolve()
        for entry in folder.iterdir():
            _confine(base, entry.relative_to(base).as_posix(), name=name, key="dataset file")
    return folder


def _open_sqlite(name: str, path: Path) -> Connector:
    # lazy: a driver stack loads when a database of its kind opens
    from oxy.databases._sqlalchemy import SQLAlchemyConnector, create_read_only_engine
    from oxy.databases._urls import sqlite_url  # lazy: a driver stack loads when a database of its kind opens

    if not path.is_file():
        raise DatabaseError(f"{name} (sqlite): no database file at {str(path)!r}.")
    return SQLAlchemyConnector(name=name, dialect="sqlite", engine=create_read_only_engine(sqlite_url(path)))


def _require_driver(name: str, family: str) -> None:
    module, extra = _DRIVER_EXTRAS[family]
    if importlib.util.find_spec(module) is None:
        raise NotSupported(
            f"Database {name!r} needs the {module!r} driver: pip install 'oxy-engine[{extra}]'."
        )
