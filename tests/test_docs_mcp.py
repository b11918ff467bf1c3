"""docs/mcp.md: its files make a project that validates, and every command it shows runs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oxy.config.mcp import load_mcp_servers_file
from tests.mcp_servers import free_port, http_server, npm_bin

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "mcp.md").read_text()
BIN = Path(sys.executable).parent
LONG_RUNNING = ("oxy mcp --transport http", "oxy serve --mcp")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def commands() -> list[str]:
    return [line for block in blocks("bash") for line in block.splitlines() if line.strip()]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The quickstart plus every file the page shows (`# path` on a YAML block's first line; an excerpt
    of config.yml is appended to it)."""
    root = tmp_path / "shop"
    shutil.copytree(REPO / "projects" / "quickstart", root, ignore=shutil.ignore_patterns(".oxy", "output"))
    for block in blocks("yaml"):
        first, _, body = block.partition("\n")
        path = first.removeprefix("# ").split(" ")[0]
        if path == "config.yml":
            with open(root / path, "a") as config:
                config.write("\n" + body)
        else:
            (root / path).write_text(body)
    return root


def run(command: str, cwd: Path, ports: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv(command, ports), cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def argv(command: str, ports: dict[str, str]) -> list[str]:
    for documented, free in ports.items():
        command = command.replace(documented, free)
    args = shlex.split(command)
    if args[:2] == ["npx", "@modelcontextprotocol/inspector"]:
        args = [str(npm_bin("mcp-inspector")), *args[2:]]
    elif args[0] in ("oxy", "pip"):
        args[0] = str(BIN / args[0])
    return [str(BIN / "oxy") if a == "oxy" else a for a in args]


def test_the_documented_project_validates(project: Path) -> None:
    done = subprocess.run([BIN / "oxy", "validate"], cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mcp" in (project / "config.yml").read_text()


def test_the_documented_json_files_read(tmp_path: Path) -> None:
    servers, desktop = (json.loads(block) for block in blocks("json"))
    path = tmp_path / "servers.json"
    path.write_text(json.dumps(servers))
    loaded = load_mcp_servers_file(path, tmp_path)
    assert sorted(loaded) == ["clock", "docs"]
    assert loaded["docs"].headers is not None and "Authorization" in loaded["docs"].headers
    assert desktop["mcpServers"]["shop"]["args"][:1] == ["mcp"]


def test_every_documented_command_runs(project: Path) -> None:
    npm_bin("mcp-inspector")  # skips, saying how to install it, when the Inspector is absent
    ports = {"3001": str(free_port()), "3000": str(free_port())}
    listed = commands()
    assert any(c.startswith("npx @modelcontextprotocol/inspector --cli oxy mcp") for c in listed)
    servers = {c: c.split("--port ")[1] for c in listed if c.startswith(LONG_RUNNING)}
    assert len(servers) == 2
    for command in (c for c in listed if not c.startswith(LONG_RUNNING) and "127.0.0.1:" not in c):
        done = run(command, project, ports)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        if command.startswith("oxy mcp list-tools"):
            expected = blocks("text")[0].splitlines()[0]
            assert done.stdout.splitlines()[0] == expected
        if "tools/list" in command:
            assert [t["name"] for t in json.loads(done.stdout)["tools"]] == [
                "agent-analyst",
                "agent-clock",
                "agent-scheduler",
                "workflow-product_report",
                "sql-orders_per_customer",
                "sql-revenue_by_category",
                "sql-top_products",
            ]
        if "tools/call" in command:
            rows = json.loads(done.stdout)["structuredContent"]["best_sellers"]["rows"]
            assert len(rows) == 2
    for command, port in servers.items():
        with http_server(argv(command, ports), int(ports[port]), cwd=project):
            for client in (c for c in listed if "127.0.0.1:" in c):
                done = run(client.replace("127.0.0.1:3001", f"127.0.0.1:{ports[port]}"), project, {})
                assert done.returncode == 0, (client, done.stdout, done.stderr)
                assert len(json.loads(done.stdout)["tools"]) == 7  # agents, workflow, three queries
