"""Runs that pause for a person over HTTP: `input_requested`, `POST /api/runs/{id}/input`, approval,
refusal, "always" for the thread, the timeout, and resuming after the server restarted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from oxy.models.messages import AssistantMessage, SystemMessage, ToolCall, ToolMessage, UserMessage
from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio

CODER = """\
description: Writes files.
model: scripted
system_instructions: You write files.
tools:
  - type: workspace
    tools: [read, write]
permissions:
  allow: ["read(**)"]
  ask: ["write(**)"]
"""

WRITE = tool_call("write", {"path": "notes.txt", "content": "hello\n"}, id="w1")


@pytest.fixture
def coder(project: Path) -> Path:
    (project / "agents" / "coder.agent.yml").write_text(CODER)
    (project / "workspace").mkdir()
    return project


async def _start(client: httpx.AsyncClient, thread_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": "Write my notes.", "background": True}
    if thread_id is not None:
        body["thread_id"] = thread_id
    response = await client.post("/api/agents/coder/runs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


async def _pending(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    with anyio.fail_after(10):
        while True:
            response = await client.get(f"/api/runs/{run_id}/input")
            assert response.status_code == 200, response.text
            pending = [r for r in response.json() if r["status"] == "pending"]
            if pending:
                return pending[0]
            await anyio.sleep(0.02)


async def _finished(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    with anyio.fail_after(10):
        while True:
            run = (await client.get(f"/api/runs/{run_id}")).json()
            if run["status"] not in ("queued", "running"):
                return run
            await anyio.sleep(0.02)


async def _kinds(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/runs/{run_id}/events", headers={"Accept": "application/json"})
    return [e for e in response.json() if e["kind"] in ("input_requested", "input_answered", "tool_result")]


async def test_an_approved_call_runs_and_the_run_goes_on(coder: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(tool_calls=[WRITE]), Reply(text="Written.")])
    async for client in open_client(create_app(settings_for(coder))):
        started = await _start(client)
        request = await _pending(client, started["run_id"])
        assert {k: request[k] for k in ("input_kind", "tool", "what", "why", "rule")} == {
            "input_kind": "permission",
            "tool": "write",
            "what": "write notes.txt (6 characters)",
            "why": "rule ask: write(**)",
            "rule": "write(**)",
        }
        answered = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": True}
        )
        assert answered.status_code == 200, answered.text
        assert answered.json() == {"run_id": started["run_id"], "resumed": False}
        run = await _finished(client, started["run_id"])
        assert (run["status"], run["output"]) == ("ok", "Written.")
        again = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": True}
        )
        assert again.status_code == 409
        events = await _kinds(client, started["run_id"])
        assert [(e["kind"], e.get("approved"), e.get("content")) for e in events] == [
            ("input_requested", None, None),
            ("input_answered", True, None),
            ("tool_result", None, "Created notes.txt (1 lines)."),
        ]
    assert (coder / "workspace" / "notes.txt").read_text() == "hello\n"


async def test_a_refused_call_is_a_tool_error_and_always_covers_the_thread(
    coder: Path, model: ScriptedModelServer
) -> None:
    model.set_script(
        [
            Reply(tool_calls=[WRITE]),
            Reply(text="I could not."),
            Reply(tool_calls=[WRITE]),
            Reply(text="Written."),
            Reply(tool_calls=[WRITE]),
            Reply(text="Written again."),
        ]
    )
    async for client in open_client(create_app(settings_for(coder))):
        first = await _start(client)
        request = await _pending(client, first["run_id"])
        await client.post(
            f"/api/runs/{first['run_id']}/input", json={"request_id": request["id"], "approve": False}
        )
        assert (await _finished(client, first["run_id"]))["output"] == "I could not."
        refused = model.requests[1].messages[-1]
        assert isinstance(refused, ToolMessage)
        assert refused.content.startswith("Error: the person did not approve write notes.txt")
        second = await _start(client, thread_id=first["thread_id"])
        request = await _pending(client, second["run_id"])
        await client.post(
            f"/api/runs/{second['run_id']}/input",
            json={"request_id": request["id"], "approve": True, "always": True},
        )
        assert (await _finished(client, second["run_id"]))["output"] == "Written."
        third = await _start(client, thread_id=first["thread_id"])  # not asked again in this thread
        assert (await _finished(client, third["run_id"]))["output"] == "Written again."
        assert (await client.get(f"/api/runs/{third['run_id']}/input")).json() == []


async def test_an_unanswered_request_times_out_into_a_tool_error(
    coder: Path, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(tool_calls=[WRITE]), Reply(text="Nobody answered.")])
    async for client in open_client(create_app(settings_for(coder, input_timeout_s=0.3))):
        started = await _start(client)
        request = await _pending(client, started["run_id"])
        assert (await _finished(client, started["run_id"]))["output"] == "Nobody answered."
        late = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": True}
        )
        assert late.status_code == 410, late.text
    timed_out = model.requests[1].messages[-1]
    assert isinstance(timed_out, ToolMessage) and "nobody answered within 0.3 s" in timed_out.content
    assert not (coder / "workspace" / "notes.txt").exists()


async def test_an_answer_after_a_restart_resumes_the_run(coder: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Reading first.", tool_calls=[WRITE]), Reply(text="Written.")])
    async for client in open_client(create_app(settings_for(coder))):
        started = await _start(client)
        request = await _pending(client, started["run_id"])
    # The server is gone (its run cancelled); the request is still pending in the store.
    async for client in open_client(create_app(settings_for(coder))):
        assert (await client.get(f"/api/runs/{started['run_id']}")).json()["status"] == "cancelled"
        answered = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": True}
        )
        assert answered.status_code == 200, answered.text
        resumed = answered.json()
        assert resumed["resumed"] is True and resumed["run_id"] != started["run_id"]
        run = await _finished(client, resumed["run_id"])
        assert (run["status"], run["output"], run["thread_id"]) == ("ok", "Written.", started["thread_id"])
        thread = (await client.get(f"/api/threads/{started['thread_id']}")).json()
    assert (coder / "workspace" / "notes.txt").read_text() == "hello\n"
    assert len(model.requests) == 2  # the model was not asked again for the turn it had made
    resumed_turn = model.requests[1].messages
    assert [type(m) for m in resumed_turn] == [SystemMessage, UserMessage, AssistantMessage, ToolMessage]
    assert resumed_turn[2] == AssistantMessage(
        content="Reading first.", tool_calls=(ToolCall(id="w1", name="write", arguments=WRITE.arguments),)
    )
    assert [(m["role"], m["content"]) for m in thread["messages"]] == [
        ("user", "Write my notes."),
        ("assistant", "Reading first."),
        ("tool", "Created notes.txt (1 lines)."),
        ("assistant", "Written."),
    ]


async def test_a_tool_that_fails_unexpectedly_fails_its_run_not_the_server(
    project: Path, model: ScriptedModelServer
) -> None:
    module = f"broken_{project.parent.name.replace('-', '_')}"
    (project / f"{module}.py").write_text("def explode() -> str:\n    raise RuntimeError('kaboom')\n")
    (project / "agents" / "broken.agent.yml").write_text(
        f"model: scripted\nsystem_instructions: x\ntools:\n  - type: python\n    function: {module}:explode\n"
    )
    model.set_script([Reply(tool_calls=[tool_call("explode", {}, id="x")]), Reply(text="Hello.")])
    async for client in open_client(create_app(settings_for(project))):
        failed = await client.post("/api/agents/broken/runs", json={"prompt": "Go", "stream": False})
        assert failed.status_code == 200
        assert failed.json()["status"] == "error"
        assert failed.json()["error"].startswith(
            "The run failed with an unexpected error (RuntimeError: kaboom)"
        )
        ok = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": False})
        assert ok.json()["output"] == "Hello."


async def test_a_cancelled_run_s_request_cannot_revive_it(coder: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(tool_calls=[WRITE]), Reply(text="Written.")])
    async for client in open_client(create_app(settings_for(coder))):
        started = await _start(client)
        request = await _pending(client, started["run_id"])
        await client.post(f"/api/runs/{started['run_id']}/cancel")
        answered = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": True}
        )
        assert answered.status_code == 409 and "cancelled already" in answered.text
        listed = (await client.get(f"/api/runs/{started['run_id']}/input")).json()
        assert [(r["status"], r["answer"]["note"]) for r in listed] == [
            ("cancelled", "the run was cancelled while it waited")
        ]
        wrong = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "answer": "yes"}
        )
        assert wrong.status_code == 409
    assert not (coder / "workspace" / "notes.txt").exists()


async def test_waiting_for_a_person_does_not_count_against_the_run_timeout(
    coder: Path, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(tool_calls=[WRITE]), Reply(text="Nobody answered.")])
    settings = settings_for(
        coder, run_timeout_s=1.5, input_timeout_s=2.5
    )  # the wait outlasts the run timeout
    async for client in open_client(create_app(settings)):
        started = await _start(client)
        run = await _finished(client, started["run_id"])
        assert (run["status"], run["output"]) == ("ok", "Nobody answered.")
    assert "nobody answered within 2.5 s" in model.requests[1].messages[-1].content


async def test_a_permission_is_not_answered_with_text(coder: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(tool_calls=[WRITE]), Reply(text="Refused.")])
    async for client in open_client(create_app(settings_for(coder))):
        started = await _start(client)
        request = await _pending(client, started["run_id"])
        wrong = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "answer": "no"}
        )
        assert wrong.status_code == 422 and "`approve`" in wrong.text
        await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": False}
        )
        assert (await _finished(client, started["run_id"]))["output"] == "Refused."


TWO_WRITES = [
    tool_call("write", {"path": "a.txt", "content": "a\n"}, id="a"),
    tool_call("write", {"path": "b.txt", "content": "b\n"}, id="b"),
]


async def test_after_a_restart_one_answer_resumes_the_turn_and_the_rest_is_asked_again(
    coder: Path, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(tool_calls=TWO_WRITES), Reply(text="Both done.")])
    async for client in open_client(create_app(settings_for(coder))):
        started = await _start(client)
        with anyio.fail_after(10):
            while len((await client.get(f"/api/runs/{started['run_id']}/input")).json()) < 2:
                await anyio.sleep(0.02)
        first, second = (await client.get(f"/api/runs/{started['run_id']}/input")).json()
    async for client in open_client(create_app(settings_for(coder))):
        resumed = (
            await client.post(
                f"/api/runs/{started['run_id']}/input", json={"request_id": first["id"], "approve": True}
            )
        ).json()
        assert resumed["resumed"] is True
        late = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": second["id"], "approve": True}
        )
        assert late.status_code == 409  # superseded: the resumed run asks it again
        again = await _pending(client, resumed["run_id"])
        assert again["what"] == f"write {second['what'].split()[1]} (2 characters)"
        await client.post(
            f"/api/runs/{resumed['run_id']}/input", json={"request_id": again["id"], "approve": True}
        )
        assert (await _finished(client, resumed["run_id"]))["output"] == "Both done."
    assert sorted(p.name for p in (coder / "workspace").iterdir()) == ["a.txt", "b.txt"]
    assert len(model.requests) == 2


async def test_a_conversation_that_went_on_cannot_take_the_old_answer(
    coder: Path, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(tool_calls=[WRITE]), Reply(text="Something else.")])
    async for client in open_client(create_app(settings_for(coder))):
        started = await _start(client)
        request = await _pending(client, started["run_id"])
    async for client in open_client(create_app(settings_for(coder))):
        body = {"prompt": "Never mind.", "thread_id": started["thread_id"], "stream": False}
        assert (await client.post("/api/agents/coder/runs", json=body)).json()["output"] == "Something else."
        late = await client.post(
            f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": True}
        )
        assert late.status_code == 409 and "went on since" in late.text
    assert not (coder / "workspace" / "notes.txt").exists()


async def test_openai_clients_are_never_left_waiting(coder: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(tool_calls=[WRITE]), Reply(text="Could not.")])
    async for client in open_client(create_app(settings_for(coder))):
        body = {"model": "coder", "messages": [{"role": "user", "content": "Write."}]}
        with anyio.fail_after(5):
            response = await client.post("/v1/chat/completions", json=body)
        assert response.json()["choices"][0]["message"]["content"] == "Could not."
    assert "nobody can answer in this run" in model.requests[1].messages[-1].content


async def test_a_resumed_turn_does_not_run_again_the_calls_that_finished(
    coder: Path, model: ScriptedModelServer
) -> None:
    (coder / "workspace" / "hello.txt").write_text("hello\n")
    read = tool_call("read", {"path": "hello.txt"}, id="r1")
    model.set_script([Reply(tool_calls=[WRITE, read]), Reply(text="Done.")])
    async for client in open_client(create_app(settings_for(coder))):
        started = await _start(client)
        request = await _pending(client, started["run_id"])
        with anyio.fail_after(10):  # the allowed read finishes while the write waits
            while "tool_result" not in [e["kind"] for e in await _kinds(client, started["run_id"])]:
                await anyio.sleep(0.02)
    async for client in open_client(create_app(settings_for(coder))):
        resumed = (
            await client.post(
                f"/api/runs/{started['run_id']}/input", json={"request_id": request["id"], "approve": True}
            )
        ).json()
        assert (await _finished(client, resumed["run_id"]))["output"] == "Done."
        again = [e for e in await _kinds(client, resumed["run_id"]) if e["kind"] == "tool_result"]
    assert [e["name"] for e in again] == ["write"]
    results = {m.tool_call_id: m.content for m in model.requests[1].messages if isinstance(m, ToolMessage)}
    assert results == {"r1": "     1\thello", "w1": "Created notes.txt (1 lines)."}
