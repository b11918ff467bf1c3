from __future__ import annotations

import anyio
import pytest

from oxy.errors import RunCancelled, ToolError
from oxy.events.sinks import ListSink
from oxy.events.types import ErrorEvent, RunFinished, RunStarted, StepFinished, StepStarted, TextDelta
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import concurrency, fn, retry, step
from oxy.execution.run import run_executable

pytestmark = pytest.mark.anyio


def ctx(sink: ListSink | None = None) -> ExecutionContext:
    return ExecutionContext(run_id="r", sink=sink or ListSink())


async def test_concurrency_bounds_in_flight_and_keeps_input_order() -> None:
    in_flight = peak = 0

    async def work(c: ExecutionContext, x: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.01 * (5 - x % 5))
        in_flight -= 1
        return x * x

    out = await concurrency(fn(work), 3).execute(ctx(), list(range(10)))
    assert out == [x * x for x in range(10)]
    assert peak == 3


async def test_retry_runs_again_until_success_and_gives_up_after_attempts() -> None:
    calls = 0

    async def flaky(c: ExecutionContext, x: int) -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ToolError("transient")
        return x

    assert await retry(fn(flaky), attempts=3).execute(ctx(), 7) == 7
    calls = -10
    with pytest.raises(ToolError):
        await retry(fn(flaky), attempts=2).execute(ctx(), 7)


async def test_step_emits_started_and_finished_with_child_source() -> None:
    sink = ListSink()

    async def talk(c: ExecutionContext, x: str) -> str:
        await c.emit(TextDelta(source=c.source, text=x))
        return x.upper()

    assert await step(fn(talk), name="greeter", step_type="agent").execute(ctx(sink), "hi") == "HI"
    assert [(type(e).__name__, e.source) for e in sink.events] == [
        ("StepStarted", ("greeter",)),
        ("TextDelta", ("greeter",)),
        ("StepFinished", ("greeter",)),
    ]
    assert isinstance(sink.events[0], StepStarted) and sink.events[0].step_type == "agent"
    assert isinstance(sink.events[2], StepFinished) and sink.events[2].output == "HI"


async def test_run_executable_turns_errors_into_events_and_result() -> None:
    sink = ListSink()

    async def broken(c: ExecutionContext, x: int) -> int:
        raise ToolError("the tool broke")

    result = await run_executable(fn(broken), 1, target="t", sink=sink, run_id="run-1")
    assert result.status == "error"
    assert isinstance(result.error, ToolError)
    kinds = [e.kind for e in sink.events]
    assert kinds == ["run_started", "error", "run_finished"]
    assert isinstance(sink.events[0], RunStarted) and sink.events[0].target == "t"
    assert isinstance(sink.events[1], ErrorEvent) and sink.events[1].message == "the tool broke"
    finished = sink.events[2]
    assert isinstance(finished, RunFinished) and finished.status == "error" and finished.run_id == "run-1"


async def test_run_cancelled_error_is_reported_as_cancelled() -> None:
    async def stop(c: ExecutionContext, x: int) -> int:
        raise RunCancelled("client went away")

    result = await run_executable(fn(stop), 1, target="t")
    assert result.status == "cancelled"


async def test_outside_cancellation_still_closes_the_transcript() -> None:
    sink = ListSink()

    async def forever(c: ExecutionContext, x: int) -> int:
        await anyio.sleep(10)
        return x

    with anyio.move_on_after(0.05):
        await run_executable(step(fn(forever), name="s", step_type="task"), 1, target="t", sink=sink)
    assert [e.kind for e in sink.events] == ["run_started", "step_started", "step_finished", "run_finished"]
    assert isinstance(sink.events[-1], RunFinished) and sink.events[-1].status == "cancelled"


async def test_concurrency_raises_the_failing_items_error_itself_not_a_group() -> None:
    async def work(c: ExecutionContext, x: int) -> int:
        if x == 3:
            raise ToolError("item 3 broke")
        await anyio.sleep(0.01)
        return x

    with pytest.raises(ToolError, match="^item 3 broke$"):
        await concurrency(fn(work), 2).execute(ctx(), list(range(6)))
