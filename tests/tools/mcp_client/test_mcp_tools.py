"""MCP servers' tools in an agent (`type: mcp`): a scripted model calls them and the results reach it;
servers are shared, restarted, timed out and explained as a user would need. The server is the in-repo
fault server (`fault_server.py`), started by oxy over stdio or run over streamable HTTP."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.errors import ConfigError
from oxy.models import messages as m
from oxy.testing import Reply, ScriptedModel, tool_call
from tests.mcp_servers import free_port, http_server

pytestmark = pytest.mark.anyio

FAULT_SERVER = Path(__file__).with_name("fault_server.py")


def write_project(root: Path, tool: str, *, config_extra: str = "", agent_extra: str = "") -> Path:
    """A project with model `m` and `agents/a.agent.yml` whose `tools:` is `tool` (YAML, indented 2)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: x\n    api_url: http://127.0.0.1:9/v1\n"
        + config_extra
    )
    (root / "agents").mkdir(exist_ok=True)
    (root / "agents" / "a.agent.yml").write_text(
        f"model: m\nsystem_instructions: Use the tools.\n{agent_extra}tools:\n{tool}"
    )
    return root / "agents" / "a.agent.yml"


def stdio_tool(state: Path, *, name: str = "faults", extra: str = "", args: tuple[str, ...] = ()) -> str:
    argv = [str(FAULT_SERVER), "--state-dir", str(state), *args]
    return f"  - name: {name}\n    type: mcp\n    command: {sys.executable}\n    args: {json.dumps(argv)}\n{extra}"


def tool_result(model: ScriptedModel, index: int = -1) -> m.ToolMessage:
    message = model.requests[index].messages[-1]
    assert isinstance(message, m.ToolMessage), message
    return message


def ask(*calls: tuple[str, dict[str, Any]]) -> list[Reply]:
    """A script: each call in its own turn, then a final answer."""
    return [
        *(Reply(tool_calls=[tool_call(name, args, id=f"c{i}")]) for i, (name, args) in enumerate(calls)),
        Reply(text="done"),
    ]


async def test_tool_results_reach_the_model(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path, extra="    max_output_chars: 500\n"))
    model = ScriptedModel(
        ask(
            ("faults_echo", {"text": "hello <b>&</b>"}),
            ("faults_add", {"a": 2, "b": 3}),
            ("faults_image", {}),
            ("faults_fail", {"message": "the disk is on fire"}),
            ("faults_huge", {"chars": 5000}),
            ("faults_echo", {"nope": 1}),
            ("faults_echo", "not json"),
        )
    )
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="go")
    assert result.status == "ok", result.error
    first = model.requests[0]
    names = [tool.name for tool in first.tools]
    assert {"faults_echo", "faults_add", "faults_slow", "faults_crash", "faults_huge"} <= set(names)
    echo = next(t for t in first.tools if t.name == "faults_echo")
    assert echo.parameters["properties"]["text"]["type"] == "string"
    assert tool_result(model, 1).content == "hello <b>&</b>"  # as the server said it: no escaping
    assert tool_result(model, 2).content.strip() == "5"
    image = tool_result(model, 3).content
    assert "[image: image/png" in image and "not shown to the model" in image and "a 1x1 red pixel" in image
    failed = tool_result(model, 4).content
    assert "the disk is on fire" in failed and "failed" in failed
    huge = tool_result(model, 5).content
    assert huge.startswith("x" * 500) and "x" * 501 not in huge
    assert "[cut: the result has 5,000 characters; the first 500 are shown (max_output_chars)" in huge
    bad_args = tool_result(model, 6).content
    assert "text" in bad_args.lower()  # the server's validation error names the missing argument
    assert "not valid JSON" in tool_result(model, 7).content


