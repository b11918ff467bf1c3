"""MCP servers' tools in an agent: the `mcp` tool type (`McpToolset`), over one shared, supervised
connection per server (`McpConnection`).

Importing this package registers the tool type only; the MCP SDK (half a second to import) loads when
an agent names an MCP server, or when one of the names below is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import oxy.tools.mcp_client._register as _register

if TYPE_CHECKING:
    from oxy.tools.mcp_client._connection import McpConnection
    from oxy.tools.mcp_client._names import model_tool_names
    from oxy.tools.mcp_client._spec import ServerSpec, ToolFilter, resolve_spec, tool_filter
    from oxy.tools.mcp_client._toolset import McpToolset, server_for, toolset_for

__all__ = [
    "McpConnection",
    "McpToolset",
    "ServerSpec",
    "ToolFilter",
    "model_tool_names",
    "resolve_spec",
    "server_for",
    "tool_filter",
    "toolset_for",
]

_MODULES = {
    "McpConnection": "_connection",
    "model_tool_names": "_names",
    "ServerSpec": "_spec",
    "ToolFilter": "_spec",
    "resolve_spec": "_spec",
    "tool_filter": "_spec",
    "McpToolset": "_toolset",
    "server_for": "_toolset",
    "toolset_for": "_toolset",
}


_registered = _register  # importing it registers the `mcp` tool type


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
