"""The HTTP API in-process (httpx.ASGITransport): agents, workflows, runs, events and threads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from dirty_equals import IsStr

from oxy.events.types import event_from_json, event_to_json
from oxy.models.messages import AssistantMessage, SystemMessage, ToolMessage, UserMessage
from oxy.testing import Reply, ScriptedModelServer, tool_call

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event, data) of each SSE message."""
    found: list[tuple[str, str]] = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        found.append((fields["event"], fields["data"]))
    return found


async def test_health_ready_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    spec = (await client.get("/openapi.json")).json()
    assert {"/api/agents", "/api/agents/{name}/runs", "/v1/chat/completions", "/api/runs/{run_id}"} <= set(
        spec["paths"]
    )


async def test_lists_agents_and_workflows(client: httpx.AsyncClient) -> None:
    agents = (await client.get("/api/agents")).json()
    assert agents == [
        {
            "name": "analyst",
            "path": "agents/analyst.agent.yml",
            "description": "Answers with SQL.",
            "type": "default",
            "error": None,
        },
        {
            "name": "chat",
            "path": "agents/chat.agent.yml",
            "description": "Chats.",
            "type": "default",
            "error": None,
        },
    ]
    assert (await client.get("/api/workflows")).json() == [
        {
            "name": "orders",
            "path": "workflows/orders.workflow.yml",
            "description": "Counts orders over a minimum.",
            "variables": {
                "minimum": {
                    "type": "integer",
                    "default": 0,
                    "description": "Orders with more than this many items.",
                }
            },
            "error": None,
        }
    ]


async def test_agents_sharing_a_file_name_are_known_by_path(project: Path) -> None:
    (project / "more").mkdir()
    (project / "more" / "chat.agent.yml").write_text((project / "agents" / "chat.agent.yml").read_text())
    async for client in open_client_for(project):
        names = [a["name"] for a in (await client.get("/api/agents")).json()]
        assert names == ["analyst", "agents/chat.agent.yml", "more/chat.agent.yml"]


async def open_client_for(project: Path, **settings: Any):
    from oxy.serve import create_app

    async for client in open_client(create_app(settings_for(project, **settings))):
        yield client


async def test_streamed_agent_run_sends_each_event_as_sse(
    client: httpx.AsyncClient, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(text="Hello there.")])
    response = await client.post("/api/agents/chat/runs", json={"prompt": "Hi"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    run_id = response.headers["x-oxy-run-id"]
    thread_id = response.headers["x-oxy-thread-id"]
    messages = sse_events(response.text)
    kinds = [kind for kind, _ in messages]
    assert kinds == [
        "run_started",
        "step_started",
        "text_delta",
        "text_delta",
        "usage",
        "step_finished",
        "run_finished",
    ]
    events = [event_from_json(data) for _, data in messages]
    assert all(data == event_to_json(event) for (_, data), event in zip(messages, events, strict=True))
    assert json.loads(messages[0][1])["run_id"] == run_id
    assert json.loads(messages[-1][1])["output"] == "Hello there."

    # The run and its events are in the store, the same events byte for byte.
    run = (await client.get(f"/api/runs/{run_id}")).json()
    assert run == {
        "run_id": run_id,
        "kind": "agent",
        "target": "agents/chat.agent.yml",
        "thread_id": thread_id,
        "status": "ok",
        "input": {"prompt": "Hi", "history": [], "resume": []},
        "output": "Hello there.",
        "error": None,
        "started_at": IsStr(),
        "finished_at": IsStr(),
    }
    stored = (await client.get(f"/api/runs/{run_id}/events")).json()
    assert [json.dumps(e, separators=(",", ":")) for e in stored] == [data for _, data in messages]
    follow = await client.get(f"/api/runs/{run_id}/events", params={"follow": "true"})
    assert sse_events(follow.text) == messages


async def test_non_streamed_run_and_thread_continuation(
    client: httpx.AsyncClient, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(text="Paris."), Reply(text="About 2 million.")])
    first = await client.post("/api/agents/chat/runs", json={"prompt": "Capital of France?", "stream": False})
    body = first.json()
    assert body == {
        "run_id": IsStr(),
        "thread_id": IsStr(),
        "status": "ok",
        "output": "Paris.",
        "error": None,
    }
    thread_id = body["thread_id"]
    second = await client.post(
        "/api/agents/chat/runs",
        json={"prompt": "Its population?", "thread_id": thread_id, "stream": False},
    )
    assert (second.json()["output"], second.json()["thread_id"]) == ("About 2 million.", thread_id)
    assert model.requests[1].messages == (
        SystemMessage(content="You are a helpful assistant."),
        UserMessage(content="Capital of France?"),
        AssistantMessage(content="Paris."),
        UserMessage(content="Its population?"),
    )
    thread = (await client.get(f"/api/threads/{thread_id}")).json()
    assert [(m["seq"], m["role"], m["content"]) for m in thread["messages"]] == [
        (1, "user", "Capital of France?"),
        (2, "assistant", "Paris."),
        (3, "user", "Its population?"),
        (4, "assistant", "About 2 million."),
    ]
    listed = (await client.get("/api/threads")).json()
    assert [(t["thread_id"], t["title"]) for t in listed] == [(thread_id, "Capital of France?")]
    runs = (await client.get("/api/runs", params={"thread_id": thread_id})).json()
    assert [r["status"] for r in runs] == ["ok", "ok"]


async def test_thread_keeps_tool_calls_and_results(
    client: httpx.AsyncClient, model: ScriptedModelServer
) -> None:
    model.set_script(
        [
            Reply(
                text="Let me look.",
                tool_calls=[tool_call("execute_sql", {"sql": "select 240 as n"}, id="c1")],
            ),
            Reply(text="There are 240 orders."),
            Reply(text="Still 240."),
        ]
    )
    first = (
        await client.post("/api/agents/analyst/runs", json={"prompt": "How many orders?", "stream": False})
    ).json()
    assert first["output"] == "There are 240 orders."
    thread = (await client.get(f"/api/threads/{first['thread_id']}")).json()
    shapes = [(m["role"], m["content"], m["tool_calls"], m["tool_call_id"]) for m in thread["messages"]]
    assert shapes == [
        ("user", "How many orders?", [], None),
        (
            "assistant",
            "Let me look.",
            [{"id": "c1", "name": "execute_sql", "arguments": '{"sql": "select 240 as n"}'}],
            None,
        ),
        ("tool", "| n |\n| --- |\n| 240 |", [], "c1"),
        ("assistant", "There are 240 orders.", [], None),
    ]
    await client.post(
        "/api/agents/analyst/runs",
        json={"prompt": "And now?", "thread_id": first["thread_id"], "stream": False},
    )
    history = model.requests[2].messages[1:]
    assert [type(m) for m in history] == [
        UserMessage,
        AssistantMessage,
        ToolMessage,
        AssistantMessage,
        UserMessage,
    ]


async def test_workflow_run_with_variables(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/workflows/orders/runs", json={"variables": {"minimum": 1}, "stream": False}
    )
    assert response.json() == {
        "run_id": IsStr(),
        "thread_id": None,
        "status": "ok",
        "output": {"count": {"columns": ["n"], "rows": [[240]], "truncated": False, "dropped": None}},
        "error": None,
    }
    bad = await client.post(
        "/api/workflows/orders/runs", json={"variables": {"minimum": "x"}, "stream": False}
    )
    assert bad.json()["status"] == "error"
    assert "variable 'minimum'" in bad.json()["error"]
    run = (await client.get(f"/api/runs/{bad.json()['run_id']}")).json()
    assert (run["status"], run["kind"]) == ("error", "workflow")


async def test_background_run_answers_202_and_goes_on(
    client: httpx.AsyncClient, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(text="Done in the background.", delay=0.3)])
    response = await client.post("/api/agents/chat/runs", json={"prompt": "Go", "background": True})
    assert response.status_code == 202
    body = response.json()
    assert body == {
        "run_id": IsStr(),
        "thread_id": IsStr(),
        "status": "running",
        "output": None,
        "error": None,
    }
    follow = await client.get(f"/api/runs/{body['run_id']}/events", params={"follow": "true"})
    assert [kind for kind, _ in sse_events(follow.text)][-1] == "run_finished"
    run = (await client.get(f"/api/runs/{body['run_id']}")).json()
    assert (run["status"], run["output"]) == ("ok", "Done in the background.")


