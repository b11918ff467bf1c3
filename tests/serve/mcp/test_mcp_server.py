"""`oxy mcp`: a project's agents, workflows and SQL files as MCP tools, over stdio (a client starts
`oxy mcp`) and streamable HTTP (`oxy mcp --transport http`, and `oxy serve --mcp`), checked with the `mcp`
Python client and the official MCP Inspector CLI. The agent's model is the scripted model's HTTP server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call
from tests.mcp_servers import free_port, http_server, npm_bin
from tests.serve.conftest import open_client, settings_for

pytestmark = pytest.mark.anyio

QUICKSTART = Path(__file__).resolve().parents[3] / "projects" / "quickstart"
OXY = [str(Path(sys.executable).with_name("oxy"))]


@pytest.fixture
def project(tmp_path: Path, model: ScriptedModelServer) -> Path:  # `model`: tests/serve/conftest.py
    """The quickstart, its analyst pointed at the scripted model's server."""
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".oxy", "output"))
    config = (root / "config.yml").read_text()
    (root / "config.yml").write_text(config.replace("http://127.0.0.1:8000/v1", model.base_url))
    agent = (root / "agents" / "analyst.agent.yml").read_text()
    (root / "agents" / "analyst.agent.yml").write_text(agent.replace("model: smollm2", "model: vllm"))
    return root


def stdio(project: Path, *args: str) -> StdioServerParameters:
    return StdioServerParameters(command=OXY[0], args=["mcp", "--project", str(project), *args], cwd=project)


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def test_stdio_lists_and_runs_agents_and_workflows(project: Path, model: ScriptedModelServer) -> None:
    model.set_script(
        [
            Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"}, id="a")]),
            Reply(text="There are 240 orders."),
        ]
    )
    async with Client(stdio(project), mode="legacy") as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(listed) == {"agent-analyst", "workflow-product_report"}
        assert listed["agent-analyst"].input_schema["required"] == ["question"]
        assert listed["workflow-product_report"].input_schema["properties"]["top"]["default"] == 3

        answer = await client.call_tool("agent-analyst", {"question": "How many orders are there?"})
        assert not answer.is_error and text(answer) == "There are 240 orders."
        assert "| 240 |" in model.requests[1].messages[-1].content  # the SQL ran on the real DuckDB file

        progress: list[str] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(message or "")

        report = await client.call_tool("workflow-product_report", {"top": 2}, progress_callback=on_progress)
        assert not report.is_error, text(report)
        rows = report.structured_content["best_sellers"]["rows"]
        assert [row["name"] for row in rows] == ["Espresso beans", "Oat milk"]
        assert text(report).startswith("best_sellers:\n| name | units | revenue |")
        assert progress and any("best_sellers" in p for p in progress)

        with (
            warnings.catch_warnings()
        ):  # ping is gone from the 2026-07-28 protocol; handshake-era clients use it
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.send_ping()
        with pytest.raises(MCPError, match="Unknown tool 'nope'"):
            await client.call_tool("nope", {})
        bad = await client.call_tool("workflow-product_report", {"tops": 2})
        assert (
            bad.is_error and "Unknown argument(s) 'tops'" in text(bad) and "its arguments: top" in text(bad)
        )
        missing = await client.call_tool("agent-analyst", {})
        assert missing.is_error and "Missing argument(s) for agent-analyst: 'question'" in text(missing)
        typed = await client.call_tool("agent-analyst", {"question": 7})
        assert typed.is_error and "`question` must be a string" in text(typed)


async def test_config_chooses_the_tools_and_sql_files_take_their_variables(project: Path) -> None:
    with open(project / "config.yml", "a") as config:
        config.write("mcp:\n  tools: ['queries/top_*.sql', 'workflows/*.workflow.yml']\n")
    async with Client(stdio(project)) as client:  # the SDK's default: protocol negotiated ("auto")
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(listed) == {"sql-top_products", "workflow-product_report"}
        assert list(listed["sql-top_products"].input_schema["properties"]) == ["limit"]
        assert "required" not in listed["sql-top_products"].input_schema  # `| default(5)` may fill it
        result = await client.call_tool("sql-top_products", {"limit": 2})
        assert not result.is_error, text(result)
        assert result.structured_content is not None
        assert [row["name"] for row in result.structured_content["rows"]] == ["Espresso beans", "Oat milk"]
        assert text(result).startswith("| name | units | revenue |")
        injected = await client.call_tool("sql-top_products", {"limit": "(select 1); drop table orders"})
        assert injected.is_error and "it is written into the SQL query" in text(injected)
        commented = await client.call_tool("sql-top_products", {"limit": "1 -- rest"})
        assert commented.is_error


