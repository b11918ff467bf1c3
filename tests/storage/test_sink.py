"""`StoreSink` records a real run (`run_executable`) as it happens."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from oxy.errors import ToolError
from oxy.events.sinks import ListSink, TeeSink
from oxy.events.types import Event, RunStarted, StepStarted, TextDelta
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import fn, step
from oxy.execution.run import run_executable
from oxy.storage import AsyncStore, Store, StoreSink

pytestmark = pytest.mark.anyio


async def answer(ctx: ExecutionContext, question: str) -> str:
    for word in ("Apples ", "sold ", "best."):
        await ctx.emit(TextDelta(source=ctx.source, text=word))
    return f"{question} → apples"


async def test_a_run_and_all_its_events_are_stored(store_url: str) -> None:
    async with await AsyncStore.open(store_url) as store:
        sink = StoreSink(store, tenant="local", kind="agent")
        seen = ListSink()
        result = await run_executable(
            step(fn(answer), name="analyst", step_type="agent"),
            "Best fruit?",
            target="agents/analyst.agent.yml",
            sink=TeeSink([seen, sink]),
        )
        assert sink.run_id == result.run_id
        run = await store.get_run(result.run_id, tenant="local")
        assert run is not None
        assert (run.status, run.kind, run.input, run.output) == (
            "ok",
            "agent",
            "Best fruit?",
            "Best fruit? → apples",
        )
        assert run.target == "agents/analyst.agent.yml"
        stored = await store.events(result.run_id, tenant="local")
        assert [e.event for e in stored] == seen.events
        assert [e.seq for e in stored] == list(range(1, len(seen.events) + 1))


async def test_a_failed_run_is_stored_with_its_error(store_url: str) -> None:
    async def fail(ctx: ExecutionContext, _: None) -> None:
        raise ToolError("The table 'fruit' does not exist.")

    async with await AsyncStore.open(store_url) as store:
        result = await run_executable(
            fn(fail), None, target="q.sql", sink=StoreSink(store, tenant="acme", kind="sql")
        )
        run = await store.get_run(result.run_id, tenant="acme")
        assert run is not None
        assert (run.status, run.error) == ("error", "The table 'fruit' does not exist.")
        kinds = [e.event.kind for e in await store.events(run.id, tenant="acme")]
        assert kinds == ["run_started", "error", "run_finished"]


async def test_deltas_wait_for_a_batch_or_the_next_other_event(tmp_path: Path) -> None:
    def texts() -> list[str]:
        return [e.event.text for e in store.events("r", tenant="local") if isinstance(e.event, TextDelta)]

    with Store.open(project_root=tmp_path) as store:
        sink = StoreSink(store, tenant="local", kind="agent", max_batch=3, max_delay_s=60)
        await sink.emit(RunStarted(run_id="r", target="a.agent.yml", input="hi"))
        assert len(store.events("r", tenant="local")) == 1  # committed at once
        await sink.emit(TextDelta(text="a"))
        await sink.emit(TextDelta(text="b"))
        assert texts() == []  # held back
        await sink.emit(TextDelta(text="c"))  # the third makes a batch
        assert texts() == ["a", "b", "c"]
        await sink.emit(TextDelta(text="d"))
        await sink.emit(StepStarted(name="x", step_type="tool"))  # any other event commits what waits
        assert texts() == ["a", "b", "c", "d"]
        assert len(store.events("r", tenant="local")) == 6


async def test_old_deltas_are_committed_after_max_delay(tmp_path: Path) -> None:
    with Store.open(project_root=tmp_path) as store:
        sink = StoreSink(store, tenant="local", kind="agent", max_delay_s=0.05)
        await sink.emit(RunStarted(run_id="r", target="a.agent.yml"))
        await sink.emit(TextDelta(text="a"))
        await anyio.sleep(0.06)
        await sink.emit(TextDelta(text="b"))
        assert [e.event.kind for e in store.events("r", tenant="local")] == [
            "run_started",
            "text_delta",
            "text_delta",
        ]


async def test_nested_runs_are_events_of_the_outer_run(tmp_path: Path) -> None:
    async def inner(ctx: ExecutionContext, x: int) -> int:
        nested = await run_executable(fn(double), x, target="inner.sql", sink=ctx.sink, source=("inner",))
        assert nested.output is not None
        return nested.output

    async def double(ctx: ExecutionContext, x: int) -> int:
        return 2 * x

    with Store.open(project_root=tmp_path) as store:
        result = await run_executable(
            fn(inner), 21, target="outer.workflow.yml", sink=StoreSink(store, tenant="local", kind="workflow")
        )
        runs = store.list_runs(tenant="local")
        assert [(r.id, r.status, r.output) for r in runs] == [(result.run_id, "ok", 42)]
        kinds = [e.event.kind for e in store.events(result.run_id, tenant="local")]
        assert kinds == ["run_started", "run_started", "run_finished", "run_finished"]


async def test_a_sink_must_start_with_run_started(tmp_path: Path) -> None:
    with Store.open(project_root=tmp_path) as store:
        sink = StoreSink(store, tenant="local", kind="sql")
        event: Event = TextDelta(text="early")
        with pytest.raises(ValueError, match="starts at run_started, not 'text_delta'"):
            await sink.emit(event)


async def test_many_runs_record_at_once(store_url: str) -> None:
    async def chatty(ctx: ExecutionContext, n: int) -> int:
        for i in range(20):
            await ctx.emit(StepStarted(source=ctx.source, name=f"s{i}", step_type="tool"))
            await anyio.sleep(0)
        return n

    results: dict[int, str] = {}

    async def one(n: int) -> None:
        sink = StoreSink(store, tenant="local", kind="workflow")
        results[n] = (await run_executable(fn(chatty), n, target="w.workflow.yml", sink=sink)).run_id

    async with await AsyncStore.open(store_url) as store:
        async with anyio.create_task_group() as group:
            for n in range(16):
                group.start_soon(one, n)
        runs = await store.list_runs(tenant="local")
        assert sorted(r.output for r in runs) == list(range(16))
        assert {r.status for r in runs} == {"ok"}
        for run_id in results.values():
            assert [e.seq for e in await store.events(run_id, tenant="local")] == list(range(1, 23))