async def test_server_is_shared_by_runs_and_agents_and_stopped_with_the_runtime(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path))
    # Another agent declaring the same server (same name, same command) shares its process.
    (tmp_path / "p" / "agents" / "b.agent.yml").write_text(
        "model: m\nsystem_instructions: x\ntools:\n" + stdio_tool(tmp_path, extra="    prefix: other\n")
    )
    model = ScriptedModel(ask(("faults_starts", {})) + ask(("faults_starts", {})) + ask(("other_starts", {})))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        for file in (agent, agent, tmp_path / "p" / "agents" / "b.agent.yml"):
            result = await run_file(file, runtime=runtime, prompt="go")
            assert result.status == "ok", result.error
        assert children_running(FAULT_SERVER.name) == 1
    assert [tool_result(model, i).content for i in (1, 3, 5)] == ["1", "1", "1"]
    await wait_for(lambda: children_running(FAULT_SERVER.name) == 0)


async def test_a_server_that_dies_mid_call_fails_the_call_and_the_next_run_reconnects(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path))
    model = ScriptedModel(ask(("faults_crash", {})) + ask(("faults_starts", {})))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        first = await run_file(agent, runtime=runtime, prompt="crash")
        second = await run_file(agent, runtime=runtime, prompt="again")
    assert first.status == "ok" and second.status == "ok"
    crashed = tool_result(model, 1).content
    assert "MCP server 'faults'" in crashed and "went away during the call" in crashed
    assert tool_result(model, 3).content == "2"  # a second process
    log = (tmp_path / "p" / ".oxy" / "mcp" / "faults.log").read_text()
    assert "fault_server: crashing on purpose" in log


async def test_a_slow_tool_times_out_and_the_run_goes_on(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path, extra="    timeout: 0.5\n"))
    model = ScriptedModel(ask(("faults_slow", {"seconds": 5}), ("faults_echo", {"text": "still here"})))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    started = anyio.current_time()
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="go")
    assert result.status == "ok", result.error
    assert "took longer than 0.5 s (timeout)" in tool_result(model, 1).content
    assert tool_result(model, 2).content == "still here"
    assert anyio.current_time() - started < 4


async def test_a_changed_tool_list_reaches_the_next_run(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path))
    model = ScriptedModel(ask(("faults_add_tool", {"name": "extra"})) + ask(("faults_extra", {})))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        await run_file(agent, runtime=runtime, prompt="add")
        connection = next(iter(runtime._kept.values()))  # pyright: ignore[reportPrivateUsage]
        await wait_for(lambda: connection._tools is None)  # pyright: ignore[reportPrivateUsage]
        await run_file(agent, runtime=runtime, prompt="use")
    assert "faults_extra" not in [t.name for t in model.requests[0].tools]
    assert "faults_extra" in [t.name for t in model.requests[2].tools]
    assert tool_result(model, 3).content == "I am extra"


async def test_allow_list_exclude_and_prefix(tmp_path: Path) -> None:
    extra = "    prefix: f\n    tools: [echo, 'a*']\n    exclude: [add_tool]\n"
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path, extra=extra))
    model = ScriptedModel([Reply(text="done")])
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        await run_file(agent, runtime=runtime, prompt="go")
    assert sorted(t.name for t in model.requests[0].tools) == ["f_add", "f_echo"]


@pytest.mark.parametrize(
    ("args", "extra", "expected"),
    [
        (("--fail-start", "config error: no API token given"), "", "config error: no API token given"),
        (("--hang-start",), "    connect_timeout: 1\n", "did not answer within 1 s (connect_timeout)"),
    ],
)
async def test_a_server_that_does_not_start_is_explained_in_one_line(
    tmp_path: Path, args: tuple[str, ...], extra: str, expected: str
) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path, args=args, extra=extra))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": ScriptedModel([])})
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="go")
    assert result.status == "error"
    message = str(result.error)
    assert "\n" not in message
    assert message.startswith("MCP server 'faults' (")
    assert expected in message
    assert "(log: .oxy/mcp/faults.log)" in message
    await wait_for(lambda: children_running(FAULT_SERVER.name) == 0)


async def test_a_missing_command_says_so(tmp_path: Path) -> None:
    tool = "  - name: gone\n    type: mcp\n    command: no-such-mcp-server-here\n"
    agent = write_project(tmp_path / "p", tool)
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": ScriptedModel([])})
    result = await run_file(agent, runtime=runtime, prompt="go")  # a runtime not entered: per run
    assert result.status == "error"
    assert "no-such-mcp-server-here was not found; install it or fix `command:`" in str(result.error)


