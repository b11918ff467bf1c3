"""`oxy mcp`: serve the project over MCP (stdio, or streamable HTTP at /mcp); `oxy mcp list-tools`:
connect to the MCP servers an agent (or config.yml) names and print their tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click

from oxy.cli._errors import fail
from oxy.cli._options import project_option

if TYPE_CHECKING:
    from oxy.application.runtime import Runtime
    from oxy.tools.mcp_client import McpToolset


@click.group(invoke_without_command=True)
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio: for a client that starts oxy; http: streamable HTTP at /mcp.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="http: the address to listen on.")
@click.option(
    "--port", default=3001, show_default=True, type=click.IntRange(0, 65535), help="http: the port."
)
@project_option
@click.option("--insecure", is_flag=True, help="http: allow listening beyond 127.0.0.1 with no API keys.")
@click.option(
    "--allowed-host", "allowed_hosts", multiple=True, metavar="NAME", help="http: also answer this host name."
)
@click.option(
    "--max-concurrent-runs", default=16, show_default=True, type=click.IntRange(1), help="Tool calls at once."
)
@click.option("--no-stdio-mcp", is_flag=True, help="Agents may use HTTP MCP servers only.")
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.pass_context
def mcp(
    ctx: click.Context,
    transport: str,
    host: str,
    port: int,
    project_dir: Path | None,
    insecure: bool,
    allowed_hosts: tuple[str, ...],
    max_concurrent_runs: int,
    no_stdio_mcp: bool,
    log_level: str,
) -> None:
    """Serve the project's agents, workflows and SQL files as MCP tools (config.yml `mcp: {tools: [globs]}`
    chooses them; by default every agent and workflow)."""
    if ctx.invoked_subcommand is not None:
        return
    from oxy.config import find_project_root  # lazy: loaded when the command runs, not for --help

    root = (project_dir or find_project_root(Path.cwd())).resolve()
    if transport == "http":
        from oxy.cli.serve import run_server  # lazy: loaded when the command runs, not for --help
        from oxy.serve._settings import ServeSettings  # lazy: loaded when the command runs, not for --help

        settings = ServeSettings(
            project=root,
            host=host,
            port=port,
            insecure=insecure,
            allowed_hosts=allowed_hosts,
            max_concurrent_runs=max_concurrent_runs,
            mcp=True,
            api=False,
            stdio_mcp=not no_stdio_mcp,
        )
        run_server(
            settings,
            max_connections=1000,
            header_timeout=10.0,
            keep_alive=5,
            log_level=log_level,
            name="oxy mcp",
        )
        return
    _serve_stdio(
        root, max_concurrent_runs=max_concurrent_runs, stdio_mcp=not no_stdio_mcp, log_level=log_level
    )


def _serve_stdio(root: Path, *, max_concurrent_runs: int, stdio_mcp: bool, log_level: str) -> None:
    import logging  # lazy: loaded when the command runs, not for --help

    from oxy.application.runtime import Runtime  # lazy: loaded when the command runs, not for --help
    from oxy.config import load_project  # lazy: loaded when the command runs, not for --help
    from oxy.serve.mcp import serve_stdio  # lazy: loaded when the command runs, not for --help

    # stdout carries the protocol: oxy's log lines go to stderr. Only oxy's: at debug level HTTP libraries
    # log whole URLs (and their credentials).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("oxy mcp: %(message)s"))
    logger = logging.getLogger("oxy")
    logger.addHandler(handler)
    logger.setLevel(log_level.upper())
    logger.propagate = False
    runtime = Runtime.for_project(load_project(root), stdio_mcp=stdio_mcp)

    async def main() -> None:
        async with runtime:
            await serve_stdio(runtime, max_concurrent_runs=max_concurrent_runs)

    anyio.run(main)


@mcp.command("list-tools")
@click.argument("target")
@project_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: each server's tools with their schemas.")
def list_tools(target: str, project_dir: Path | None, as_json: bool) -> None:
    """Connect to the MCP servers TARGET names and print their tools, as the agent sees them.

    TARGET is an agent file (each of its `type: mcp` tools) or a server in config.yml's `mcp_servers:`."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help

    file = Path(target)
    is_agent = target.endswith(".agent.yml")
    if is_agent and not file.exists():
        fail(f"{target}: no such file")
    runtime = load_runtime(file=file.resolve() if is_agent else None, project_dir=project_dir)
    toolsets = _agent_toolsets(runtime, file.resolve()) if is_agent else [_server_toolset(runtime, target)]
    if not toolsets:
        fail(f"{target}: the agent has no `type: mcp` tools")
    listed = anyio.run(_list, runtime, toolsets)
    if as_json:
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    for server in listed:
        click.echo(f"{server['server']}: {len(server['tools'])} tools")
        for tool in server["tools"]:
            click.echo(
                f"  {tool['name']}" + (f"  ({tool['mcp_name']})" if tool["mcp_name"] != tool["name"] else "")
            )
            description = (tool["description"] or "").strip().splitlines()
            if description:
                click.echo(f"      {description[0]}")
            click.echo(f"      arguments: {json.dumps(tool['input_schema'], ensure_ascii=False)}")


def _agent_toolsets(runtime: Runtime, file: Path) -> list[McpToolset]:
    from oxy.application.runner import relative_name  # lazy: loaded when the command runs, not for --help
    from oxy.config.agent import DefaultAgentConfig  # lazy: loaded when the command runs, not for --help
    from oxy.config.tools import McpTool  # lazy: loaded when the command runs, not for --help
    from oxy.tools.mcp_client import toolset_for  # lazy: loaded when the command runs, not for --help

    rel = relative_name(file, runtime.root)
    agent = runtime.project.agent(rel)
    if not isinstance(agent, DefaultAgentConfig):
        fail(f"{rel}: a routing agent has no tools of its own")
    return [toolset_for(tool, runtime, file=rel) for tool in agent.tools if isinstance(tool, McpTool)]


def _server_toolset(runtime: Runtime, name: str) -> McpToolset:
    from oxy.config.tools import McpTool  # lazy: loaded when the command runs, not for --help
    from oxy.tools.mcp_client import toolset_for  # lazy: loaded when the command runs, not for --help

    return toolset_for(McpTool(type="mcp", name=name), runtime, file="config.yml")


async def _list(runtime: Runtime, toolsets: list[McpToolset]) -> list[dict[str, Any]]:
    from oxy.tools.mcp_client import McpConnection, model_tool_names  # lazy: loaded when the command runs

    found: list[dict[str, Any]] = []
    for toolset in toolsets:
        async with McpConnection(toolset.spec) as connection:
            tools = [t for t in await connection.list_tools() if toolset.filter.admits(t.name)]
        names = model_tool_names(
            toolset.filter.prefix, (t.name for t in tools), server=toolset.spec.describe(), file=toolset.file
        )
        by_tool = {tool: name for name, tool in names.items()}
        found.append(
            {
                "server": toolset.spec.describe(),
                "tools": [
                    {
                        "name": by_tool[t.name],
                        "mcp_name": t.name,
                        "description": t.description or "",
                        "input_schema": t.input_schema,
                    }
                    for t in tools
                ],
            }
        )
    runtime.close()
    return found
