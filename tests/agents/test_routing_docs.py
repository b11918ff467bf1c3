"""docs/routing.md's commands run as shown: `oxy make`, then validate and run what it made.

The agents run against the scripted model server instead of SmolLM2 (the config's model is
repointed right after `oxy make`, as a person would switch to a server model).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "routing.md"
VENV_BIN = Path(sys.executable).parent


def doc_commands() -> list[str]:
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.DOTALL):
        commands.extend(line.strip() for line in block.splitlines() if line.strip())
    return commands


def answer(request: ScriptedRequest) -> Reply:
    return Reply(text="A scripted answer.")


def test_doc_commands_run(tmp_path: Path) -> None:
    (tmp_path / "projects").symlink_to(REPO / "projects")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cwd = tmp_path
    commands = doc_commands()
    assert commands[0].startswith("oxy make ")
    with ScriptedModelServer(answer) as server:
        for command in commands:
            if command.startswith("cd "):
                cwd = cwd / command[3:]
                continue
            proc = subprocess.run(
                command,
                shell=True,
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert proc.returncode == 0, (
                f"`{command}` exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
            )
            if command.startswith("oxy make "):
                config = tmp_path / "shop" / "config.yml"
                config.write_text(
                    config.read_text()
                    .replace("    max_tokens: 256\n    seed: 7\n", "")
                    .replace(
                        "    vendor: local\n    model_ref: smollm2\n",
                        f"    vendor: vllm\n    model_ref: s\n    api_url: {server.base_url}\n",
                    )
                )
        assert len(server.requests) == 3  # the analyst once; the router, then its fallback
