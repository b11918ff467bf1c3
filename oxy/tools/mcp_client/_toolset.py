"""The `mcp` tool type: an agent's `tools:` entry that brings an MCP server's tools.

`McpToolset` is what the entry builds: which server, and how this agent sees it (allow-list, prefix,
timeout, output cap). When a run opens it, it gets the server's connection, shared by every run and agent
of the runtime that names the same server (an open runtime keeps it until `aclose()`; otherwise it lives
for the run), and hands the run a `_RunToolset` bound to it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

import mcp_types as types

from oxy.config.mcp import McpServerKeys, project_mcp_servers
from oxy.config.tools import McpTool
from oxy.errors import ConfigError, ServerUnavailable, ToolError
from oxy.execution.context import ExecutionContext
from oxy.execution.runtime import RuntimeHandle
from oxy.models.messages import ToolDefinition
from oxy.tools.base import json_arguments
from oxy.tools.mcp_client._connection import McpConnection
from oxy.tools.mcp_client._names import model_tool_names
from oxy.tools.mcp_client._results import result_text
from oxy.tools.mcp_client._spec import ServerSpec, ToolFilter, resolve_spec, tool_filter
from oxy.tools.toolset import Toolset

__all__ = ["McpToolset", "server_for", "toolset_for"]

_MAX_DESCRIPTION = 4000

log = logging.getLogger("oxy.mcp")


class McpToolset(Toolset):
    """One MCP server's tools, as one agent sees them."""

    def __init__(self, spec: ServerSpec, tools: ToolFilter, *, file: str | None = None) -> None:
        self.spec = spec
        self.filter = tools
        self.file = file

    async def for_run(self, ctx: ExecutionContext, stack: AsyncExitStack) -> Toolset:
        if self.spec.stdio and ctx.handle is not None and not ctx.runtime.stdio_mcp:
            raise ServerUnavailable(
                f"{self.spec.describe()} is a stdio server, and this server runs with --no-stdio-mcp: "
                "use an HTTP MCP server (`url:`) or serve without that flag"
            )
        if ctx.handle is not None and ctx.runtime.is_open:
            connection = await ctx.runtime.keep_open(McpConnection(self.spec), key=("mcp", self.spec.key))
        else:
            # Left unshielded: its task group must exit where it was entered; stopping the server is
            # shielded inside (the SDK's stdio shutdown), so a cancelled run still stops it.
            connection = await stack.enter_async_context(McpConnection(self.spec))
        return _RunToolset(connection, self.filter, file=self.file)

    async def get_tools(self, ctx: ExecutionContext) -> Sequence[ToolDefinition]:
        raise RuntimeError(
            "an McpToolset is opened for each run (Toolset.for_run) before its tools are asked"
        )

    async def call_tool(self, ctx: ExecutionContext, name: str, arguments: str) -> str:
        raise RuntimeError("an McpToolset is opened for each run (Toolset.for_run) before a tool is called")


class _RunToolset(Toolset):
    """A server's tools for one run: listed when the run starts, renamed and filtered for its agent."""

    def __init__(self, connection: McpConnection, tools: ToolFilter, *, file: str | None) -> None:
        self.connection = connection
        self.filter = tools
        self.file = file
        self._names: dict[str, str] = {}

    async def get_tools(self, ctx: ExecutionContext) -> Sequence[ToolDefinition]:
        listed = [tool for tool in await self.connection.list_tools() if self.filter.admits(tool.name)]
        self._names = model_tool_names(
            self.filter.prefix,
            (tool.name for tool in listed),
            server=self.connection.spec.describe(),
            file=self.file,
        )
        by_tool = {tool: name for name, tool in self._names.items()}
        return [
            ToolDefinition(name=by_tool[tool.name], description=_description(tool), parameters=_schema(tool))
            for tool in listed
        ]

    async def call_tool(self, ctx: ExecutionContext, name: str, arguments: str) -> str:
        tool = self._names.get(name, name)
        parsed = json_arguments(arguments)
        try:
            result = await self.connection.call_tool(
                tool,
                parsed,
                timeout=self.filter.timeout,
                label=name,
            )
        except ServerUnavailable as exc:
            log.warning("%s", exc)  # the whole story, for whoever runs oxy
            raise ToolError(  # the model gets what it can act on, not command lines or a server's log
                f"MCP server {self.connection.spec.name!r} is not available right now; answer without its "
                "tools, or try again later"
            ) from None
        return result_text(result, max_chars=self.filter.max_output_chars, tool=name)


def _description(tool: types.Tool) -> str:
    text = (
        tool.description or tool.title or (tool.annotations.title if tool.annotations else None) or tool.name
    )
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 3] + "..."


def _schema(tool: types.Tool) -> dict[str, Any]:
    schema = dict(tool.input_schema)
    schema.setdefault("type", "object")
    if schema.get("type") == "object":
        schema.setdefault("properties", {})
    return schema


def server_for(config: McpTool, runtime: RuntimeHandle, *, file: str) -> tuple[str, list[McpServerKeys]]:
    """The server's name and its keys, the agent's entry first: the entry itself when it declares a
    command or URL, else the entry and the config.yml server it names."""
    ref = config.server_ref
    if ref is None:
        return config.name, [config]
    declared = project_mcp_servers(runtime.project.config.mcp_servers, runtime.root)
    server = declared.get(ref)
    if server is None:
        known = ", ".join(sorted(declared)) or "none"
        raise ConfigError(
            f"tool {config.name!r}: MCP server {ref!r} is not declared in config.yml's `mcp_servers:` "
            f"(declared: {known}); declare it there, or give this entry `command:` or `url:`",
            file=file,
        )
    return ref, [config, server]


def toolset_for(config: McpTool, runtime: RuntimeHandle, *, file: str) -> McpToolset:
    """The toolset of an agent's `type: mcp` entry; secrets are read from the environment now."""
    name, keys = server_for(config, runtime, file=file)
    declared = len(keys) > 1
    spec = resolve_spec(
        name,
        keys,
        root=runtime.root,
        file="config.yml" if declared else file,
        key_path=f"mcp_servers.{name}" if declared else f"tools.{config.name}",
        python_is_oxys=not (declared and isinstance(runtime.project.config.mcp_servers, str)),
    )
    return McpToolset(spec, tool_filter(config.name, keys), file=file)
