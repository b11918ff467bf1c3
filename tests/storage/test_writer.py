"""`StoreWriter`: many runs' writes committed together; one run's bad write fails only that run."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from oxy.events.types import RunFinished, RunStarted, TextDelta
from oxy.models.messages import AssistantMessage, UserMessage
from oxy.storage import AsyncStore, NotFound, StoreError, StoreSink, StoreWriter

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[AsyncStore]:
    async with await AsyncStore.open(store_url) as store:
        yield store


async def test_many_runs_commit_together_in_order(store: AsyncStore) -> None:
    writer = StoreWriter(store, max_delay_s=60)  # only commit() (or aclose) makes it commit
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        sinks: list[StoreSink] = []
        for n in range(5):
            writes = writer.run_writes()
            thread = writes.create_thread(tenant="local", agent="a.agent.yml", title=f"t{n}")
            writes.add_messages(thread.id, [UserMessage(content=f"q{n}")])
            sink = StoreSink(writes, tenant="local", kind="agent", thread_id=thread.id)
            await sink.emit(RunStarted(run_id=f"r{n}", target="a.agent.yml", input=f"q{n}"))
            await sink.emit(TextDelta(text="a"))
            writes.add_messages(thread.id, [AssistantMessage(content=f"a{n}")])
            sinks.append(sink)
        assert await store.list_runs(tenant="local") == []  # queued, not committed
        await sinks[0].emit(RunFinished(run_id="r0", status="ok", output="a0"))  # waits for its commit
        runs = {r.id: r for r in await store.list_runs(tenant="local")}
        assert sorted(runs) == ["r0", "r1", "r2", "r3", "r4"]  # everyone's writes rode along
        assert (runs["r0"].status, runs["r0"].output, runs["r1"].status) == ("ok", "a0", "running")
        thread_id = runs["r3"].thread_id
        assert thread_id is not None
        stored = await store.thread_messages(thread_id, tenant="local")
        assert [(m.seq, m.content) for m in stored] == [(1, "q3"), (2, "a3")]
        assert [(e.seq, e.event.kind) for e in await store.events("r3", tenant="local")] == [
            (1, "run_started"),
            (2, "text_delta"),
        ]
        await writer.aclose()


async def test_a_failing_write_fails_only_its_run(store: AsyncStore) -> None:
    writer = StoreWriter(store, max_delay_s=60)
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        good, bad = writer.run_writes(), writer.run_writes()
        good.create_run(run_id="good", tenant="local", target="w.workflow.yml", kind="workflow")
        bad.add_messages("no-such-thread", [UserMessage(content="hi")])  # the foreign key refuses it
        bad.create_run(run_id="bad", tenant="local", target="w.workflow.yml", kind="workflow")
        with pytest.raises(StoreError):
            await bad.commit()
        await good.commit()
        assert [r.id for r in await store.list_runs(tenant="local")] == ["good"]
        with pytest.raises(StoreError):
            bad.raise_if_failed()
        await writer.aclose()
    with pytest.raises(StoreError, match="closed"):
        good.create_run(run_id="late", tenant="local", target="w.workflow.yml", kind="workflow")


async def test_queued_writes_commit_within_max_delay(store: AsyncStore) -> None:
    writer = StoreWriter(store, max_delay_s=0.05)
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        writes = writer.run_writes()
        writes.create_run(run_id="r", tenant="local", target="w.workflow.yml", kind="workflow")
        with anyio.fail_after(5):
            while await store.get_run("r", tenant="local") is None:
                await anyio.sleep(0.01)
        await writer.aclose()
    with pytest.raises(NotFound):
        await store.finish_run("missing", tenant="local", status="ok")
