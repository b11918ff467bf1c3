"""The MCP server of a project: `tools/list` is the exposed agents, workflows and SQL files;
`tools/call` runs one through `run_file` (the one way in), as the caller's tenant.

Progress goes to the client as `notifications/progress` when it asked for it (a step started, a tool
called); a client's cancellation cancels the run. A tool the server does not offer is a JSON-RPC error
(-32602); bad arguments, a file that does not load and a run that fails are tool results with `isError`,
which a model can read and correct. A table comes back as markdown text plus `structuredContent`
`{columns, rows}`; an agent's answer as text.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from oxy import __version__
from oxy.application.runner import run_file
from oxy.application.runtime import Runtime
from oxy.databases.table import TableOutput
from oxy.errors import OxyError
from oxy.events.sinks import EventSink
from oxy.events.types import Event, StepStarted, ToolCallEvent
from oxy.execution.context import Caller
from oxy.serve.mcp._catalog import ExposedTool
from oxy.storage import LOCAL_TENANT
from oxy.tools.workflow_tool import output_text

__all__ = ["TenantOf", "mcp_server"]

log = logging.getLogger("oxy.mcp")

TenantOf = Callable[[ServerRequestContext[Any, Any]], str]
"""Who is asking: the tenant of the request's API key over HTTP; `local` over stdio."""

_MAX_ROWS_TEXT = 200
_PROGRESS_EVERY_S = 0.2


def mcp_server(
    runtime: Runtime,
    tools: dict[str, ExposedTool],
    *,
    tenant_of: TenantOf | None = None,
    max_concurrent_runs: int = 16,
) -> Server[Any]:
    """A low-level MCP `Server` offering `tools` of `runtime`'s project."""
    slots = anyio.CapacityLimiter(max_concurrent_runs)
    listed = types.ListToolsResult(
        tools=[
            types.Tool(name=t.name, description=t.description, input_schema=t.input_schema)
            for t in tools.values()
        ]
    )

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return listed

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = tools.get(params.name)
        if tool is None:
            known = ", ".join(sorted(tools)) or "none"
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool {params.name!r}; tools: {known}")
        if tool.error is not None:
            return _error(f"{tool.path} does not load: {tool.error}")
        arguments = dict(params.arguments or {})
        problem = _check_arguments(tool, arguments)
        if problem is not None:
            return _error(problem)
        tenant = tenant_of(ctx) if tenant_of is not None else LOCAL_TENANT
        async with slots:
            return await _run(runtime, tool, arguments, tenant=tenant, progress=_Progress(ctx))

    return Server(
        "oxy",
        version=__version__,
        instructions=f"The agents, workflows and SQL queries of the oxy project {runtime.root.name!r}.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _check_arguments(tool: ExposedTool, arguments: dict[str, Any]) -> str | None:
    properties: dict[str, Any] = tool.input_schema.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        known = ", ".join(sorted(properties)) or "none"
        return f"Unknown argument(s) {', '.join(map(repr, unknown))} for {tool.name}; its arguments: {known}."
    missing = [key for key in tool.input_schema.get("required", []) if key not in arguments]
    if missing:
        return f"Missing argument(s) for {tool.name}: {', '.join(map(repr, missing))}."
    if tool.kind == "agent" and not isinstance(arguments.get("question"), str):
        return "`question` must be a string."
    if tool.kind == "sql":
        for key, value in arguments.items():
            problem = _sql_value_problem(key, value)
            if problem is not None:
                return problem
    return None


_SQL_WORD = re.compile(r"^[\w .:/@+-]{0,200}$")


def _sql_value_problem(key: str, value: Any) -> str | None:
    """A SQL file's template writes its variables into the query text, so over MCP (callers the project
    does not control) they are numbers, booleans, or plain words: no quotes, brackets, semicolons or
    comments that could change the query."""
    if isinstance(value, bool | int | float):
        return None
    if isinstance(value, str) and _SQL_WORD.match(value) and "--" not in value:
        return None
    return (
        f"`{key}` must be a number, true/false, or plain text (letters, digits, spaces and . : / @ + -): it "
        "is written into the SQL query"
    )


async def _run(
    runtime: Runtime, tool: ExposedTool, arguments: dict[str, Any], *, tenant: str, progress: _Progress
) -> types.CallToolResult:
    started = time.perf_counter()
    try:
        result = await run_file(
            runtime.root / tool.path,
            runtime=runtime,
            prompt=arguments.get("question") if tool.kind == "agent" else None,
            variables=None if tool.kind == "agent" else arguments,
            caller=Caller(tenant=tenant),
            sink=progress,
        )
    except OxyError as exc:
        return _error(str(exc))
    log.info("%s: %s in %.2f s", tool.name, result.status, time.perf_counter() - started)
    if result.status != "ok":
        return _error(str(result.error) if result.error is not None else f"the run ended: {result.status}")
    if result.answer is not None:
        return types.CallToolResult(content=[types.TextContent(text=result.answer.text)])
    output = result.output
    plain = _plain(output)
    if isinstance(output, dict):  # a workflow's outputs by task: each as a model would read it
        items: dict[str, Any] = output  # pyright: ignore[reportUnknownVariableType]
        text = "\n\n".join(
            f"{key}:\n{output_text(value, max_rows=_MAX_ROWS_TEXT)}" for key, value in items.items()
        )
    else:
        text = output_text(output, max_rows=_MAX_ROWS_TEXT)
    structured = plain if isinstance(plain, dict) else None
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=structured)


def _plain(value: Any) -> Any:
    """`value` as JSON values: a table as `{columns, rows}` (rows as objects), an answer as its text."""
    if isinstance(value, TableOutput):
        return {"columns": list(value.columns), "rows": _plain(value.records()), "truncated": value.truncated}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


class _Progress(EventSink):
    """Steps and tool calls of the run as `notifications/progress` (no-op unless the client asked)."""

    streams_text = False  # the caller reads the result whole

    def __init__(self, ctx: ServerRequestContext[Any, Any]) -> None:
        self._ctx = ctx
        self._count = 0
        self._last = 0.0

    async def emit(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            message = f"{event.step_type} {event.name}"
        elif isinstance(event, ToolCallEvent):
            message = f"calling {event.name}"
        else:
            return
        self._count += 1
        now = time.monotonic()
        nested = len(event.source) > 2  # the run and its own steps always go; deeper ones 5 a second at most
        if nested and now - self._last < _PROGRESS_EVERY_S:
            return
        self._last = now
        try:
            await self._ctx.session.report_progress(self._count, None, message)
        except Exception as exc:  # a client that went away must not fail the run
            log.debug("progress not sent: %s", exc)
