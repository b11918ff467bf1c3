"""An MCP server that misbehaves on request, for the MCP client's fault tests.

    python tests/tools/mcp_client/fault_server.py [--transport stdio|http] [--port N] [--state-dir DIR]
                                                  [--fail-start MESSAGE] [--hang-start]

stdio by default; `--transport http` serves streamable HTTP at http://127.0.0.1:N/mcp. Built on the `mcp`
SDK's `MCPServer`, so it speaks both protocol eras: the initialize handshake (a client with
mode="legacy", or any pre-2026 client) and 2026-07-28 (the SDK client's default "auto" mode).

Tools, and the fault each one stands for:

- `echo(text)`: returns `text` (the happy path).
- `add(a, b)`: returns `a + b` as structured content `{"result": a + b}` plus the text `"5"`-style block.
- `slow(seconds)`: sleeps, then returns "slept" (timeouts and cancellation).
- `crash()`: writes "fault_server: crashing on purpose" to stderr and exits with status 3 mid-call (a server
  that dies; the client must notice the lost connection and may restart it).
- `huge(chars)`: returns "x" * chars (results too large for the model).
- `fail(message)`: a tool error: the result has isError true and `message` as its text.
- `image()`: an image block (a 1x1 PNG) and a text block (non-text content).
- `add_tool(name)`: registers a tool `name` that returns "I am <name>", then says the tool list changed:
  `notifications/tools/list_changed` on a handshake-era connection, a `ToolsListChanged` event on a
  2026-07-28 `subscriptions/listen` stream (that era delivers change notifications only there).
- `whoami()`: "authorization=<the request's Authorization header, or none> secret=<$FAULT_SECRET, or none>",
  so tests can see which headers and environment reached the server.
- `progress(steps)`: reports progress `steps` times, 0.05 s apart, then returns "done".
- `starts()`: how many times a server was launched with this `--state-dir` (one line is appended to
  DIR/starts at each launch, before `--fail-start` or `--hang-start` act); 1 without `--state-dir`.

Startup faults: `--fail-start MESSAGE` prints MESSAGE to stderr and exits with status 1 before serving;
`--hang-start` sleeps forever before serving (connect timeouts); `--exit-after SECONDS` exits that long
after starting (a server that dies right after its handshake).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
import time
from pathlib import Path

import anyio
from mcp.server.lowlevel import NotificationOptions
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp_types import CallToolResult, TextContent

# A 1x1 red PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415478da63f8cfc0000003010100f70341430000000049454e44ae426082"
)

server = MCPServer("fault-server", version="1.0", log_level="WARNING", warn_on_duplicate_tools=False)
# Advertise tools.listChanged on handshake-era connections too (MCPServer leaves it false there; at
# 2026-07-28 it follows from the subscriptions/listen handler, which MCPServer serves).
_lowlevel = server._lowlevel_server  # pyright: ignore[reportPrivateUsage]
_lowlevel.create_initialization_options = functools.partial(  # type: ignore[method-assign]
    _lowlevel.create_initialization_options, NotificationOptions(tools_changed=True)
)

_state_dir: Path | None = None


@server.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
async def slow(seconds: float) -> str:
    """Sleep, then say so."""
    await anyio.sleep(seconds)
    return "slept"


@server.tool()
def crash() -> str:
    """Exit the server process mid-call."""
    sys.stderr.write("fault_server: crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool()
def huge(chars: int) -> str:
    """Return `chars` x characters."""
    return "x" * chars


@server.tool()
def fail(message: str) -> CallToolResult:
    """Fail with a tool error carrying the message."""
    # Not `raise ToolError(message)`: MCPServer would send "Error executing tool fail: <message>".
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


@server.tool(structured_output=False)
def image() -> list[Image | str]:
    """Return a 1x1 PNG and a caption."""
    return [Image(data=PNG, format="png"), "a 1x1 red pixel"]


@server.tool()
async def add_tool(name: str, ctx: Context) -> str:
    """Register a tool with this name and announce that the tool list changed."""

    def added() -> str:
        return f"I am {name}"

    server.add_tool(added, name=name, description=f"Added at runtime by add_tool({name!r}).")
    await ctx.notify_tools_changed()  # 2026-07-28: subscriptions/listen streams
    await ctx.session.send_tool_list_changed()  # handshake era (dropped by the SDK at 2026-07-28)
    return f"added {name}"


@server.tool()
def whoami(ctx: Context) -> str:
    """Say which Authorization header and FAULT_SECRET reached the server."""
    headers = ctx.headers
    authorization = (headers.get("authorization") if headers is not None else None) or "none"
    secret = os.environ.get("FAULT_SECRET") or "none"
    return f"authorization={authorization} secret={secret}"


@server.tool()
async def progress(steps: int, ctx: Context) -> str:
    """Report progress `steps` times, then return "done"."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step} of {steps}")
        await anyio.sleep(0.05)
    return "done"


@server.tool()
def starts() -> int:
    """How many times a server was launched with this --state-dir."""
    if _state_dir is None:
        return 1
    return len((_state_dir / "starts").read_text(encoding="utf-8").splitlines())


def _count_start(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    # One short O_APPEND write per launch: concurrent launches cannot lose a count.
    fd = os.open(state_dir / "starts", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--port", type=int, default=8000, help="the HTTP port (127.0.0.1)")
    parser.add_argument("--state-dir", type=Path, help="where starts are counted")
    parser.add_argument("--fail-start", metavar="MESSAGE", help="print MESSAGE to stderr and exit 1")
    parser.add_argument("--hang-start", action="store_true", help="sleep forever instead of serving")
    parser.add_argument("--exit-after", type=float, metavar="SECONDS", help="exit this long after starting")
    args = parser.parse_args(argv)

    global _state_dir
    state_dir: Path | None = args.state_dir
    if state_dir is not None:
        _state_dir = state_dir.resolve()
        _count_start(_state_dir)
    if args.fail_start is not None:
        print(args.fail_start, file=sys.stderr, flush=True)
        sys.exit(1)
    if args.hang_start:
        while True:
            time.sleep(3600)
    if args.exit_after is not None:
        threading.Timer(args.exit_after, os._exit, args=(4,)).start()
    if args.transport == "http":
        server.run("streamable-http", host="127.0.0.1", port=args.port)
    else:
        server.run()


if __name__ == "__main__":
    main()
