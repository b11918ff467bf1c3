"""`AsyncStore` mirrors `Store` method for method, and works from async code."""

from __future__ import annotations

import inspect

import pytest

from oxy.models.messages import UserMessage
from oxy.storage import AsyncStore, Store


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(getattr(cls, name))
        for name in dir(cls)
        if not name.startswith("_") and callable(getattr(cls, name))
    }


def test_every_store_method_has_an_async_twin_with_the_same_signature() -> None:
    sync = _public_methods(Store)
    twins = _public_methods(AsyncStore)
    assert sorted(sync) == sorted(twins)
    for name, signature in sync.items():
        assert twins[name].parameters == signature.parameters, name
        if name != "open":  # which returns an AsyncStore
            assert twins[name].return_annotation == signature.return_annotation, name
        assert inspect.iscoroutinefunction(getattr(AsyncStore, name)), name


@pytest.mark.anyio
async def test_async_round_trip(store_url: str) -> None:
    async with await AsyncStore.open(store_url) as store:
        thread = await store.create_thread(tenant="local", agent="a.agent.yml")
        await store.add_messages(thread.id, [UserMessage(content="hi")], tenant="local")
        run = await store.create_run(
            tenant="local", target="w.workflow.yml", kind="workflow", thread_id=thread.id
        )
        await store.record_task_output(run.id, "t", {"x": 1}, tenant="local")
        await store.append_events(run.id, [], tenant="local")
        await store.finish_run(run.id, tenant="local", status="interrupted")
        assert await store.mark_interrupted() == 0
        assert await store.last_failed_run("w.workflow.yml", tenant="local") == await store.get_run(
            run.id, tenant="local"
        )
        assert [r.id for r in await store.list_runs(tenant="local", thread_id=thread.id)] == [run.id]
        assert (await store.task_outputs(run.id, tenant="local"))["t"].output == {"x": 1}
        assert await store.events(run.id, tenant="local") == []
        assert await store.get_thread(thread.id, tenant="local") in await store.list_threads(tenant="local")
        assert [m.content for m in await store.thread_messages(thread.id, tenant="local")] == ["hi"]
