"""Conversation threads: messages kept in order, tool calls as JSON, one tenant at a time."""

from __future__ import annotations

import pytest
from dirty_equals import IsDatetime

from oxy.models.messages import AssistantMessage, SystemMessage, ToolCall, ToolMessage, UserMessage
from oxy.storage import NotFound, Store, Thread, ThreadMessage

CONVERSATION = [
    SystemMessage(content="You answer questions about fruit."),
    UserMessage(content="Which fruit sold best?"),
    AssistantMessage(
        content="",
        tool_calls=(ToolCall(id="c1", name="execute_sql", arguments='{"sql": "SELECT fruit FROM sales"}'),),
    ),
    ToolMessage(tool_call_id="c1", name="execute_sql", content="fruit\napple"),
    AssistantMessage(content="Apples sold best. 🍎"),
]


def test_a_conversation_round_trips(store: Store) -> None:
    thread = store.create_thread(tenant="acme", agent="agents/analyst.agent.yml", title="Fruit")
    assert thread == Thread(
        id=thread.id,
        tenant="acme",
        agent="agents/analyst.agent.yml",
        title="Fruit",
        created_at=IsDatetime(),
        updated_at=thread.created_at,
    )
    assert store.get_thread(thread.id, tenant="acme") == thread

    first = store.add_messages(thread.id, CONVERSATION[:2], tenant="acme")
    rest = store.add_messages(thread.id, CONVERSATION[2:], tenant="acme")
    assert [m.seq for m in first + rest] == [1, 2, 3, 4, 5]
    assert rest[0] == ThreadMessage(
        thread_id=thread.id,
        seq=3,
        role="assistant",
        content="",
        tool_calls=(ToolCall(id="c1", name="execute_sql", arguments='{"sql": "SELECT fruit FROM sales"}'),),
        tool_call_id=None,
        name=None,
        created_at=IsDatetime(),
    )
    stored = store.thread_messages(thread.id, tenant="acme")
    assert stored == first + rest
    assert [m.to_message() for m in stored] == CONVERSATION

    updated = store.get_thread(thread.id, tenant="acme")
    assert updated is not None and updated.updated_at >= thread.updated_at


def test_list_threads_most_recent_first(store: Store) -> None:
    old = store.create_thread(tenant="local", agent="a.agent.yml")
    new = store.create_thread(tenant="local", agent="b.agent.yml", thread_id="t-2")
    store.create_thread(tenant="other", agent="a.agent.yml")
    assert new.id == "t-2"
    assert [t.id for t in store.list_threads(tenant="local")] == [new.id, old.id]
    store.add_messages(old.id, [UserMessage(content="hi")], tenant="local")
    assert [t.id for t in store.list_threads(tenant="local")] == [old.id, new.id]
    assert [t.id for t in store.list_threads(tenant="local", agent="b.agent.yml")] == [new.id]
    assert [t.id for t in store.list_threads(tenant="local", limit=1)] == [old.id]


def test_runs_belong_to_a_thread(store: Store) -> None:
    thread = store.create_thread(tenant="local", agent="a.agent.yml")
    run = store.create_run(tenant="local", target="a.agent.yml", kind="agent", thread_id=thread.id)
    store.create_run(tenant="local", target="a.agent.yml", kind="agent")
    assert run.thread_id == thread.id
    assert store.list_runs(tenant="local", thread_id=thread.id) == [run]


def test_another_tenants_thread_reads_as_missing(store: Store) -> None:
    thread = store.create_thread(tenant="acme", agent="a.agent.yml")
    store.add_messages(thread.id, CONVERSATION, tenant="acme")

    assert store.get_thread(thread.id, tenant="globex") is None
    assert store.get_thread("no-such-thread", tenant="acme") is None
    assert store.thread_messages(thread.id, tenant="globex") == []
    assert store.list_threads(tenant="globex") == []
    with pytest.raises(NotFound, match=f"no thread '{thread.id}' for tenant 'globex'"):
        store.add_messages(thread.id, [UserMessage(content="let me in")], tenant="globex")
    with pytest.raises(NotFound, match=f"no thread '{thread.id}' for tenant 'globex'"):
        store.create_run(tenant="globex", target="a.agent.yml", kind="agent", thread_id=thread.id)
    assert len(store.thread_messages(thread.id, tenant="acme")) == len(CONVERSATION)
