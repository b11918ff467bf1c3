"""`Databases`: a project's databases by name, each opened on first use and closed together."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio.to_thread

from oxy.config.databases import DatabaseConfig
from oxy.databases._connector import Connector
from oxy.databases._open import open_database
from oxy.databases._types import TableInfo
from oxy.errors import DatabaseError

__all__ = ["Databases"]


class Databases:
    """The databases a project declares. Nothing connects until `get` names a database.

    Safe to share between threads and tasks: each database is opened once, under a lock.
    """

    def __init__(self, configs: Iterable[DatabaseConfig], *, project_root: Path) -> None:
        self._configs: dict[str, DatabaseConfig] = {}
        for config in configs:
            if config.name in self._configs:
                raise DatabaseError(f"Two databases are named {config.name!r}; names must be unique.")
            self._configs[config.name] = config
        self._project_root = project_root
        self._tables: dict[str, list[TableInfo]] = {}
        self._open: dict[str, Connector] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self._configs)

    def __contains__(self, name: object) -> bool:
        return name in self._configs

    def config(self, name: str) -> DatabaseConfig:
        """The config entry for `name`; `DatabaseError` naming the closest known name if there is none."""
        try:
            return self._configs[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._configs, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; known: {', '.join(map(repr, self._configs))}."
            )
            raise DatabaseError(f"No database named {name!r} in config.yml{hint}") from None

    def dialect(self, name: str) -> str:
        """The sqlglot dialect of `name`, without connecting."""
        return self.config(name).dialect

    def get(self, name: str) -> Connector:
        """The connector for `name`, opened on first use (blocking; see `aget`)."""
        config = self.config(name)
        with self._lock:
            if name not in self._open:
                self._open[name] = open_database(config, project_root=self._project_root)
            return self._open[name]

    def tables(self, name: str) -> list[TableInfo]:
        """`name`'s tables, read once (templates' `{{ databases.X.schema }}` and the SQL grammar of
        local models share the read; a schema change needs a restart, as the prompts it went into do)."""
        tables = self._tables.get(name)
        if tables is None:
            tables = self._tables[name] = self.get(name).tables()
        return tables

    async def aget(self, name: str) -> Connector:
        if name in self._open:
            return self._open[name]
        return await anyio.to_thread.run_sync(self.get, name)

    def close_all(self) -> None:
        with self._lock:
            connectors, self._open = list(self._open.values()), {}
        for connector in connectors:
            connector.close()

    async def aclose_all(self) -> None:
        await anyio.to_thread.run_sync(self.close_all)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close_all()