async def test_cancel_a_running_run(client: httpx.AsyncClient, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Too late.", delay=30)])
    started = (await client.post("/api/agents/chat/runs", json={"prompt": "Slow", "background": True})).json()
    cancelled = await client.post(f"/api/runs/{started['run_id']}/cancel")
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["error"]) == (
        "cancelled",
        "The run was cancelled by request.",
    )
    again = await client.post(f"/api/runs/{started['run_id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "conflict"


async def test_unknown_names_are_404_naming_the_known_ones(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/agents/nope/runs", json={"prompt": "Hi"})
    assert (response.status_code, response.json()) == (
        404,
        {"error": {"type": "not_found", "message": "There is no agent 'nope'; known agents: analyst, chat."}},
    )
    workflow = await client.post("/api/workflows/nope/runs", json={})
    assert workflow.json()["error"]["message"] == "There is no workflow 'nope'; known workflows: orders."
    for path in ("/api/runs/abc", "/api/runs/abc/events", "/api/threads/abc"):
        missing = await client.get(path)
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"
    thread = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "thread_id": "abc"})
    assert thread.json() == {"error": {"type": "not_found", "message": "There is no thread 'abc'."}}


async def test_an_agent_found_by_path(client: httpx.AsyncClient, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="By path.")])
    response = await client.post(
        "/api/agents/agents/chat.agent.yml/runs", json={"prompt": "Hi", "stream": False}
    )
    assert response.json()["output"] == "By path."


async def test_an_edited_agent_file_applies_to_the_next_run(
    client: httpx.AsyncClient, project: Path, model: ScriptedModelServer
) -> None:
    model.set_script(lambda request: Reply(text="Hi."))
    body = {"prompt": "Hello", "stream": False}
    assert (await client.post("/api/agents/chat/runs", json=body)).json()["status"] == "ok"
    agent = project / "agents" / "chat.agent.yml"
    agent.write_text(agent.read_text().replace("You are a helpful assistant.", "Answer in French."))
    assert (await client.post("/api/agents/chat/runs", json=body)).json()["status"] == "ok"
    systems = [r.messages[0] for r in model.requests]
    assert systems == [
        SystemMessage(content="You are a helpful assistant."),
        SystemMessage(content="Answer in French."),
    ]