async def test_an_empty_tool_list_exposes_nothing_and_a_broken_file_says_why(project: Path) -> None:
    (project / "agents" / "broken.agent.yml").write_text("model: vllm\nsystem_instructions: x\ntoolz: []\n")
    async with Client(stdio(project), mode="legacy") as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert "does not load" in (listed["agent-broken"].description or "")
        result = await client.call_tool("agent-broken", {"question": "hi"})
        assert result.is_error and "toolz" in text(result)
    with open(project / "config.yml", "a") as config:
        config.write("mcp:\n  tools: []\n")
    async with Client(stdio(project), mode="legacy") as client:
        assert (await client.list_tools()).tools == []


async def test_a_cancelled_call_stops_its_run(project: Path, model: ScriptedModelServer) -> None:
    marker = project / "finished.txt"
    (project / "slow_tools.py").write_text(
        "import anyio\nfrom pathlib import Path\n\n\n"
        "async def slow() -> str:\n"
        '    """Take a while, then leave a mark."""\n'
        "    await anyio.sleep(3)\n"
        f"    Path({str(marker)!r}).write_text('x')\n"
        "    return 'finished'\n"
    )
    (project / "agents" / "slow.agent.yml").write_text(
        "model: vllm\nsystem_instructions: x\ntools:\n  - type: python\n    function: slow_tools:slow\n"
    )
    model.set_script([Reply(tool_calls=[tool_call("slow", {})]), Reply(text="Still here.")])
    async with Client(stdio(project), mode="legacy") as client:
        with anyio.move_on_after(1.5):
            await client.call_tool("agent-slow", {"question": "slow?"})
        await anyio.sleep(3)  # the tool would have finished by now, had its run not been cancelled
        assert not marker.exists()
        with anyio.fail_after(10):
            answer = await client.call_tool("agent-analyst", {"question": "How many orders?"})
        assert text(answer) == "Still here."


async def test_http_transport_needs_the_api_key_and_serves_mcp(
    project: Path, model: ScriptedModelServer
) -> None:
    created = subprocess.run(
        [*OXY, "keys", "create", "--tenant", "acme"], cwd=project, capture_output=True, text=True, check=True
    )
    key = created.stdout.strip().split()[-1]
    (project / "who_tools.py").write_text(
        "from oxy.execution.context import ExecutionContext\n\n\n"
        "async def whoami(ctx: ExecutionContext) -> str:\n"
        '    """Whose run this is."""\n'
        "    return ctx.caller.tenant\n"
    )
    (project / "agents" / "who.agent.yml").write_text(
        "model: vllm\nsystem_instructions: x\ntools:\n  - type: python\n    function: who_tools:whoami\n"
    )
    model.set_script(
        [Reply(text="Hello from acme."), Reply(tool_calls=[tool_call("whoami", {})]), Reply(text="ok")]
    )
    port = free_port()
    with http_server([*OXY, "mcp", "--transport", "http", "--port", str(port), "--project", project], port):
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx.AsyncClient() as plain:
            refused = await plain.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert refused.status_code == 401
            headers = {"Authorization": f"Bearer {key}"}
            only_mcp = await plain.get(f"http://127.0.0.1:{port}/api/agents", headers=headers)
            assert only_mcp.status_code == 404  # oxy mcp serves MCP only
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
        async with http, Client(streamable_http_client(url, http_client=http), mode="legacy") as client:  # pyright: ignore[reportArgumentType]
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert names == ["agent-analyst", "agent-who", "workflow-product_report"]
            answer = await client.call_tool("agent-analyst", {"question": "hi"})
            assert text(answer) == "Hello from acme."
            await client.call_tool("agent-who", {"question": "who?"})
            assert model.requests[-1].messages[-1].content == "acme"  # the run was the key's tenant's


