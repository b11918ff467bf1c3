"""The ASGI app of `oxy serve`: `create_app(settings)`, or `app_from_env()` in a uvicorn worker."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from oxy import __version__
from oxy.serve import _api, _gc, _openai
from oxy.serve._auth import AuthGuard
from oxy.serve._errors import error_response, install_error_handlers
from oxy.serve._limits import BodyLimit
from oxy.serve._server import Server
from oxy.serve._settings import SETTINGS_VAR, ServeSettings

STATIC = Path(__file__).with_name("static")


def create_app(settings: ServeSettings, *, tune_gc: bool = False) -> FastAPI:
    """The app for one project; its lifespan loads the project and opens the stores. `tune_gc`: the
    process is the server's own (`oxy serve`), so tune its garbage collector once started."""
    server = Server(settings)

    mcp = _McpRoute()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
        async with anyio.create_task_group() as task_group:
            await server.start(task_group)
            if tune_gc:
                _gc.tune_gc()
            try:
                if settings.mcp:
                    from oxy.serve.mcp import http_endpoint  # lazy: the MCP server loads when it is served

                    mcp.app, manager = http_endpoint(
                        server.runtime,
                        max_concurrent_runs=settings.max_concurrent_runs,
                        stateless=settings.workers > 1,  # a session's next request may reach another worker
                    )
                    async with manager.run():
                        yield
                else:
                    yield
            finally:
                await server.stop()

    app = FastAPI(
        title="oxy",
        version=__version__,
        description="Run the project's agents and workflows over HTTP. See docs/serve.md.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.oxy = server
    install_error_handlers(app)
    hosts = {*settings.allowed_hosts, *([] if settings.host in ("0.0.0.0", "::") else [settings.host])}
    app.add_middleware(AuthGuard, guards=server.guards, allowed_hosts=frozenset(hosts))
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, timeout_s=settings.body_timeout_s)

    @app.get("/health")
    async def health() -> dict[str, object]:
        models = server.models_status()
        return {"status": "ok"} if models is None else {"status": "ok", "models": models}

    @app.get("/ready", responses={503: {"description": "Not ready; the error says why"}})
    async def ready() -> JSONResponse:
        problem = await server.ready()
        if problem is not None:
            return error_response(503, problem, type="not_ready")
        return JSONResponse({"status": "ready"})

    if settings.mcp:
        app.router.routes.append(Route("/mcp", endpoint=mcp))
    if settings.api:
        app.include_router(_api.router)
        app.include_router(_openai.router)
        site = _Site(app.router.routes, directory=STATIC, html=True, check_dir=False)
        app.mount("/", site, name="static")
    return app


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class _Site(StaticFiles):
    """The web chat's files at `/`. The mount matches every path, so a wrong method on an API route
    (`GET /v1/chat/completions`) would reach it and get 404; it gets 405 with `Allow` instead. The
    routes are consulted only when no file answers."""

    def __init__(self, routes: list[BaseRoute], **options: Any) -> None:
        super().__init__(**options)
        self._routes = routes

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            allowed = self._allowed(scope) if exc.status_code in (404, 405) else ""
            if not allowed:
                raise
            return error_response(
                405,
                f"{scope['method']} is not allowed on {scope['path']}; use {allowed}.",
                type="method_not_allowed",
                headers={"Allow": allowed},
            )

    def _allowed(self, scope: Scope) -> str:
        """The methods an API route at this path takes. Routes are asked the way the router asks them,
        once per method: FastAPI wraps included routes in objects that match but do not list methods."""
        at_root = {**scope, "root_path": scope.get("app_root_path", "")}  # the mount moved it below itself
        allowed: set[str] = set()
        for route in self._routes:
            matches = getattr(route, "matches", None)
            if matches is None or isinstance(route, Mount):
                continue
            allowed.update(m for m in _METHODS if matches({**at_root, "method": m})[0] is Match.FULL)
        return ", ".join(sorted(allowed))


class _McpRoute:
    """`/mcp`: the MCP endpoint, made once the project is loaded (in the app's lifespan)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            await error_response(503, "The server is still starting; try again shortly.")(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)


def app_from_env() -> FastAPI:
    """The app a `--workers N` process builds, from the settings its parent put in the environment."""
    return create_app(ServeSettings.from_json(os.environ[SETTINGS_VAR]), tune_gc=True)
