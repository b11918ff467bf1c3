"""Registers the `mcp` tool type without importing the MCP SDK (half a second): the builder loads it
when an agent names an MCP server."""

from __future__ import annotations

from oxy.config.tools import McpTool
from oxy.tools.registry import ToolBuild, tool_type
from oxy.tools.toolset import Toolset


@tool_type("mcp")
def _build(config: McpTool, build: ToolBuild) -> Toolset:
    from oxy.tools.mcp_client._toolset import toolset_for  # lazy: the MCP SDK loads for agents that use it

    return toolset_for(config, build.runtime, file=build.file)
