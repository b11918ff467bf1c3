"""A run streams its model's answers only when someone reads them as they are written."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio


async def test_each_kind_of_request_streams_only_when_read(project: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="One."), Reply(text="Two."), Reply(text="Three."), Reply(text="Four.")])
    async for client in open_client(create_app(settings_for(project))):
        whole = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": False})
        assert "One." in str(whole.json()["output"])
        streamed = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": True})
        assert "event: text_delta" in streamed.text
        openai_whole = await client.post(
            "/v1/chat/completions", json={"model": "chat", "messages": [{"role": "user", "content": "Hi"}]}
        )
        assert openai_whole.json()["choices"][0]["message"]["content"] == "Three."
        background = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "background": True})
        assert background.status_code == 202
        run_id = background.json()["run_id"]
        events = await client.get(f"/api/runs/{run_id}/events", params={"follow": True})
        assert "Four." in events.text
    # Whole answers for the JSON responses; a streamed one for SSE and for a background run (anyone may follow it).
    assert [r.stream for r in model.requests] == [False, True, False, True]


async def test_a_whole_answer_still_arrives_as_a_text_delta(
    project: Path, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(text="All at once.")])
    async for client in open_client(create_app(settings_for(project))):
        result = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": False})
        events = (await client.get(f"/api/runs/{result.json()['run_id']}/events")).json()
    deltas = [e["text"] for e in events if e["kind"] == "text_delta"]
    assert deltas == ["All at once."]
    assert model.requests[0].stream is False