async def test_stdio_servers_can_be_refused(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path))
    runtime = Runtime.for_project(
        load_project(tmp_path / "p"), models={"m": ScriptedModel([])}, stdio_mcp=False
    )
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="go")
    assert result.status == "error"
    assert "--no-stdio-mcp" in str(result.error)
    assert not (tmp_path / "starts").exists()  # never started


async def test_servers_declared_in_config_and_in_a_json_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULT_SECRET", "s3cret-value")
    argv = [str(FAULT_SERVER), "--state-dir", str(tmp_path)]
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "servers.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "faults": {
                        "command": sys.executable,
                        "args": argv,
                        "env": {"FAULT_SECRET": "${env:FAULT_SECRET}"},
                    }
                }
            }
        )
    )
    agent = write_project(
        tmp_path / "p",
        "  - name: faults\n    type: mcp\n  - name: again\n    type: mcp\n    server: faults\n    tools: [echo]\n",
        config_extra="mcp_servers: servers.json\n",
    )
    model = ScriptedModel(ask(("faults_whoami", {}), ("again_echo", {"text": "x"})))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="go")
    assert result.status == "ok", result.error
    assert tool_result(model, 1).content == "authorization=none secret=s3cret-value"
    assert tool_result(model, 2).content == "x"
    assert [t.name for t in model.requests[0].tools].count("again_echo") == 1
    assert (tmp_path / "starts").read_text().count("\n") == 1  # both entries share one process


async def test_http_server_with_headers_from_the_environment_and_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCS_TOKEN", "Bearer tok-123")
    port = free_port()
    tool = (
        f"  - name: docs\n    type: mcp\n    url: http://127.0.0.1:{port}/mcp\n"
        "    headers: {Authorization: {env_var: DOCS_TOKEN}}\n    connect_timeout: 20\n"
    )
    agent = write_project(tmp_path / "p", tool)
    model = ScriptedModel(ask(("docs_whoami", {})) + ask(("docs_starts", {})))
    argv = [sys.executable, FAULT_SERVER, "--transport", "http", "--port", str(port), "--state-dir", tmp_path]
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        with http_server(argv, port):
            first = await run_file(agent, runtime=runtime, prompt="who")
        with http_server(argv, port):  # the server restarted: its sessions are gone
            started = anyio.current_time()
            second = await run_file(agent, runtime=runtime, prompt="again")
            reconnected_in = anyio.current_time() - started
    assert first.status == "ok" and second.status == "ok", (first.error, second.error)
    assert tool_result(model, 1).content == "authorization=Bearer tok-123 secret=none"
    assert tool_result(model, 3).content == "2"
    assert reconnected_in < 10  # a new session at once, not after connect_timeout (20 s)


async def test_an_unreachable_http_server_is_explained_without_its_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCS_TOKEN", "tok-secret-456")
    port = free_port()
    tool = (
        f"  - name: docs\n    type: mcp\n    url: http://127.0.0.1:{port}/mcp?key=tok-secret-456\n"
        "    headers: {X-Key: {env_var: DOCS_TOKEN}}\n    connect_timeout: 3\n"
    )
    agent = write_project(tmp_path / "p", tool)
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": ScriptedModel([])})
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="go")
    assert result.status == "error"
    message = str(result.error)
    assert message.startswith("MCP server 'docs' (http://127.0.0.1:")
    assert "tok-secret-456" not in message


async def test_an_unset_env_var_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_TOKEN", raising=False)
    tool = "  - name: docs\n    type: mcp\n    url: http://127.0.0.1:9/mcp\n    headers: {A: {env_var: NOT_SET_TOKEN}}\n"
    agent = write_project(tmp_path / "p", tool)
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": ScriptedModel([])})
    with pytest.raises(
        ConfigError, match=r"environment variable 'NOT_SET_TOKEN' is not set \(tools.docs.headers.A"
    ):
        await run_file(agent, runtime=runtime, prompt="go")


