"""Every command README.md shows is run here, the way a person would run it after the quickstart."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
VENV_BIN = Path(sys.executable).parent

# The command running this very test suite; running it again from inside would recurse.
SELF = "make test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_until_healthy(command: str, *, cwd: Path, env: dict[str, str]) -> None:
    """A server runs until stopped: start it (on a free port), wait for /health, stop it by its PID."""
    port = free_port()
    args = [arg if arg != "3000" else str(port) for arg in shlex.split(command)]
    with subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        try:
            wait_healthy(proc, command, port)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def wait_healthy(proc: subprocess.Popen[str], command: str, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"`{command}` exited {proc.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                assert json.loads(response.read()) == {"status": "ok"}
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"`{command}` did not answer /health within 60 s")


def readme_commands() -> list[tuple[str, str]]:
    """(working directory relative to the repo, command) for each command in README's bash blocks."""
    text = README.read_text()
    commands: list[tuple[str, str]] = []
    cwd = "."
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for raw in block.splitlines():
            line = re.sub(r"\s+#.*$", "", raw).strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("cd "):
                cwd = os.path.normpath(os.path.join(cwd, line[3:].strip()))
                continue
            commands.append((cwd, line))
    return commands


def test_readme_shows_exactly_the_two_setup_commands_near_the_top() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert first_block is not None
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in first_block.group(1).splitlines()]
    assert [line for line in lines if line] == ["make demo", "make test"]


@pytest.fixture(scope="module")
def projects_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `projects/`: the commands write run records, exports and new projects."""
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(REPO / "projects", root / "projects")
    return root


@pytest.mark.parametrize(("cwd", "command"), readme_commands(), ids=lambda v: str(v))
def test_readme_command_runs(cwd: str, command: str, projects_copy: Path) -> None:
    if command == SELF:
        pytest.skip("this is the command running the test suite")
    if command.startswith("source "):
        assert (REPO / shlex.split(command)[1]).exists()
        return
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MAKEFLAGS", None)
    where = projects_copy / cwd if cwd.startswith("projects") else REPO / cwd
    if command.startswith("oxy serve"):
        serve_until_healthy(command, cwd=where, env=env)
        return
    proc = subprocess.run(
        command, shell=True, cwd=where, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, (
        f"`{command}` in {cwd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    )


def test_what_the_readme_commands_write_is_ignored_by_git(projects_copy: Path) -> None:
    # Runs after the commands above (same module, same copy of projects/).
    written = [
        path.relative_to(projects_copy).as_posix()
        for path in (projects_copy / "projects").rglob("*")
        if path.is_file() and not (REPO / path.relative_to(projects_copy)).exists()
    ]
    assert any(p.startswith("projects/my-shop/") for p in written)  # the commands did run
    assert any(p.startswith("projects/quickstart/output/") for p in written)
    checked = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=REPO,
        input="\n".join(written),
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(checked.stdout.splitlines()) == sorted(written)  # every one is ignored


def test_the_install_name_the_readme_gives_is_the_one_pyproject_builds() -> None:
    assert 'name = "oxy-engine"' in (REPO / "pyproject.toml").read_text()
    assert "`pip install oxy-engine`" in README.read_text()
