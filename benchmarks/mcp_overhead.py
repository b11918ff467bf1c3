"""What oxy adds to an MCP tool call, over the `mcp` client alone, on stdio and streamable HTTP.

    python -m benchmarks.mcp_overhead [--calls 2000] [--rounds 5]

The server is a minimal `echo` tool (`_mcp_echo_server.py`) in its own process. "mcp client" calls it
in a loop with `Client.call_tool`, as a user of the SDK would; "oxy" calls it the way a run does: the
toolset an agent's `type: mcp` entry builds, opened for a run, then `call_tool(ctx, name, json_args)`
for each call (JSON arguments parsed, the call sent on oxy's shared, supervised connection, the result
mapped to the text the model reads). Rounds alternate between the two; the table shows the medians.
Goal: oxy adds under 0.5 ms per call.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Generator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from oxy import Runtime, load_project
from oxy.config.tools import McpTool
from oxy.execution.context import ExecutionContext
from oxy.tools.mcp_client import toolset_for

SERVER = Path(__file__).resolve().with_name("_mcp_echo_server.py")
ARGS = '{"text": "hello"}'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _http_server() -> Generator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _timed(call: Callable[[], Awaitable[object]], calls: int) -> float:
    for _ in range(20):  # warm up
        await call()
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - started) / calls


async def _raw(target: str | None, calls: int) -> float:
    server = (
        target if target is not None else StdioServerParameters(command=sys.executable, args=[str(SERVER)])
    )
    async with Client(server, mode="legacy", cache=None) as client:
        return await _timed(lambda: client.call_tool("echo", {"text": "hello"}), calls)


async def _oxy(project: Path, target: str | None, calls: int) -> float:
    runtime = Runtime.for_project(load_project(project))
    if target is None:
        config = McpTool(type="mcp", name="bench", command=sys.executable, args=[str(SERVER)])
    else:
        config = McpTool(type="mcp", name="bench", url=target)
    toolset = toolset_for(config, runtime, file="bench.agent.yml")
    ctx = ExecutionContext(run_id="bench", handle=runtime)
    async with runtime, AsyncExitStack() as stack:
        tools = await toolset.for_run(ctx, stack)
        names = [tool.name for tool in await tools.get_tools(ctx)]
        assert names == ["bench_echo"], names
        return await _timed(lambda: tools.call_tool(ctx, "bench_echo", ARGS), calls)


async def _measure(transport: str, calls: int, rounds: int, project: Path) -> tuple[float, float]:
    raw: list[float] = []
    oxy: list[float] = []
    for _ in range(rounds):
        if transport == "stdio":
            raw.append(await _raw(None, calls))
            oxy.append(await _oxy(project, None, calls))
        else:
            with _http_server() as url:
                raw.append(await _raw(url, calls))
                oxy.append(await _oxy(project, url, calls))
    return statistics.median(raw), statistics.median(oxy)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "config.yml").write_text("models: []\n")
        print(f"{args.calls} calls x {args.rounds} rounds, medians\n")
        print("| transport | mcp client, ms/call | oxy, ms/call | oxy adds, ms/call | goal < 0.5 ms |")
        print("|---|---|---|---|---|")
        for transport in ("stdio", "http"):
            raw, oxy = anyio.run(_measure, transport, args.calls, args.rounds, project)
            added = (oxy - raw) * 1000
            mark = "yes" if added < 0.5 else "no"
            print(
                f"| {transport} | {raw * 1000:.3f} | {oxy * 1000:.3f} | {added:+.3f} | {mark} |", flush=True
            )


if __name__ == "__main__":
    main()
