"""`oxy mcp list-tools` (what a user runs first when a server misbehaves) and `oxy validate` on
`type: mcp` entries and config.yml's `mcp_servers:`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from oxy.cli.validate import validate
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
