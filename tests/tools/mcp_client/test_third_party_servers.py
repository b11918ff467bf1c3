"""Real third-party MCP servers as an agent's tools: PyPI `mcp-server-time` (stdio) and npm
`@modelcontextprotocol/server-everything` (stdio and streamable HTTP; installed by
`scripts/ci/mcp_servers.sh`). A scripted model calls their tools; the results must reach it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from oxy import Runtime, load_project, run_file
from oxy.testing import ScriptedModel
from tests.mcp_servers import free_port, http_server, npm_bin
from tests.tools.mcp_client.test_mcp_tools import ask, tool_result, write_project

pytestmark = pytest.mark.anyio


async def test_mcp_server_time_over_stdio(tmp_path: Path) -> None:
    # `python` is the interpreter running oxy: a server pip-installed beside oxy is found.
    tool = '  - name: time\n    type: mcp\n    command: python\n    args: ["-m", "mcp_server_time", "--local-timezone=UTC"]\n'
    agent = write_project(tmp_path / "p", tool)
    model = ScriptedModel(
        ask(
            ("time_get_current_time", {"timezone": "Asia/Tokyo"}),
            (
                "time_convert_time",
                {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
            ),
            ("time_get_current_time", {"timezone": "Not/AZone"}),
        )
    )
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="What time is it in Tokyo?")
    assert result.status == "ok", result.error
    assert sorted(t.name for t in model.requests[0].tools) == ["time_convert_time", "time_get_current_time"]
    now = json.loads(tool_result(model, 1).content)
    assert now["timezone"] == "Asia/Tokyo"
    assert datetime.fromisoformat(now["datetime"]).utcoffset().total_seconds() == 9 * 3600  # type: ignore[union-attr]
    converted = json.loads(tool_result(model, 2).content)
    assert converted["target"]["datetime"].endswith("T21:00:00+09:00"), converted
    assert converted["time_difference"] == "+9.0h"
    assert "Not/AZone" in tool_result(model, 3).content  # the server's error, for the model to read


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_server_everything(tmp_path: Path, transport: str) -> None:
    server = npm_bin("mcp-server-everything")
    if transport == "stdio":
        tool = f"  - name: everything\n    type: mcp\n    command: {server}\n    args: [stdio]\n"
    else:
        port = free_port()
        tool = f"  - name: everything\n    type: mcp\n    url: http://127.0.0.1:{port}/mcp\n"
    tool += "    exclude: [toggle-*, simulate-research-query, gzip-file-as-resource, get-env]\n"
    agent = write_project(tmp_path / "p", tool)
    model = ScriptedModel(
        ask(
            ("everything_echo", {"message": "hello from oxy"}),
            ("everything_get-sum", {"a": 2, "b": 40}),
            ("everything_get-tiny-image", {}),
            ("everything_get-structured-content", {"location": "Chicago"}),
            ("everything_get-resource-reference", {"resourceType": "Text", "resourceId": 1}),
        )
    )
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})

    async def run() -> None:
        async with runtime:
            result = await run_file(agent, runtime=runtime, prompt="go")
        assert result.status == "ok", result.error

    if transport == "stdio":
        await run()
    else:
        env = {"PORT": str(port)}
        with http_server([server, "streamableHttp"], port, env=env):
            await run()
    names = {t.name for t in model.requests[0].tools}
    assert {"everything_echo", "everything_get-sum", "everything_get-tiny-image"} <= names
    assert not any(name.startswith("everything_toggle-") for name in names)
    assert tool_result(model, 1).content == "Echo: hello from oxy"
    assert "42" in tool_result(model, 2).content
    image = tool_result(model, 3).content
    assert "[image: image/png" in image and "not shown to the model" in image
    assert "base64" not in image.lower() and len(image) < 2000
    weather = tool_result(model, 4).content
    assert "temperature" in weather
    resource = tool_result(model, 5).content
    assert "[resource " in resource
