"""The fault server (fault_server.py) does what the MCP client's fault tests rely on, checked with the plain
`mcp` client over stdio and over streamable HTTP, in both protocol eras; and the npm-installed
server-everything answers over stdio."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import AsyncGenerator, Generator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ToolsListChanged
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from tests.mcp_servers import free_port, http_server, npm_bin

pytestmark = pytest.mark.anyio

FAULT_SERVER = Path(__file__).with_name("fault_server.py")
SECRET = "s3cret"
TIMEOUT = 30


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    """One HTTP fault server for the module (its tools added at runtime persist across sessions)."""
    port = free_port()
    state = tmp_path_factory.mktemp("fault-http")
    argv = [sys.executable, FAULT_SERVER, "--transport", "http", "--port", str(port), "--state-dir", state]
    with http_server(argv, port, env={"FAULT_SECRET": SECRET}):
        yield f"http://127.0.0.1:{port}/mcp"


def stdio_params(*args: str | Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=[str(FAULT_SERVER), *map(str, args)], env={"FAULT_SECRET": SECRET}
    )


@asynccontextmanager
async def connect(target: str, http_url: str, tmp_path: Path, **options: Any) -> AsyncGenerator[Client]:
    server: StdioServerParameters | str = (
        http_url if target == "http" else stdio_params("--state-dir", tmp_path)
    )
    with anyio.fail_after(TIMEOUT):
        async with Client(server, **options) as client:
            yield client


def text_of(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


@pytest.fixture(params=["stdio", "http"])
def target(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def url_for(target: str, request: pytest.FixtureRequest) -> str:
    """The HTTP server's URL, started only for the HTTP cases."""
    return request.getfixturevalue("http_url") if target == "http" else ""


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools(target: str, url_for: str, tmp_path: Path, mode: str) -> None:
    async with connect(target, url_for, tmp_path, mode=mode) as client:
        expected_version = "2026-07-28" if mode == "auto" else "2025-11-25"
        assert client.protocol_version == expected_version

        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"echo", "add", "slow", "crash", "huge", "fail", "image", "add_tool", "whoami"} <= names
        assert {"progress", "starts"} <= names

        echo = await client.call_tool("echo", {"text": "héllo"})
        assert (text_of(echo), echo.is_error) == ("héllo", False)

        add = await client.call_tool("add", {"a": 2, "b": 3})
        assert add.structured_content == {"result": 5}
        assert text_of(add) == "5"

        fail = await client.call_tool("fail", {"message": "the disk is on fire"})
        assert fail.is_error is True
        assert text_of(fail) == "the disk is on fire"

        image = await client.call_tool("image", {})
        assert not image.is_error
        picture, caption = image.content
        assert isinstance(picture, types.ImageContent) and picture.mime_type == "image/png"
        assert base64.b64decode(picture.data).startswith(b"\x89PNG\r\n\x1a\n")
        assert isinstance(caption, types.TextContent) and caption.text == "a 1x1 red pixel"
        assert image.structured_content is None

        assert text_of(await client.call_tool("huge", {"chars": 200_000})) == "x" * 200_000
        assert text_of(await client.call_tool("slow", {"seconds": 0.1})) == "slept"

        steps: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            steps.append((progress, total, message))

        assert (
            text_of(await client.call_tool("progress", {"steps": 3}, progress_callback=on_progress)) == "done"
        )
        assert steps == [(1, 3, "step 1 of 3"), (2, 3, "step 2 of 3"), (3, 3, "step 3 of 3")]

        unknown = await client.call_tool("no_such_tool", {})
        assert unknown.is_error and "no_such_tool" in text_of(unknown)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_add_tool_says_the_list_changed(target: str, url_for: str, tmp_path: Path, mode: str) -> None:
    """Handshake era: `notifications/tools/list_changed` reaches `message_handler`. At 2026-07-28 it
    arrives only on a `subscriptions/listen` stream (and is teed to `message_handler` from there)."""
    changed = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    name = f"tool_{mode}_{target}"
    async with connect(target, url_for, tmp_path, mode=mode, message_handler=on_message) as client:
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.tools.list_changed is True
        async with AsyncExitStack() as stack:
            events = None
            if mode == "auto":
                events = await stack.enter_async_context(client.listen(tools_list_changed=True))
            assert text_of(await client.call_tool("add_tool", {"name": name})) == f"added {name}"
            with anyio.fail_after(5):
                await changed.wait()
            if events is not None:
                with anyio.fail_after(5):
                    event = await anext(aiter(events))
                assert isinstance(event, ToolsListChanged)
        assert name in {tool.name for tool in (await client.list_tools()).tools}
        assert text_of(await client.call_tool(name, {})) == f"I am {name}"


