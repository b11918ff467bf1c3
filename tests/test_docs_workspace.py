"""docs/workspace.md as written: its agent is valid, and its commands run in a copy of
projects/workspace/ with the scripted model in place of the real one (the first `oxy run` through a
pseudo-terminal, approving the edit as a person would)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from oxy.testing import ScriptedModelServer
from tests.pty_terminal import Terminal
from tests.test_example_workspace import EXAMPLE, fixer

DOC = (Path(__file__).resolve().parents[1] / "docs" / "workspace.md").read_text()
OXY = str(Path(sys.executable).with_name("oxy"))


def test_the_documented_agent_is_the_example_s() -> None:
    (agent,) = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)
    documented = yaml.safe_load(agent)
    example = yaml.safe_load((EXAMPLE / "agents" / "fixer.agent.yml").read_text())
    assert documented["tools"] == example["tools"]
    assert documented["permissions"]["ask"] == example["permissions"]["ask"]
    assert documented["permissions"]["deny"] == example["permissions"]["deny"]
    assert set(documented["permissions"]["allow"]) <= set(example["permissions"]["allow"])


def test_the_documented_commands(tmp_path: Path) -> None:
    (commands,) = re.findall(r"```bash\n(.*?)```", DOC, flags=re.DOTALL)
    lines = commands.strip().splitlines()
    project = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".oxy", "__pycache__", ".pytest_cache"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    pristine = (project / "repo" / "inventory" / "stock.py").read_text()
    with ScriptedModelServer(fixer) as server:
        config = (project / "config.yml").read_text()
        (project / "config.yml").write_text(config.replace("http://127.0.0.1:8000/v1", server.base_url))

        def oxy(line: str) -> subprocess.CompletedProcess[str]:
            args = [OXY if a == "oxy" else a for a in shlex.split(line)]
            return subprocess.run(
                args, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
            )

        validated = oxy(lines[0])
        assert validated.returncode == 0 and "0 errors" in validated.stdout, validated.stdout
        term = Terminal([OXY, *shlex.split(lines[1])[1:]], cwd=project)
        try:
            term.expect("Allow edit inventory/stock.py? (rule ask: edit(**))")
            term.type("y")
            term.expect("it adds now, and the tests pass")
        finally:
            code = term.close()
        assert code == 0, term.seen
        assert (project / "repo" / "inventory" / "stock.py").read_text() != pristine
        (project / "repo" / "inventory" / "stock.py").write_text(pristine)  # `git checkout` puts it back
        unattended = oxy(lines[2])
        assert unattended.returncode == 0, unattended.stdout + unattended.stderr
        assert "it adds now, and the tests pass" in unattended.stdout
        listed = oxy(lines[3])
        assert listed.returncode == 0 and listed.stdout == "", listed.stdout
