"""`Server`: what one process holds while it serves a project, opened and closed by the app's lifespan.

One `Runtime` per project per process (config.yml read once), one run store, one key store, one
`RunManager` whose task group runs every run.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup
from fastapi import Request

from oxy.application.runtime import Runtime
from oxy.config import load_project
from oxy.errors import OxyError
from oxy.models import aclose_clients
from oxy.serve._auth import LOCAL, Authenticator, Principal
from oxy.serve._catalog import Catalog
from oxy.serve._errors import ApiError
from oxy.serve._limits import RateLimiter
from oxy.serve._runs import RunManager
from oxy.serve._settings import ServeSettings
from oxy.storage import AsyncStore, KeyStore, StoreWriter

if TYPE_CHECKING:
    from oxy.models.serving import ModelFleet

log = logging.getLogger("oxy.serve")
T = TypeVar("T")


def _on_shutdown_signal(begin: Callable[[], None]) -> Callable[[], None]:
    """Call `begin` on the event loop when SIGINT or SIGTERM arrives, then whatever handled the signal
    before (uvicorn's graceful shutdown). Returns how to put the previous handlers back. Only the main
    thread can install handlers: elsewhere (a server in a test's thread) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()  # uvicorn runs the app on asyncio
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(begin)
        before = previous.get(signal.Signals(signum))
        if callable(before):
            before(signum, frame)

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, before)

    return restore


def _load(settings: ServeSettings) -> tuple[Runtime, Catalog]:

    runtime = Runtime.for_project(load_project(settings.project), stdio_mcp=settings.stdio_mcp)
    return runtime, Catalog.scan(runtime.project)


class Server:
    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.limiter = RateLimiter(rate=settings.rate_per_s, burst=settings.rate_burst)
        self._runtime: Runtime | None = None
        self._catalog: Catalog | None = None
        self._store: AsyncStore | None = None
        self._keys: KeyStore | None = None
        self._auth: Authenticator | None = None
        self._manager: RunManager | None = None
        self._writer: StoreWriter | None = None
        self._restore_signals: Callable[[], None] = lambda: None
        self._fleet: ModelFleet | None = None

    async def start(self, task_group: TaskGroup) -> None:
        settings = self.settings
        runtime, catalog = await anyio.to_thread.run_sync(partial(_load, settings))
        root = runtime.root
        try:
            store = await AsyncStore.open(settings.database_url, project_root=root)
            keys = await anyio.to_thread.run_sync(
                partial(KeyStore.open, settings.database_url, project_root=root)
            )
        except BaseException:
            runtime.close()
            raise
        runtime.use_store(store.sync)  # tools reach the server's store through ctx.runtime
        if settings.with_models:
            try:
                await self._start_models(runtime)
            except BaseException:
                runtime.close()
                await store.close()
                keys.close()
                raise
        await runtime.__aenter__()  # holds process-lifetime toolsets until stop()
        self._runtime, self._catalog, self._store, self._keys = runtime, catalog, store, keys
        self._auth = Authenticator(keys, ttl_s=settings.key_cache_s)
        self._writer = writer = StoreWriter(store)
        task_group.start_soon(writer.run)
        self._manager = RunManager(
            runtime=runtime, store=store, writer=writer, settings=settings, task_group=task_group
        )
        self._restore_signals = _on_shutdown_signal(self._begin_shutdown)
        log.info("serving %s (%d agents, %d workflows)", root, len(catalog.agents), len(catalog.workflows))

    async def _start_models(self, runtime: Runtime) -> None:
        from oxy.models.serving import ModelFleet, served_models  # lazy: only --with-models needs it

        fleet = ModelFleet(
            served_models(runtime.project.config.models),
            project_root=runtime.root,
            on_line=lambda line: log.info("%s", line),
        )
        self._fleet = await fleet.__aenter__()

    def models_status(self) -> dict[str, object] | None:
        """The model servers this server started (`--with-models`): each one's state; None without them."""
        fleet = self._fleet
        if fleet is None:
            return None
        status: dict[str, object] = {
            name: {"state": s.state, "pid": s.pid, "restarts": s.restarts, "error": s.error}
            for name, s in fleet.servers.items()
        }
        status.update({name: {"state": "ready", "reused": True} for name in fleet.reused})
        return status

    def _begin_shutdown(self) -> None:
        """SIGINT or SIGTERM: stop the runs at once, so their clients get a final event and their
        connections close within uvicorn's grace period (it waits for connections before shutting down)."""
        if self._manager is not None:
            self._manager.cancel_all("The server shut down before the run finished.")

    async def stop(self) -> None:
        self._restore_signals()
        if self._manager is not None:
            with anyio.CancelScope(shield=True):
                await self._manager.shutdown()
        if self._writer is not None:
            with anyio.CancelScope(shield=True):
                await self._writer.aclose()
        if self._runtime is not None:
            # Not under a shield scope: the runtime's own task group exits here, as it was entered.
            await self._runtime.aclose()
        fleet, self._fleet = self._fleet, None
        if fleet is not None:  # after the runs: none of them is still talking to a model
            await fleet.__aexit__(None, None, None)
        await aclose_clients()
        if self._store is not None:
            await self._store.close()
        if self._keys is not None:
            self._keys.close()

    def _started(self, value: T | None) -> T:
        if value is None:
            raise ApiError(503, "The server is still starting; try again shortly.")
        return value

    @property
    def runtime(self) -> Runtime:
        return self._started(self._runtime)

    @property
    def catalog(self) -> Catalog:
        return self._started(self._catalog)

    @property
    def store(self) -> AsyncStore:
        return self._started(self._store)

    @property
    def manager(self) -> RunManager:
        return self._started(self._manager)

    async def settled(self) -> AsyncStore:
        """The store, once every write queued so far is committed (so a read sees this process's runs)."""
        await self._started(self._writer).flush()
        return self.store

    def guards(self) -> tuple[Authenticator, RateLimiter]:
        return self._started(self._auth), self.limiter

    async def ready(self) -> str | None:
        """None when config is loaded and the store answers; else why not."""
        if self._manager is None:
            return "The server is still starting."
        if self._fleet is not None and self._fleet.problems():
            return "Model servers not ready: " + "; ".join(self._fleet.problems())
        try:
            with anyio.fail_after(3):
                await self.store.list_runs(tenant=LOCAL.tenant, limit=1)
        except TimeoutError:
            return "The run store did not answer within 3 s."
        except OxyError as exc:
            return f"The run store is not reachable: {exc}"
        return None


def server_of(request: Request) -> Server:
    server = request.app.state.oxy
    assert isinstance(server, Server)
    return server


def principal_of(request: Request) -> Principal:
    principal = request.scope.get("state", {}).get("principal", LOCAL)
    assert isinstance(principal, Principal)
    return principal
