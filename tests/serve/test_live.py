"""Over real sockets: uvicorn on 127.0.0.1, SSE, the official openai client, clients that go away."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer

from ._live import live_server
from .conftest import settings_for


@pytest.fixture
def url(project: Path) -> Iterator[str]:
    with live_server(create_app(settings_for(project))) as base_url:
        yield base_url


def wait_for_status(client: httpx.Client, run_id: str, *, within: float) -> dict[str, object]:
    deadline = time.monotonic() + within
    while True:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.02)


def test_sse_streams_events_as_they_happen(url: str, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="one two three four", chunk_delay=0.2)])
    arrivals: list[tuple[str, float]] = []
    with httpx.Client(base_url=url) as client:
        with client.stream("POST", "/api/agents/chat/runs", json={"prompt": "Count"}) as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert "content-length" not in response.headers
            for line in response.iter_lines():
                if line.startswith("event: "):
                    arrivals.append((line.removeprefix("event: "), time.monotonic()))
    kinds = [kind for kind, _ in arrivals]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    deltas = [t for kind, t in arrivals if kind == "text_delta"]
    assert len(deltas) == 4 and deltas[-1] - deltas[0] > 0.4  # each delta sent when it came, not at the end


def test_the_openai_client_works_unchanged(url: str, model: ScriptedModelServer) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["analyst", "chat"]

    model.set_script([Reply(text="Hello from oxy."), Reply(text="Streamed, piece by piece.")])
    completion = client.chat.completions.create(
        model="chat",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello?"},
            {"role": "user", "content": [{"type": "text", "text": "Say hello"}]},
        ],
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Hello from oxy."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    roles_and_text = [(m.role, m.content) for m in model.requests[0].messages]
    assert roles_and_text == [
        ("system", "You are a helpful assistant."),
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello?"),
        ("user", "Say hello"),
    ]

    stream = client.chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "Stream it"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Streamed, piece by piece."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None

    with pytest.raises(openai.NotFoundError, match="There is no agent 'nope'; known agents: analyst, chat."):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "Hi"}])


def test_a_failed_run_is_an_openai_error(url: str, model: ScriptedModelServer) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "Hi"}]
        )  # no script
    assert caught.value.status_code == 502
    stream = client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    with pytest.raises(openai.APIError, match="The agent's run failed"):
        list(stream)


def test_a_client_that_disconnects_cancels_its_run(url: str, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Too late.", delay=30)])
    with httpx.Client(base_url=url) as client:
        with client.stream("POST", "/api/agents/chat/runs", json={"prompt": "Slow"}) as response:
            run_id = response.headers["x-oxy-run-id"]
            lines = response.iter_lines()
            assert next(lines) == "event: run_started"
            while model.in_flight == 0:
                time.sleep(0.01)
        left = time.monotonic()
        run = wait_for_status(client, run_id, within=5)
        assert time.monotonic() - left < 1.0
        assert (run["status"], run["error"]) == (
            "cancelled",
            "The client disconnected before the run finished.",
        )
        events = client.get(f"/api/runs/{run_id}/events").json()
        assert [e["kind"] for e in events] == ["run_started", "step_started", "step_finished", "run_finished"]


def test_a_background_run_outlives_its_client(url: str, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Still done.", delay=0.5)])
    with httpx.Client(base_url=url) as client:
        with client.stream(
            "POST", "/api/agents/chat/runs", json={"prompt": "Go", "background": True}
        ) as response:
            assert response.status_code == 202
            run_id = response.headers["x-oxy-run-id"]
        run = wait_for_status(client, run_id, within=10)
        assert (run["status"], run["output"]) == ("ok", "Still done.")


def test_an_openai_stream_that_is_dropped_cancels_its_run(url: str, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Too late.", delay=30)])
    with httpx.Client(base_url=url) as client:
        body = {"model": "chat", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            run_id = response.headers["x-oxy-run-id"]
            while model.in_flight == 0:
                time.sleep(0.01)
        run = wait_for_status(client, run_id, within=2)
        assert run["status"] == "cancelled"