async def test_a_cancelled_run_leaves_no_process(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path))
    model = ScriptedModel(ask(("faults_slow", {"seconds": 30})))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    with anyio.move_on_after(3):
        await run_file(agent, runtime=runtime, prompt="go")  # per-run server: closed with the run
    await wait_for(lambda: children_running(FAULT_SERVER.name) == 0)


def children_running(marker: str) -> int:
    """How many processes whose parent is this one have `marker` in their command line."""
    count = 0
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me and marker in cmdline and state != "Z":
            count += 1
    return count


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.05)


async def test_max_concurrency_bounds_calls_to_a_server(tmp_path: Path) -> None:
    # The agent may run both calls of a turn at once; the server entry allows one at a time.
    agent = write_project(
        tmp_path / "p",
        stdio_tool(tmp_path, extra="    max_concurrency: 1\n"),
        agent_extra="max_tool_concurrency: 2\n",
    )
    both = [
        tool_call("faults_slow", {"seconds": 0.6}, id="x"),
        tool_call("faults_slow", {"seconds": 0.6}, id="y"),
    ]
    model = ScriptedModel([Reply(tool_calls=both), Reply(text="done")])
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        await run_file(agent, runtime=runtime, prompt="warm up: starts the server")  # not timed
        model.set_script([Reply(tool_calls=both), Reply(text="done")])
        started = anyio.current_time()
        result = await run_file(agent, runtime=runtime, prompt="go")
        elapsed = anyio.current_time() - started
    assert result.status == "ok", result.error
    assert elapsed >= 1.2  # one after the other: in parallel they would take 0.6 s


async def test_a_result_oxy_cannot_read_is_a_tool_error(tmp_path: Path) -> None:
    raw = json.dumps([str(Path(__file__).with_name("raw_server.py"))])
    agent = write_project(
        tmp_path / "p", f"  - name: raw\n    type: mcp\n    command: {sys.executable}\n    args: {raw}\n"
    )
    model = ScriptedModel(ask(("raw_mismatch", {}), ("raw_malformed", {})))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        result = await run_file(agent, runtime=runtime, prompt="go")
    assert result.status == "ok", result.error  # the run goes on: the model reads what went wrong
    assert "raw_mismatch: the server's answer could not be read" in tool_result(model, 1).content
    assert "raw_malformed: the server's answer could not be read" in tool_result(model, 2).content


async def test_runs_at_once_share_one_attempt_at_a_failing_server(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path, args=("--fail-start", "bad token")))
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": ScriptedModel([])})
    results: list[Any] = []

    async def one() -> None:
        results.append(await run_file(agent, runtime=runtime, prompt="go"))

    async with runtime:
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(one)
    assert [r.status for r in results] == ["error"] * 4
    assert all("bad token" in str(r.error) for r in results)
    assert (tmp_path / "starts").read_text().count("\n") == 1  # one attempt, its outcome shared


async def test_a_server_that_keeps_dying_is_restarted_with_backoff(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path, args=("--exit-after", "0.2")))
    model = ScriptedModel([Reply(text="done")])
    runtime = Runtime.for_project(load_project(tmp_path / "p"), models={"m": model})
    async with runtime:
        await run_file(agent, runtime=runtime, prompt="go")
        await anyio.sleep(4)  # nobody asks: the supervisor restarts it on its own, ever more slowly
    starts = (tmp_path / "starts").read_text().count("\n")
    # A fixed 0.1 s retry would start it ~13 times in 4 s; doubling delays (0.1 .. 3.2 s, jittered) fewer.
    assert 2 <= starts <= 8, starts


def test_tool_names_that_clash_once_made_valid_are_a_config_error() -> None:
    from oxy.tools.mcp_client import model_tool_names

    assert (
        model_tool_names("fs", ["read.file", "x" * 80], server="s", file=None)["fs_read_file"] == "read.file"
    )
    with pytest.raises(ConfigError, match=r"tools 'a.b' and 'a_b' are both called 'p_a_b'"):
        model_tool_names("p", ["a.b", "a_b"], server="MCP server 'p'", file="agents/a.agent.yml")
    long = model_tool_names("", ["y" * 100], server="s", file=None)
    assert all(len(name) <= 64 for name in long)
