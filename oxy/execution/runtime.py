"""`RuntimeHandle`: what a run may use besides its input, as every step sees it (`ctx.runtime`).

The loaded project, its databases, the template renderer, its model clients and its run store. The
application layer (`oxy.application.Runtime`) builds one per project per process, adds what belongs
above this layer (extra toolsets), and hands it to every run it starts; tools, tasks and agents reach
it through `ctx.runtime`, typed, without importing anything above the execution layer.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from oxy.errors import ConfigError
from oxy.execution.templates import Renderer

if TYPE_CHECKING:
    from oxy.config import Project
    from oxy.config.databases import DatabaseConfig
    from oxy.config.models import ModelConfig
    from oxy.databases import Databases
    from oxy.models.client import ModelClient
    from oxy.storage import Store

__all__ = ["RuntimeHandle"]

T = TypeVar("T")


@dataclass(kw_only=True, eq=False)
class RuntimeHandle:
    """A project as its runs see it. Shared by every run of the project in the process."""

    project: Project
    databases: Databases
    renderer: Renderer
    models: Mapping[str, ModelClient] = field(default_factory=dict[str, "ModelClient"])
    """Ready model clients by model name; they win over config.yml's entry of that name (tests, embedding)."""
    store_url: str | None = None
    """The run store's URL; `None` means `$OXY_DATABASE_URL`, then `<root>/.oxy/oxy.db`."""
    _store: Store | None = field(default=None, repr=False)
    _store_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _kept: dict[int, Any] = field(default_factory=dict[int, Any], repr=False)
    _kept_stack: AsyncExitStack = field(default_factory=AsyncExitStack, repr=False)
    _kept_lock: anyio.Lock = field(default_factory=anyio.Lock, repr=False)

    @property
    def root(self) -> Path:
        return self.project.root

    def database_config(self, name: str, *, file: str | None = None) -> DatabaseConfig:
        """The database called `name`; a `ConfigError` listing the known names if there is none."""
        config = self.project.config.database(name)
        if config is None:
            known = ", ".join(self.project.config.database_names) or "none"
            raise ConfigError(f"Database {name!r} not found in config.yml; known: {known}", file=file)
        return config

    def model_config(self, name: str, *, file: str | None = None) -> ModelConfig:
        """The model called `name`; a `ConfigError` listing the known names if there is none."""
        config = self.project.config.model(name)
        if config is None:
            known = ", ".join(self.project.config.model_names) or "none"
            raise ConfigError(f"Model {name!r} not found in config.yml; known: {known}", file=file)
        return config

    def model_client(self, name: str, *, file: str | None = None) -> ModelClient:
        """The client for model `name`: a given one, else the process-wide client for its config."""
        given = self.models.get(name)
        if given is not None:
            return given
        from oxy.models import client_for  # clients import their SDKs; only a run that asks pays for it

        return client_for(self.model_config(name, file=file), project_root=self.root)

    def default_database(self, *, file: str | None = None) -> str:
        """`defaults.database`, or the only database; otherwise a `ConfigError` saying how to pick one."""
        defaults = self.project.config.defaults
        if defaults is not None and defaults.database:
            return defaults.database
        names = self.project.config.database_names
        if len(names) == 1:
            return names[0]
        if not names:
            raise ConfigError("config.yml declares no databases; add one under `databases:`", file=file)
        raise ConfigError(
            f"no database given and config.yml sets no `defaults.database`; pass --database (one of: {', '.join(names)})",
            file=file,
        )

    def store(self) -> Store:
        """The project's run store, opened (and migrated) on first use and kept until `close()`.

        Blocking: call it from a worker thread in async code (`anyio.to_thread.run_sync`)."""
        with self._store_lock:
            if self._store is None:
                from oxy.storage import Store  # SQLAlchemy and alembic: only runs that record pay for them

                self._store = Store.open(self.store_url, project_root=self.root)
            return self._store

    async def keep_open(self, resource: AbstractAsyncContextManager[T]) -> T:
        """Enter `resource` once for the life of this runtime (later calls return the same value);
        `aclose()` leaves it. For connections too costly to open per run: MCP servers, language servers."""
        key = id(resource)
        async with self._kept_lock:
            if key not in self._kept:
                self._kept[key] = await self._kept_stack.enter_async_context(resource)
            return self._kept[key]

    async def aclose(self) -> None:
        """Close what `keep_open` opened (last opened, first closed), then the databases and the store."""
        try:
            async with self._kept_lock:
                self._kept.clear()
                await self._kept_stack.aclose()
        finally:
            await anyio.to_thread.run_sync(self.close)

    def close(self) -> None:
        """Close the databases and the run store (blocking)."""
        self.databases.close_all()
        with self._store_lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()
