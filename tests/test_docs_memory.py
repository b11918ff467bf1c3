"""docs/memory.md as written: its agent and its commands (`oxy chat` through a pseudo-terminal)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from oxy.models import UserMessage
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn, tool_call
from tests.pty_terminal import Terminal

DOC = (Path(__file__).resolve().parents[1] / "docs" / "memory.md").read_text()
OXY = str(Path(sys.executable).with_name("oxy"))


def script(request: ScriptedRequest) -> Turn:
    asked = [m.content for m in request.messages if isinstance(m, UserMessage)]
    if asked[-1].startswith("Remember"):
        if request.messages[-1].role == "tool":
            return Reply(text="I will remember.")
        return Reply(tool_calls=[tool_call("remember", {"text": "The user works the early shift."})])
    return Reply(text=f"Answer {len(asked)}.")


def test_the_documented_agent_and_commands(tmp_path: Path) -> None:
    (agent,) = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)
    (commands,) = re.findall(r"```bash\n(.*?)```", DOC, flags=re.DOTALL)
    lines = commands.strip().splitlines()
    with ScriptedModelServer(script) as server:
        project = tmp_path / "shop"
        (project / "agents").mkdir(parents=True)
        (project / "config.yml").write_text(
            f"models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: {server.base_url}\n"
        )
        (project / "agents" / "helper.agent.yml").write_text(agent)
        term = Terminal([OXY, *shlex.split(lines[0])[1:]], cwd=project)
        try:
            term.expect("you › ")
            term.type("Remember that I work the early shift.")
            term.expect("I will remember.")
            term.expect("you › ")
            term.type("/exit")
            term.expect("--thread ")
            term.expect("\n")
        finally:
            code = term.close()
        assert code == 0
        thread = term.seen.split("--thread ")[-1].split()[0]
        assert re.fullmatch(r"[0-9a-f]{32}", thread), thread

        def oxy(line: str, **values: str) -> subprocess.CompletedProcess[str]:
            for name, value in values.items():
                line = line.replace(name, value)
            args = [OXY if a == "oxy" else a for a in shlex.split(line)]
            return subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=120, check=False)

        continued = oxy(lines[1], THREAD_ID=thread)
        assert continued.returncode == 0 and "Answer 2." in continued.stdout, continued
        listed = oxy(lines[2])
        assert listed.returncode == 0 and "The user works the early shift." in listed.stdout, listed
        memory_id = listed.stdout.split()[0]
        forgot = oxy(lines[3], MEMORY_ID=memory_id)
        assert (forgot.returncode, forgot.stdout) == (0, "forgot 1 memory\n")
        system = server.requests[-1].messages[0].content
        assert "- The user works the early shift." in system  # {{ memory.relevant }}, before it was forgotten
