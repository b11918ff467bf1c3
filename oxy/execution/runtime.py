"""`RuntimeHandle`: what a run may use besides its input, as every step sees it (`ctx.runtime`).

The loaded project, its databases, the template renderer, its model clients and its run store. The
application layer (`oxy.application.Runtime`) builds one per project per process, adds what belongs
above this layer (extra toolsets), and hands it to every run it starts; tools, tasks and agents reach
it through `ctx.runtime`, typed, without importing anything above the execution layer.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import anyio
import anyio.abc

from oxy.errors import ConfigError, RunError
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
    stdio_mcp: bool = True
    """Whether runs may start stdio MCP servers (`oxy serve --no-stdio-mcp` turns it off)."""
    _store: Store | None = field(default=None, repr=False)
    _owns_store: bool = field(default=True, repr=False)
    _store_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _kept: dict[Hashable, Any] = field(default_factory=dict[Hashable, Any], repr=False)
    _opening: dict[Hashable, _Opening] = field(default_factory=dict[Hashable, "_Opening"], repr=False)
    _holder: _Holder | None = field(default=None, repr=False)

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

                self._store = Store.open(project_root=self.root)  # $OXY_DATABASE_URL, else .oxy/oxy.db
            return self._store

    @property
    def is_open(self) -> bool:
        """Whether the runtime was entered (`async with runtime:`), so it can hold resources for the process."""
        return self._holder is not None

    async def __aenter__(self) -> Self:
        """Start the task that holds process-lifetime resources until `aclose()`."""
        if self._holder is None:
            self._holder = _Holder()
            await self._holder.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def keep_open(self, resource: AbstractAsyncContextManager[T], *, key: Hashable | None = None) -> T:
        """Enter `resource` once for the life of this runtime and return what it gave (a later call with
        the same `key`, default the object itself, returns that too); `aclose()` leaves it. For
        connections too costly to open per run: MCP servers, language servers.

        The resource is entered and left in the runtime's own task, never in a run's: one that holds a
        task group outlives the run that first asked for it. The runtime must be open (`async with`)."""
        holder = self._holder
        if holder is None:
            raise RuntimeError("keep_open needs an open runtime: `async with runtime:` around its runs")
        key = id(resource) if key is None else key
        if key in self._kept:
            return self._kept[key]
        opening = self._opening.get(key)
        if opening is not None:  # another run is opening it: share its outcome, success or failure
            return await opening.result()
        self._opening[key] = opening = _Opening()
        try:
            value = await holder.hold(resource)
        except BaseException as exc:
            opening.fail(exc)
            raise
        else:
            self._kept[key] = value
            opening.succeed(value)
            return value
        finally:
            self._opening.pop(key, None)

    def discard(self, key: Hashable) -> None:
        """Forget what `keep_open` holds for `key` (it broke: a server that died), so that the next
        call opens it again; the broken one is still left when the runtime closes."""
        self._kept.pop(key, None)

    def kept(self, kind: type[T]) -> list[T]:
        """What `keep_open` holds of type `kind` (e.g. every workspace's services)."""
        return [value for value in self._kept.values() if isinstance(value, kind)]

    async def aclose(self) -> None:
        """Leave what `keep_open` entered, then close the databases and the store. Call it from the task
        that entered the runtime."""
        holder, self._holder = self._holder, None
        try:
            if holder is not None:
                self._kept.clear()
                await holder.stop()  # its task group exits here, in the task that entered the runtime
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self.close)

    def use_store(self, store: Store) -> None:
        """Share a store the caller opened (and will close), rather than opening one."""
        with self._store_lock:
            self._store, self._owns_store = store, False

    def close(self) -> None:
        """Close the databases and the run store (blocking)."""
        self.databases.close_all()
        with self._store_lock:
            store, self._store = self._store, None
            owned, self._owns_store = self._owns_store, True
        if store is not None and owned:
            store.close()


class _Opening:
    """A resource being opened by one run, whose outcome other runs asking for it wait for: one slow or
    failing server costs one attempt, not one per run, and never holds up other resources."""

    def __init__(self) -> None:
        self._done = anyio.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def succeed(self, value: Any) -> None:
        self._value = value
        self._done.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    async def result(self) -> Any:
        await self._done.wait()
        if self._error is not None:
            if isinstance(self._error, Exception):
                raise self._error
            raise RunError(
                "the run that was opening a shared resource (an MCP server) was cancelled; try again"
            )
        return self._value


class _Holder:
    """A task group of its own that enters resources and keeps them entered until `stop()`."""

    def __init__(self) -> None:
        self._closing = anyio.Event()
        self._group = anyio.create_task_group()

    async def start(self) -> None:
        await self._group.__aenter__()

    async def hold(self, resource: AbstractAsyncContextManager[T]) -> T:
        closing = self._closing

        async def keep(*, task_status: anyio.abc.TaskStatus[T]) -> None:
            async with resource as value:
                task_status.started(value)
                await closing.wait()

        value: T = await self._group.start(keep)
        return value

    async def stop(self) -> None:
        self._closing.set()
        await self._group.__aexit__(None, None, None)