async def test_oxy_serve_mounts_mcp_beside_its_api(project: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Served.")])
    port = free_port()
    with http_server([*OXY, "serve", "--mcp", "--port", str(port), "--project", project], port):
        async with httpx.AsyncClient() as plain:
            agents = await plain.get(f"http://127.0.0.1:{port}/api/agents")
            assert agents.status_code == 200
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            answer = await client.call_tool("agent-analyst", {"question": "hi"})
            assert text(answer) == "Served."


def inspector(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(npm_bin("mcp-inspector")), "--cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_mcp_inspector_cli_lists_and_calls_over_stdio_and_http(project: Path) -> None:
    stdio_target = [OXY[0], "mcp", "--project", str(project)]
    listed = inspector(*stdio_target, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr
    assert [t["name"] for t in json.loads(listed.stdout)["tools"]] == [
        "agent-analyst",
        "workflow-product_report",
    ]
    called = inspector(
        *stdio_target,
        "--method",
        "tools/call",
        "--tool-name",
        "workflow-product_report",
        "--tool-arg",
        "top=1",
    )
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert result["structuredContent"]["best_sellers"]["rows"][0]["name"] == "Espresso beans"
    unknown = inspector(*stdio_target, "--method", "tools/call", "--tool-name", "nope")
    assert unknown.returncode == 5, (unknown.stdout, unknown.stderr)

    port = free_port()
    with http_server([*OXY, "mcp", "--transport", "http", "--port", str(port), "--project", project], port):
        url = f"http://127.0.0.1:{port}/mcp"
        listed = inspector(url, "--transport", "http", "--method", "tools/list")
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)["tools"]) == 2
        called = inspector(
            url, "--transport", "http", "--method", "tools/call", "--tool-name", "workflow-product_report"
        )
        assert called.returncode == 0, called.stderr
        assert len(json.loads(called.stdout)["structuredContent"]["best_sellers"]["rows"]) == 3


def test_a_broken_project_fails_in_one_line_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text("models: [\n")
    done = subprocess.run(
        [*OXY, "mcp", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stdout == ""  # stdout is the protocol's: nothing else is written there
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.yml" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


async def test_serve_without_stdio_mcp_refuses_to_start_a_server(project: Path) -> None:
    fault_server = Path(__file__).resolve().parents[2] / "tools" / "mcp_client" / "fault_server.py"
    (project / "agents" / "tools.agent.yml").write_text(
        "model: vllm\nsystem_instructions: x\ntools:\n  - name: faults\n    type: mcp\n"
        f"    command: {sys.executable}\n    args: [{json.dumps(str(fault_server))}]\n"
    )
    async for client in open_client(create_app(settings_for(project, stdio_mcp=False))):
        response = await client.post("/api/agents/tools/runs", json={"prompt": "hi", "stream": False})
        body = response.json()
        assert body["status"] == "error", body
        assert "--no-stdio-mcp" in body["error"]


async def test_mcp_answers_only_allowed_hosts(project: Path) -> None:
    async for client in open_client(create_app(settings_for(project, mcp=True))):
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        rebound = await client.post("/mcp", json=ping, headers={"Host": "evil.example"})
        assert rebound.status_code == 403
        assert "Host 'evil.example' is not allowed" in rebound.json()["error"]["message"]


def test_oxy_serve_mcp_with_several_workers(project: Path) -> None:
    port = free_port()
    command = [*OXY, "serve", "--mcp", "--workers", "2", "--port", str(port), "--project", project]

    async def clients() -> None:
        for _ in range(6):  # each session's requests may reach either worker
            async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as client:
                assert len((await client.list_tools()).tools) == 2
                report = await client.call_tool("workflow-product_report", {"top": 1})
                assert not report.is_error, text(report)

    with http_server(command, port):
        anyio.run(clients)
