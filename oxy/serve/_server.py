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
from pathlib import Path
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
    from oxy.events.otel import Tracing
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
        self._limiter: RateLimiter | None = None
        self._runtime: Runtime | None = None
        self._catalog: Catalog | None = None
        self._store: AsyncStore | None = None
        self._keys: KeyStore | None = None
        self._auth: Authenticator | None = None
        self._manager: RunManager | None = None
        self._writer: StoreWriter | None = None
        self._restore_signals: Callable[[], None] = lambda: None
        self._fleet: ModelFleet | None = None
        self._tracing: Tracing | None = None
        self._models_state: str | None = None
        self._models_error: str | None = None
        self._models_closing = anyio.Event()
        self._models_done = anyio.Event()

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
        await runtime.__aenter__()  # holds process-lifetime toolsets until stop()
        self._runtime, self._catalog, self._store, self._keys = runtime, catalog, store, keys
        self._auth = Authenticator(keys, ttl_s=settings.key_cache_s)
        self._limiter = RateLimiter(store, rate=settings.rate_per_s, burst=settings.rate_burst)
        self._writer = writer = StoreWriter(store)
        task_group.start_soon(writer.run)
        if settings.otel or settings.otel_file is not None:
            from oxy.application.tracing import start_tracing  # lazy: only with --otel / --otel-file

            otel_file = Path(settings.otel_file) if settings.otel_file is not None else None
            self._tracing = start_tracing(runtime.project.config, endpoint=settings.otel, file=otel_file)
        self._manager = RunManager(
            runtime=runtime,
            store=store,
            writer=writer,
            settings=settings,
            task_group=task_group,
            tracing=self._tracing,
        )
        self._restore_signals = _on_shutdown_signal(self._begin_shutdown)
        if settings.with_models:  # in the background: the port opens (and /health answers) while they load
            self._models_state = "starting"
            task_group.start_soon(self._run_models, runtime)
        log.info("serving %s (%d agents, %d workflows)", root, len(catalog.agents), len(catalog.workflows))

    async def _run_models(self, runtime: Runtime) -> None:
        """Start the model servers, hold them until `stop()`, stop them: all in this one task."""
        from oxy.models.serving import ModelFleet, served_models  # lazy: only --with-models needs it

        try:
            fleet = ModelFleet(
                served_models(runtime.project.config.models),
                project_root=runtime.root,
                on_line=lambda line: log.info("%s", line),
            )
            async with fleet:
                self._fleet, self._models_state = fleet, "ready"
                await self._models_closing.wait()
        except OxyError as exc:
            self._models_state, self._models_error = "failed", str(exc)
            log.error("%s", exc)
        finally:
            self._fleet = None
            self._models_done.set()

    def models_status(self) -> dict[str, object] | None:
        """The model servers this server started (`--with-models`): each one's state, and this process's
        requests in flight against its `max_concurrency`; None without them."""
        if self._models_state is None:
            return None
        from oxy.models.serving import in_flight  # lazy: only --with-models needs it

        fleet = self._fleet
        if fleet is None:
            return {"state": self._models_state, "error": self._models_error}
        status: dict[str, object] = {}
        for name, server in fleet.servers.items():
            status[name] = {
                "state": server.state,
                "pid": server.pid,
                "restarts": server.restarts,
                "error": server.error,
            }
        for name in fleet.reused:
            status[name] = {"state": "ready", "reused": True}
        for model in self.runtime.project.config.models:
            if model.name in status and model.max_concurrency is not None:
                entry = status[model.name]
                assert isinstance(entry, dict)
                entry["max_concurrency"] = model.max_concurrency
                entry["in_flight"] = in_flight(model)
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
        if self._models_state is not None:  # after the runs: none of them is still talking to a model
            self._models_closing.set()
            with anyio.CancelScope(shield=True):
                await self._models_done.wait()
        await aclose_clients()
        if self._tracing is not None:  # exports the spans still batched (the exporter may block)
            with anyio.CancelScope(shield=True):
                if not await anyio.to_thread.run_sync(self._tracing.shutdown):
                    log.warning("some traces could not be exported (in 3 s); is the OTLP endpoint up?")
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
        return self._started(self._auth), self._started(self._limiter)

    async def ready(self) -> str | None:
        """None when config is loaded and the store answers; else why not."""
        if self._manager is None:
            return "The server is still starting."
        if self._models_state is not None:
            if self._fleet is None:
                return f"Model servers {self._models_state}" + (
                    f": {self._models_error}" if self._models_error else "."
                )
            if self._fleet.problems():
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
