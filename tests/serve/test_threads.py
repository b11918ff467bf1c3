"""A thread continues from the messages its runs returned, whatever order their events came in.

The routing agent streams its usage before its text and holds back the routing turn's words; a
thread rebuilt from events got that wrong. These tests continue conversations over HTTP and assert the
exact message list the model receives on the next turn.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from oxy.models.messages import AssistantMessage, SystemMessage, ToolCall, ToolMessage, UserMessage
from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call

from .conftest import open_client, settings_for

ROUTER = """\
type: routing
model: scripted
system_instructions: Route the question to the right place.
routes:
  - workflows/*.workflow.yml
"""

ROUTER_WITH_FALLBACK = ROUTER + "route_fallback: agents/chat.agent.yml\n"

pytestmark = pytest.mark.anyio

TABLE = "| n |\n| --- |\n| 240 |"


async def _ask(
    client: httpx.AsyncClient, agent: str, prompt: str, thread_id: str | None = None
) -> dict[str, str]:
    body: dict[str, object] = {"prompt": prompt, "stream": False}
    if thread_id is not None:
        body["thread_id"] = thread_id
    response = await client.post(f"/api/agents/{agent}/runs", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_routed_conversation_continues_with_the_exact_messages(
    project: Path, model: ScriptedModelServer
) -> None:
    (project / "agents" / "router.agent.yml").write_text(ROUTER)
    async for client in open_client(create_app(settings_for(project))):
        await _routed_conversation(client, model)


async def _routed_conversation(client: httpx.AsyncClient, model: ScriptedModelServer) -> None:
    model.set_script(
        [
            Reply(text="Counting.", tool_calls=[tool_call("orders", {"minimum": 0}, id="r1")]),
            Reply(text="There are 240 orders."),
            Reply(text="You're welcome."),
        ]
    )
    first = await _ask(client, "router", "How many orders?")
    assert first["output"] == "There are 240 orders."
    second = await _ask(client, "router", "Thanks!", thread_id=first["thread_id"])
    assert second["output"] == "You're welcome."
    assert model.requests[2].messages == (
        SystemMessage(content="Route the question to the right place."),
        UserMessage(content="How many orders?"),
        AssistantMessage(
            content="Counting.",
            tool_calls=(ToolCall(id="r1", name="orders", arguments='{"minimum": 0}'),),
        ),
        ToolMessage(tool_call_id="r1", content=TABLE),  # the store keeps no tool name: the wire needs none
        AssistantMessage(content="There are 240 orders."),
        UserMessage(content="Thanks!"),
    )


async def test_a_fallback_answer_is_one_assistant_message_in_the_thread(
    project: Path, model: ScriptedModelServer
) -> None:
    (project / "agents" / "router.agent.yml").write_text(ROUTER_WITH_FALLBACK)
    async for client in open_client(create_app(settings_for(project))):
        await _fallback_conversation(client, model)


async def _fallback_conversation(client: httpx.AsyncClient, model: ScriptedModelServer) -> None:
    model.set_script(
        [
            Reply(text="No route fits."),  # the router's turn: held back, the fallback answers
            Reply(text="Hello! I chat."),  # the fallback agent
            Reply(text="Still chatting."),  # the router, next turn: answers without a route
        ]
    )
    first = await _ask(client, "router", "Hi there")
    assert first["output"] == "Hello! I chat."
    thread = (await client.get(f"/api/threads/{first['thread_id']}")).json()
    assert [(m["role"], m["content"]) for m in thread["messages"]] == [
        ("user", "Hi there"),
        ("assistant", "Hello! I chat."),
    ]
    model.extend([Reply(text="Fine.")])
    await _ask(client, "router", "And now?", thread_id=first["thread_id"])
    assert model.requests[2].messages == (
        SystemMessage(content="Route the question to the right place."),
        UserMessage(content="Hi there"),
        AssistantMessage(content="Hello! I chat."),
        UserMessage(content="And now?"),
    )