async def test_list_changed_needs_listen_at_2026(tmp_path: Path) -> None:
    """Without a listen stream, a 2026-07-28 client's message_handler never sees the change."""
    seen: list[object] = []

    async def on_message(message: object) -> None:
        seen.append(message)

    async with connect("stdio", "", tmp_path, message_handler=on_message) as client:
        await client.call_tool("add_tool", {"name": "quiet"})
        await anyio.sleep(0.3)
        assert not [m for m in seen if isinstance(m, types.ToolListChangedNotification)]
        assert "quiet" in {tool.name for tool in (await client.list_tools()).tools}


async def test_whoami_over_http_sees_the_header(http_url: str) -> None:
    with anyio.fail_after(TIMEOUT):
        async with create_mcp_http_client(headers={"Authorization": "Bearer t0ken"}) as http:
            async with Client(streamable_http_client(http_url, http_client=http)) as client:
                result = await client.call_tool("whoami", {})
    assert text_of(result) == f"authorization=Bearer t0ken secret={SECRET}"


async def test_whoami_over_stdio_sees_the_environment(tmp_path: Path) -> None:
    async with connect("stdio", "", tmp_path) as client:
        assert text_of(await client.call_tool("whoami", {})) == f"authorization=none secret={SECRET}"


async def test_starts_counts_launches(tmp_path: Path) -> None:
    for expected in (1, 2):
        async with connect("stdio", "", tmp_path) as client:
            result = await client.call_tool("starts", {})
        assert result.structured_content == {"result": expected}


async def test_crash_loses_the_connection_and_says_why(tmp_path: Path) -> None:
    errlog = tmp_path / "stderr.txt"
    with errlog.open("w") as sink, anyio.fail_after(TIMEOUT):
        transport = stdio_client(stdio_params("--state-dir", tmp_path), errlog=sink)
        async with Client(transport) as client:  # pyright: ignore[reportArgumentType]
            with pytest.raises(MCPError) as lost:
                await client.call_tool("crash", {})
    assert lost.value.error.code == types.CONNECTION_CLOSED
    assert "fault_server: crashing on purpose" in errlog.read_text()


def test_fail_start_explains_and_exits(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, FAULT_SERVER, "--state-dir", tmp_path, "--fail-start", "config: no API key"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "config: no API key\n")
    assert (tmp_path / "starts").read_text().count("\n") == 1


def test_hang_start_never_answers(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, FAULT_SERVER, "--state-dir", tmp_path, "--hang-start"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdin is not None
        process.stdin.write(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}\n')
        process.stdin.flush()
        deadline = time.monotonic() + 10
        while not (tmp_path / "starts").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert process.poll() is None
    finally:
        process.kill()
        stdout, _ = process.communicate()
    assert stdout == b""


async def test_server_everything_echo_over_stdio() -> None:
    server = npm_bin("mcp-server-everything")
    with anyio.fail_after(TIMEOUT):
        async with Client(StdioServerParameters(command=str(server), args=["stdio"])) as client:
            result = await client.call_tool("echo", {"message": "hi"})
    assert text_of(result) == "Echo: hi"
