"""docs/serve.md: every command it shows runs (curl against a live server, `oxy serve`, `oxy keys`)."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer

from ._live import live_server
from .conftest import settings_for
from .test_kill import free_port

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "serve.md"


def doc_commands() -> list[str]:
    text = DOC.read_text()
    return [
        line
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
        for line in block.splitlines()
    ]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_documented_requests_run(project: Path, model: ScriptedModelServer) -> None:
    model.set_script(lambda request: Reply(text="There are 240 orders."))
    curls = [line for line in doc_commands() if line.startswith("curl ")]
    assert len(curls) == 2
    with live_server(create_app(settings_for(project))) as url:
        for line in curls:
            args = shlex.split(line.replace("http://127.0.0.1:3000", url))
            done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True)
            assert '"status":"ok"' in done.stdout, done.stdout


def test_the_documented_keys_commands_run(project: Path) -> None:
    commands = [line for line in doc_commands() if line.startswith("oxy keys ")]
    assert [shlex.split(c)[:3] for c in commands] == [
        ["oxy", "keys", "create"],
        ["oxy", "keys", "list"],
        ["oxy", "keys", "revoke"],
    ]
    key_id = ""
    for command in commands:
        args = [a.replace("KEY_ID", key_id) for a in shlex.split(command)[1:]]
        result = CliRunner().invoke(cli, [*args, "--project", str(project)])
        assert result.exit_code == 0, result.output
        if args[1] == "list":
            header, row = result.stdout.splitlines()
            assert header.split("\t")[:3] == ["id", "tenant", "name"]
            key_id = row.split("\t")[0]
            assert row.split("\t")[1:3] == ["acme", "ci"]


def test_the_documented_serve_command_starts(tmp_path: Path) -> None:
    (command,) = [line for line in doc_commands() if line.startswith("oxy serve")]
    shutil.copytree(REPO / "projects" / "quickstart", tmp_path / "projects" / "quickstart")
    port = free_port()
    args = shlex.split(command.replace("--port 3000", f"--port {port}"))[1:]
    child = subprocess.Popen(
        [sys.executable, "-c", "from oxy.cli import main; main()", *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready")
                break
            except httpx.TransportError:
                assert child.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        assert ready.json() == {"status": "ready"}
        agents = httpx.get(f"http://127.0.0.1:{port}/api/agents").json()
        assert [a["name"] for a in agents] == ["analyst"]
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(15)
