"""`oxy chat` driven through a pseudo-terminal, as a person types; `oxy run --thread` continues the
conversation it kept."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.models import AssistantMessage, UserMessage
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn
from tests.pty_terminal import Terminal

OXY = str(Path(sys.executable).with_name("oxy"))


def script(request: ScriptedRequest) -> Turn:
    asked = [m.content for m in request.messages if isinstance(m, UserMessage)]
    return Reply(text=f"Answer {len(asked)} to {asked[-1]!r}.")


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(script) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        f"models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: {server.base_url}\n"
    )
    (root / "agents" / "helper.agent.yml").write_text("model: m\nsystem_instructions: You help.\n")
    return root


def test_a_conversation_in_the_terminal_is_kept_and_continued(
    project: Path, server: ScriptedModelServer
) -> None:
    term = Terminal([OXY, "chat", "agents/helper.agent.yml"], cwd=project)
    try:
        term.expect("Chatting with agents/helper.agent.yml. /new starts a new conversation")
        term.expect("you › ")
        term.type("What is oxy?")
        term.expect("Answer 1 to 'What is oxy?'.")
        term.expect("you › ")
        term.type("And then?")
        term.expect("Answer 2 to 'And then?'.")  # the model saw the first turn too
        term.expect("you › ")
        term.type("/threads")
        term.expect("/threads")  # the echo of what was typed
        shown = term.expect("What is oxy?", timeout=10)
        term.type("/frobnicate")
        term.expect("Unknown command '/frobnicate'.")
        term.type("/exit")
        term.expect("Thread ")
    finally:
        code = term.close()
    assert code == 0
    thread = shown.split("* ")[1].split()[0]
    assert server.requests[1].messages[1:] == (
        UserMessage(content="What is oxy?"),
        AssistantMessage(content="Answer 1 to 'What is oxy?'."),
        UserMessage(content="And then?"),
    )

    result = CliRunner().invoke(
        cli, ["run", str(project / "agents/helper.agent.yml"), "One more?", "--thread", thread]
    )
    assert result.exit_code == 0, result.output
    assert "Answer 3 to 'One more?'." in result.stdout
    resumed = Terminal([OXY, "chat", "agents/helper.agent.yml", "--thread", thread], cwd=project)
    try:
        resumed.expect(f"(thread {thread})")
        resumed.type("Last one?")
        resumed.expect("Answer 4 to 'Last one?'.")
        resumed.type("/new")
        resumed.expect("New conversation.")
        resumed.type("Fresh start?")
        resumed.expect("Answer 1 to 'Fresh start?'.")
    finally:
        os.write(resumed.master, b"\x04")  # Ctrl-D leaves
        assert resumed.close() == 0


def test_bad_threads_and_files_are_one_line_errors(project: Path) -> None:
    result = CliRunner().invoke(cli, ["chat", str(project / "agents/helper.agent.yml"), "--thread", "nope"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == "error: there is no thread 'nope' in this project (oxy chat lists them with /threads)\n"
    )
    result = CliRunner().invoke(cli, ["chat", str(project / "config.yml")])
    assert result.stderr.startswith("error: ") and "oxy chat talks with an agent" in result.stderr
    result = CliRunner().invoke(cli, ["run", str(project / "config.yml"), "--thread", "x"])
    assert result.exit_code == 1 and "--thread continues a conversation with an agent" in result.stderr
