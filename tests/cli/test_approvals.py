"""A person approves (or refuses) an agent's tool calls at the terminal, as `oxy run` asks them inline
(y / n / always), answers its question, and `--yes` / `--no` decide for unattended runs."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.testing import Reply, ScriptedModelServer, tool_call
from tests.pty_terminal import Terminal

OXY = str(Path(sys.executable).with_name("oxy"))

AGENT = """\
model: m
system_instructions: You write files.
tools:
  - type: workspace
    tools: [write, question]
permissions:
  ask: ["write(**)"]
"""


def write(name: str, id: str) -> Reply:
    return Reply(tool_calls=[tool_call("write", {"path": name, "content": "hi\n"}, id=id)])


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "workspace").mkdir()
    (root / "config.yml").write_text(
        f"models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: {server.base_url}\n"
    )
    (root / "agents" / "writer.agent.yml").write_text(AGENT)
    return root


def test_a_person_approves_refuses_and_answers_at_the_terminal(
    project: Path, server: ScriptedModelServer
) -> None:
    server.set_script(
        [
            write("a.txt", "1"),
            write("b.txt", "2"),
            write("a.txt", "3"),
            Reply(
                tool_calls=[tool_call("question", {"question": "Which?", "options": ["red", "blue"]}, id="4")]
            ),
            Reply(text="All done."),
        ]
    )
    term = Terminal([OXY, "run", "agents/writer.agent.yml", "Write the files."], cwd=project)
    try:
        term.expect("Allow write a.txt (3 characters)? (rule ask: write(**))")
        term.expect("yes / no / always (this thread): ")
        term.type("a")
        term.expect("→ approved")
        term.expect("Allow write b.txt (3 characters)?")
        term.type("maybe")  # not an answer: asked again
        term.expect("yes / no / always (this thread): ")
        term.type("n")
        term.expect("not approved: refused at the terminal")
        term.expect("Which?")  # a.txt again was approved "always": not asked
        term.expect("2. blue")
        term.type("2")
        term.expect("→ answered: blue")
        term.expect("All done.")
    finally:
        code = term.close()
    assert code == 0, term.seen
    assert (project / "workspace" / "a.txt").read_text() == "hi\n"
    assert not (project / "workspace" / "b.txt").exists()
    assert "Allow write a.txt" not in term.seen[term.seen.find("Allow write b.txt") :]
    refused = server.requests[2].messages[-1]
    assert refused.content.startswith("Error: the person did not approve write b.txt")


def test_yes_and_no_decide_for_unattended_runs(project: Path, server: ScriptedModelServer) -> None:
    server.set_script([write("a.txt", "1"), Reply(text="Refused.")])
    refused = CliRunner().invoke(cli, ["run", str(project / "agents/writer.agent.yml"), "Write.", "--no"])
    assert refused.exit_code == 0, refused.output
    assert "refused by --no" in server.requests[1].messages[-1].content
    assert not (project / "workspace" / "a.txt").exists()
    server.set_script([write("a.txt", "1"), Reply(text="Written.")])
    approved = CliRunner().invoke(cli, ["run", str(project / "agents/writer.agent.yml"), "Write.", "--yes"])
    assert approved.exit_code == 0, approved.output
    assert (project / "workspace" / "a.txt").read_text() == "hi\n"
    both = CliRunner().invoke(
        cli, ["run", str(project / "agents/writer.agent.yml"), "Write.", "--yes", "--no"]
    )
    assert both.exit_code == 2 and "--yes and --no contradict each other" in both.output


def test_without_a_terminal_nothing_is_asked(project: Path, server: ScriptedModelServer) -> None:
    server.set_script([write("a.txt", "1"), Reply(text="Could not.")])
    result = CliRunner().invoke(cli, ["run", str(project / "agents/writer.agent.yml"), "Write."])
    assert result.exit_code == 0, result.output
    told = server.requests[1].messages[-1].content
    assert "needs a person's approval (rule ask: write(**)) and nobody can answer" in told


CHAT_AGENT = """\
model: m
system_instructions: You run things.
tools:
  - type: workspace
    tools: [task_start, task_output, question]
permissions:
  allow: ["task_start(sleep *)"]
"""


def test_a_chat_keeps_its_tasks_between_turns_and_stops_them_when_left(
    project: Path, server: ScriptedModelServer
) -> None:
    (project / "agents" / "runner.agent.yml").write_text(CHAT_AGENT)
    server.set_script(
        [
            Reply(tool_calls=[tool_call("task_start", {"command": "sleep 60"}, id="1")]),
            Reply(text="Started."),
            Reply(tool_calls=[tool_call("task_output", {"id": "t1"}, id="2")]),
            Reply(text="Still going."),
            Reply(tool_calls=[tool_call("question", {"question": "Keep it?"}, id="3")]),
        ]
    )
    term = Terminal([OXY, "chat", "agents/runner.agent.yml"], cwd=project)
    try:
        term.expect("you › ")
        term.type("Start it.")
        term.expect("Started.")
        term.type("Is it running?")
        term.expect("Still going.")
        term.type("Ask me.")
        term.expect("Keep it?")
        term.process.send_signal(signal.SIGINT)  # Ctrl-C while it waits for an answer
        term.expect("(stopped)")
        term.expect("you › ")
        term.type("/exit")
        term.expect("Stopped background task t1: sleep 60")
    finally:
        code = term.close()
    assert code == 0, term.seen
    output = server.requests[3].messages[-1].content
    assert "is running" in output, output
    pid = int(output.split("pid ")[1].split(")")[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_calls_asked_in_one_turn_are_asked_one_after_another(
    project: Path, server: ScriptedModelServer
) -> None:
    both = [tool_call("write", {"path": n, "content": "hi\n"}, id=n) for n in ("a.txt", "b.txt", "c.txt")]
    server.set_script([Reply(tool_calls=both), Reply(text="Both asked.")])
    term = Terminal([OXY, "run", "agents/writer.agent.yml", "Write three."], cwd=project)
    try:
        term.expect("yes / no / always (this thread): ")
        term.type("y")
        term.expect("yes / no / always (this thread): ")
        term.type("n")
        term.expect("yes / no / always (this thread): ")
        term.type("y")
        term.expect("Both asked.")
    finally:
        code = term.close()
    assert code == 0, term.seen
    written = sorted(p.name for p in (project / "workspace").iterdir())
    assert len(written) == 2 and term.seen.count("Allow write ") == 3
