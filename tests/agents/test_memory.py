"""Conversation memory: the window keeps the newest whole turns within the budget; older turns are
summarised once and the summary is kept with the thread, then extended only when more falls out."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.agents.memory import estimate_tokens, window
from oxy.execution.context import Caller
from oxy.models import AssistantMessage, Message, SystemMessage, ToolCall, ToolMessage, UserMessage
from oxy.storage import LOCAL_TENANT
from oxy.testing import Reply, ScriptedModel, ScriptedRequest, Turn


def turn(i: int, words: int = 40) -> list[Message]:
    return [
        UserMessage(content=f"question {i} " + "x " * words),
        AssistantMessage(content=f"answer {i} " + "y " * words),
    ]


def test_the_window_keeps_whole_turns_from_the_newest() -> None:
    history = [*turn(1), *turn(2), *turn(3)]
    per_turn = sum(estimate_tokens(m) for m in turn(1))
    assert window(history, per_turn * 3) == 0  # everything fits
    assert window(history, per_turn * 2) == 2  # the last two turns
    assert window(history, per_turn * 2 - 1) == 4
    assert window(history, 1) == 6  # not even the newest turn: nothing kept


def test_a_tool_call_keeps_its_result() -> None:
    call = AssistantMessage(
        tool_calls=(ToolCall(id="c1", name="execute_sql", arguments='{"sql": "select 1"}'),)
    )
    history = [
        *turn(1),
        UserMessage(content="count?"),
        call,
        ToolMessage(tool_call_id="c1", content="1" * 400),
        AssistantMessage(content="One."),
    ]
    start = window(history, sum(estimate_tokens(m) for m in history[2:]))
    assert start == 2 and isinstance(history[start], UserMessage)
    assert window(history, sum(estimate_tokens(m) for m in history[2:]) - 1) == len(history)


AGENT = """\
model: m
system_instructions: You are helpful.
memory:
  window_tokens: {budget}
  summarize: true
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    per_turn = sum(estimate_tokens(m) for m in turn(1))
    (root / "agents" / "a.agent.yml").write_text(AGENT.format(budget=per_turn * 2))
    return root


def test_older_turns_are_summarised_once_and_kept_with_the_thread(project: Path) -> None:
    summaries: list[str] = []

    def script(request: ScriptedRequest) -> Turn:
        system = request.messages[0]
        if isinstance(system, SystemMessage) and system.content.startswith("Summarise this conversation"):
            summaries.append(request.messages[1].content)
            return Reply(text=f"summary {len(summaries)}")
        return Reply(text="ok")

    model = ScriptedModel(script, name="m")
    runtime = Runtime.for_project(load_project(project), models={"m": model})
    store = runtime.store()
    thread = store.create_thread(tenant=LOCAL_TENANT, agent="agents/a.agent.yml")
    history: list[Message] = []

    def ask(question: str) -> list[Message]:
        caller = Caller(tenant=LOCAL_TENANT, thread_id=thread.id)
        result = anyio.run(
            lambda: run_file(
                project / "agents/a.agent.yml",
                runtime=runtime,
                prompt=question,
                history=history,
                caller=caller,
            )
        )
        assert result.status == "ok", result.error
        return list(model.requests[-1].messages)

    for i in (1, 2):
        history += turn(i)
    sent = ask("third?")
    assert summaries == []  # two turns fit: nothing to summarise
    assert len(sent) == 1 + 4 + 1

    history += turn(3)
    sent = ask("fourth?")
    assert len(summaries) == 1 and "question 1" in summaries[0] and "question 2" not in summaries[0]
    assert sent[0].content.endswith("Summary of the earlier conversation:\nsummary 1")
    assert [m.content.split()[0:2] for m in sent[1:-1]] == [
        ["question", "2"],
        ["answer", "2"],
        ["question", "3"],
        ["answer", "3"],
    ]
    assert store.thread_summary(thread.id, tenant=LOCAL_TENANT) == ("summary 1", 2)

    ask("again?")  # the same history: the stored summary is reused, no model call
    assert len(summaries) == 1

    history += turn(4)
    ask("fifth?")  # one more turn fell out: only it is summarised, on top of the summary so far
    assert len(summaries) == 2
    assert summaries[1].startswith("Earlier summary: summary 1") and "question 2" in summaries[1]
    assert "question 1" not in summaries[1]
    assert store.thread_summary(thread.id, tenant=LOCAL_TENANT) == ("summary 2", 4)
    runtime.close()


def test_without_summarize_older_turns_are_dropped(project: Path) -> None:
    agent = project / "agents" / "a.agent.yml"
    agent.write_text(agent.read_text().replace("  summarize: true\n", ""))
    model = ScriptedModel([Reply(text="ok")], name="m")
    runtime = Runtime.for_project(load_project(project), models={"m": model})
    history = [*turn(1), *turn(2), *turn(3)]
    result = anyio.run(
        lambda: run_file(project / "agents/a.agent.yml", runtime=runtime, prompt="q?", history=history)
    )
    assert result.status == "ok"
    sent = model.requests[0].messages
    assert sent[0].content == "You are helpful." and len(sent) == 1 + 4 + 1
    runtime.close()
