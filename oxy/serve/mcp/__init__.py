"""`oxy mcp`: a project's agents, workflows and SQL files as an MCP server, over stdio or streamable HTTP
(at `/mcp`, alone or inside `oxy serve --mcp`, behind the same API keys and tenants)."""

from __future__ import annotations

import sys
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager

from oxy.application.runtime import Runtime
from oxy.serve.mcp._catalog import ExposedTool, exposed_tools
from oxy.serve.mcp._server import TenantOf, mcp_server
from oxy.storage import LOCAL_TENANT

__all__ = ["ExposedTool", "exposed_tools", "http_endpoint", "mcp_server", "serve_stdio", "tenant_of_request"]


async def serve_stdio(runtime: Runtime, *, max_concurrent_runs: int = 16) -> None:
    """Serve MCP on this process's stdin and stdout until the client closes them. `runtime` is open."""
    server = mcp_server(runtime, exposed_tools(runtime), max_concurrent_runs=max_concurrent_runs)
    async with stdio_server() as (read, write):
        try:
            await server.run(read, write, server.create_initialization_options())
        finally:
            sys.stdout.flush()  # what a tool printed goes to stderr now, not onto the protocol's pipe later


def tenant_of_request(ctx: ServerRequestContext[Any, Any]) -> str:
    """The tenant `oxy serve`'s auth guard found for the HTTP request (its API key's), else `local`."""
    request = ctx.request
    scope: Any = getattr(request, "scope", None)
    if isinstance(scope, dict):
        principal = scope.get("state", {}).get("principal")  # pyright: ignore[reportUnknownMemberType]
        tenant = getattr(principal, "tenant", None)
        if isinstance(tenant, str):
            return tenant
    return LOCAL_TENANT


def http_endpoint(
    runtime: Runtime,
    *,
    tenant_of: TenantOf = tenant_of_request,
    max_concurrent_runs: int = 16,
    stateless: bool = False,
) -> tuple[StreamableHTTPASGIApp, StreamableHTTPSessionManager]:
    """The ASGI app to route `/mcp` to, and its session manager (run it in the app's lifespan:
    `async with manager.run():`). Host checks and API keys are the surrounding app's. `stateless`: no
    session outlives its request (several worker processes, each with its own memory, can answer)."""
    server = mcp_server(
        runtime, exposed_tools(runtime), tenant_of=tenant_of, max_concurrent_runs=max_concurrent_runs
    )
    manager = StreamableHTTPSessionManager(app=server, stateless=stateless)
    return StreamableHTTPASGIApp(manager), manager
