"""`oxy serve --otel-file`: each run's spans, with the thread as the conversation, written at shutdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio


def spans(path: Path) -> list[dict[str, object]]:
    return [
        span
        for line in path.read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def attribute(span: dict[str, object], key: str) -> object:
    found = [a["value"] for a in span["attributes"] if a["key"] == key]  # type: ignore[union-attr,index]
    return next(iter(found[0].values())) if found else None  # type: ignore[union-attr]


async def test_served_runs_are_traced_with_their_thread(
    project: Path, model: ScriptedModelServer, tmp_path: Path
) -> None:
    model.set_script(
        [
            Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"})]),
            Reply(text="240 orders."),
            Reply(text="Yes, 240."),
        ]
    )
    out = tmp_path / "traces.jsonl"
    app = create_app(settings_for(project, otel_file=str(out)))
    async for client in open_client(app):
        first = (
            await client.post("/api/agents/analyst/runs", json={"prompt": "Orders?", "stream": False})
        ).json()
        thread = first["thread_id"]
        second = await client.post(
            "/api/agents/analyst/runs", json={"prompt": "Sure?", "thread_id": thread, "stream": False}
        )
        assert second.json()["output"] == "Yes, 240."
    found = spans(out)  # written when the server stopped
    names = sorted(str(s["name"]) for s in found)
    assert names == [
        "chat scripted",
        "chat scripted",
        "chat scripted",
        "execute_sql shop",
        "execute_tool execute_sql",
        "invoke_agent analyst",
        "invoke_agent analyst",
    ]
    assert {attribute(s, "gen_ai.conversation.id") for s in found} == {thread}
    assert {attribute(s, "gen_ai.provider.name") for s in found if str(s["name"]).startswith("chat")} == {
        "vllm"
    }
    assert len({s["traceId"] for s in found}) == 2  # one trace per run
