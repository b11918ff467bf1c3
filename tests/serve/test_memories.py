"""`/api/memories`: what served agents remember for the key's users; delete by id; never another
tenant's."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio


async def test_list_and_forget_what_a_served_agent_remembered(
    project: Path, model: ScriptedModelServer
) -> None:
    (project / "agents" / "keeper.agent.yml").write_text(
        "model: scripted\nsystem_instructions: You help.\nmemory:\n  long_term: true\n"
    )
    model.set_script(
        [Reply(tool_calls=[tool_call("remember", {"text": "Alice takes oat milk."})]), Reply(text="Noted.")]
    )
    async for client in open_client(create_app(settings_for(project))):
        answer = await client.post(
            "/api/agents/keeper/runs", json={"prompt": "I take oat milk.", "user": "alice", "stream": False}
        )
        assert answer.json()["output"] == "Noted."
        listed = (await client.get("/api/memories")).json()
        assert [(m["user"], m["text"]) for m in listed] == [("alice", "Alice takes oat milk.")]
        assert (await client.get("/api/memories", params={"user": "bob"})).json() == []
        memory_id = listed[0]["memory_id"]
        assert (await client.delete(f"/api/memories/{memory_id}")).status_code == 204
        assert (await client.get("/api/memories")).json() == []
        missing = await client.delete(f"/api/memories/{memory_id}")
        assert missing.status_code == 404 and "no memory" in missing.text
