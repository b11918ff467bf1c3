"""`oxy mcp list-tools` (what a user runs first when a server misbehaves) and `oxy validate` on
`type: mcp` entries and config.yml's `mcp_servers:`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from oxy.cli.validate import validate
from oxy.testing import Reply, ScriptedModelServer, tool_call
from tests.tools.mcp_client.test_mcp_tools import FAULT_SERVER, stdio_tool, write_project

OXY = str(Path(sys.executable).with_name("oxy"))


def oxy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OXY, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_list_tools_of_an_agent(tmp_path: Path) -> None:
    write_project(tmp_path / "p", stdio_tool(tmp_path, extra="    tools: [echo, add]\n"))
    done = oxy("mcp", "list-tools", "agents/a.agent.yml", cwd=tmp_path / "p")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("MCP server 'faults' (") and lines[0].endswith(": 2 tools")
    assert "  faults_echo  (echo)" in lines
    arguments = lines[lines.index("  faults_echo  (echo)") + 2]
    assert arguments.startswith("      arguments: ")
    assert json.loads(arguments.removeprefix("      arguments: "))["required"] == ["text"]

    as_json = oxy("mcp", "list-tools", "agents/a.agent.yml", "--json", cwd=tmp_path / "p")
    listed = json.loads(as_json.stdout)
    assert [t["name"] for t in listed[0]["tools"]] == ["faults_echo", "faults_add"]
    assert listed[0]["tools"][1]["input_schema"]["required"] == ["a", "b"]


def test_list_tools_of_a_declared_server_and_its_failures(tmp_path: Path) -> None:
    argv = json.dumps([str(FAULT_SERVER), "--state-dir", str(tmp_path)])
    servers = (
        f"mcp_servers:\n  - name: faults\n    command: {sys.executable}\n    args: {argv}\n"
        f"  - name: broken\n    command: {sys.executable}\n"
        f"    args: {json.dumps([str(FAULT_SERVER), '--fail-start', 'missing setting FOO'])}\n"
    )
    write_project(tmp_path / "p", "  - name: faults\n    type: mcp\n", config_extra=servers)
    done = oxy("mcp", "list-tools", "faults", cwd=tmp_path / "p")
    assert done.returncode == 0, done.stderr
    assert "  faults_crash  (crash)" in done.stdout.splitlines()

    broken = oxy("mcp", "list-tools", "broken", cwd=tmp_path / "p")
    assert broken.returncode == 1
    assert broken.stderr.count("\n") == 1 and "missing setting FOO" in broken.stderr
    assert "Traceback" not in broken.stderr

    unknown = oxy("mcp", "list-tools", "nope", cwd=tmp_path / "p")
    assert unknown.returncode == 1
    assert (
        "MCP server 'nope' is not declared in config.yml's `mcp_servers:` (declared: broken, faults)"
        in unknown.stderr
    )


def test_validate_checks_mcp_entries(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write_project(
        root,
        "  - name: docs\n    type: mcp\n  - name: tz\n    type: mcp\n    server: nope\n",
        config_extra="mcp_servers: servers.json\n",
    )
    (root / "servers.json").write_text(
        json.dumps({"mcpServers": {"docs": {"url": "http://127.0.0.1:1/mcp"}}})
    )
    (root / "agents" / "b.agent.yml").write_text(
        "model: m\nsystem_instructions: x\ntools:\n  - name: x\n    type: mcp\n    command: a\n    url: http://b/mcp\n"
    )
    result = CliRunner().invoke(validate, ["--project", str(root)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        "agents/a.agent.yml:8:13: MCP server 'nope' is not declared in config.yml's `mcp_servers:` (declared: docs); "
        "declare it there, or give this tool `command:` (stdio) or `url:` (streamable HTTP)"
    ) in lines
    assert any(
        line.startswith("agents/b.agent.yml:4:5:") and "give either `command`" in line for line in lines
    ), lines

    (root / "servers.json").write_text('{"mcpServers": {"web": {"type": "sse", "url": "http://x/sse"}}}')
    result = CliRunner().invoke(validate, ["--project", str(root)])
    assert "config.yml:6:14: servers.json: server 'web': the SSE transport is deprecated" in result.output


def test_ctrl_c_during_an_mcp_call_stops_oxy_run_and_its_server(tmp_path: Path) -> None:
    agent = write_project(tmp_path / "p", stdio_tool(tmp_path))
    reply = Reply(tool_calls=[tool_call("faults_slow", {"seconds": 60}, id="s")])
    with ScriptedModelServer([reply, Reply(text="too late")]) as server:
        config = tmp_path / "p" / "config.yml"
        config.write_text(config.read_text().replace("http://127.0.0.1:9/v1", server.base_url))
        proc = subprocess.Popen(
            [OXY, "run", str(agent), "go", "--format", "jsonl"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until the tool is called
            if '"kind": "tool_call"' in line or '"kind":"tool_call"' in line:
                break
        time.sleep(0.3)
        assert running_with(str(tmp_path)) == 1  # the server is working on the call
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    assert proc.returncode == 130
    assert err.strip() == "Cancelled."
    assert took < 1.0  # Ctrl-C stops within a second, the server included
    assert running_with(str(tmp_path)) == 0  # the server went with it


def running_with(marker: str) -> int:
    """Live processes whose command line contains `marker`."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in cmdline and "fault_server" in cmdline and state != "Z":
            count += 1
    return count
