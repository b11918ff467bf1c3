"""projects/workspace/ as shipped: its agent fixes the failing test of the small repository in repo/,
run by `oxy run` with the scripted model in place of the project's (a real model is documented in
docs/workspace.md). Its rules deny editing the tests; the edit it makes is approved with --yes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from oxy.models import ToolMessage
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn, tool_call

EXAMPLE = Path(__file__).resolve().parents[1] / "projects" / "workspace"
OXY = str(Path(sys.executable).with_name("oxy"))
PYTEST = "python -m pytest -q -p no:cacheprovider"


def fixer(request: ScriptedRequest) -> Turn:
    """A model that fixes the bug as a good one would: test, read, try the test (denied), fix, test."""
    done = [m for m in request.messages if isinstance(m, ToolMessage)]
    steps = [
        tool_call("bash", {"command": PYTEST}),
        tool_call("read", {"path": "inventory/stock.py"}),
        tool_call(
            "edit",
            {"path": "tests/test_stock.py", "old_string": '{"beans": 13}', "new_string": '{"beans": 10}'},
        ),
        tool_call(
            "edit",
            {
                "path": "inventory/stock.py",
                "old_string": "updated[item] = amount",
                "new_string": "updated[item] = updated.get(item, 0) + amount",
            },
        ),
        tool_call("bash", {"command": PYTEST}),
    ]
    if len(done) < len(steps):
        return Reply(tool_calls=[steps[len(done)]])
    return Reply(text="restock replaced the level instead of adding to it; it adds now, and the tests pass.")


def test_the_example_agent_fixes_the_failing_test(tmp_path: Path) -> None:
    project = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".oxy", "__pycache__", ".pytest_cache"))
    with ScriptedModelServer(fixer) as server:
        config = (project / "config.yml").read_text()
        (project / "config.yml").write_text(config.replace("http://127.0.0.1:8000/v1", server.base_url))
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run(
            [OXY, "run", "agents/fixer.agent.yml", "Make the tests pass.", "--yes"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        results = [m for m in server.requests[-1].messages if isinstance(m, ToolMessage)]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "it adds now, and the tests pass" in done.stdout
    assert "1 failed, 2 passed" in results[0].content
    assert results[2].content.startswith(
        "Error: edit tests/test_stock.py is not permitted: rule deny: edit(tests/**)"
    )
    assert results[3].content == "Edited inventory/stock.py at line 7."
    assert "3 passed" in results[4].content and results[4].content.endswith("[exit code 0]")
    fixed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project / "repo",
        capture_output=True,
        text=True,
        check=False,
    )
    assert fixed.returncode == 0, fixed.stdout
    assert (project / "repo" / "tests" / "test_stock.py").read_text() == (
        EXAMPLE / "repo" / "tests" / "test_stock.py"
    ).read_text()
