"""Every path of the ReAct loop, driven by the in-process scripted model."""

from __future__ import annotations

import time

import anyio
import pytest

from oxy.agents.react import ReactLoop
from oxy.errors import LimitExceeded, ToolError
from oxy.events.sinks import ListSink
from oxy.events.types import ToolCallEvent, ToolResultEvent, UsageEvent
from oxy.execution.context import ExecutionContext
from oxy.execution.run import run_executable
from oxy.models import SystemMessage, ToolMessage, UserMessage
from oxy.testing import Drop, Fail, Reply, ScriptedModel, ScriptedRequest, tool_call
from oxy.tools.base import FunctionTool
from oxy.tools.toolset import FunctionToolset

pytestmark = pytest.mark.anyio

PROMPT = [SystemMessage(content="You help."), UserMessage(content="Go.")]


class Probe:
    """A tool that records how many of its calls run at once."""

    def __init__(self, delay: float = 0.02) -> None:
        self.in_flight = 0
        self.peak = 0
        self.delay = delay

    def tool(self) -> FunctionTool:
        async def probe(n: int) -> str:
            """Echo n after a short wait."""
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            await anyio.sleep(self.delay * (1 + n % 3))
            self.in_flight -= 1
            return f"probe {n}"

        return FunctionTool(probe)


def loop(model: ScriptedModel, *tools: FunctionTool, **options: object) -> ReactLoop:
    return ReactLoop(model=model, toolsets=[FunctionToolset(tools)], agent_name="tester", **options)  # type: ignore[arg-type]


async def test_final_answer_without_tools_ends_the_loop() -> None:
    model = ScriptedModel([Reply(text="Hello there.")])
    answer = await loop(model).execute(ExecutionContext(run_id="r"), PROMPT)
    assert answer.text == "Hello there."
    assert answer.tool_calls == 0
    assert len(model.requests) == 1


async def test_parallel_calls_beyond_the_bound_run_at_most_n_at_once_and_return_in_call_order() -> None:
    probe = Probe()
    calls = [tool_call("probe", {"n": n}) for n in range(7)]
    model = ScriptedModel([Reply(tool_calls=calls), Reply(text="done")])
    sink = ListSink()
    answer = await loop(model, probe.tool(), max_tool_concurrency=3, max_tool_calls=7).execute(
        ExecutionContext(run_id="r", sink=sink), PROMPT
    )
    assert answer.text == "done"
    assert probe.peak == 3
    second = model.requests[1].messages
    tool_messages = [m for m in second if isinstance(m, ToolMessage)]
    assert [m.tool_call_id for m in tool_messages] == [c.id for c in calls]
    assert [m.content for m in tool_messages] == [f"probe {n}" for n in range(7)]
    # every call is announced (in order) before results arrive, each result matches its call
    announced = [e.call_id for e in sink.events if isinstance(e, ToolCallEvent)]
    assert announced == [c.id for c in calls]
    results = {e.call_id: e.content for e in sink.events if isinstance(e, ToolResultEvent)}
    assert results == {c.id: f"probe {n}" for n, c in enumerate(calls)}


async def test_exceeding_max_tool_calls_stops_with_a_clear_error_event() -> None:
    probe = Probe(delay=0)
    model = ScriptedModel([Reply(tool_calls=[tool_call("probe", {"n": i})]) for i in range(5)])
    sink = ListSink()
    result = await run_executable(loop(model, probe.tool(), max_tool_calls=3), PROMPT, target="t", sink=sink)
    assert result.status == "error"
    assert isinstance(result.error, LimitExceeded)
    assert str(result.error).startswith(
        "Agent 'tester' stopped: the model asked for more than max_tool_calls=3"
    )
    assert [e.kind for e in sink.events][-2:] == ["error", "run_finished"]
    assert sum(isinstance(e, ToolCallEvent) for e in sink.events) == 3
    assert len(model.requests) == 4


async def test_once_max_tool_calls_are_spent_the_model_is_asked_to_answer_from_what_it_has() -> None:
    probe = Probe(delay=0)

    def answer(request: ScriptedRequest) -> Reply:
        if request.settings.tool_choice == "none":
            return Reply(text="From the probes: done.")
        return Reply(tool_calls=[tool_call("probe", {"n": len(request.messages)})])

    model = ScriptedModel(answer)
    result = await run_executable(loop(model, probe.tool(), max_tool_calls=3), PROMPT, target="t")
    assert result.status == "ok" and result.output is not None
    assert result.output.text == "From the probes: done." and result.output.tool_calls == 3
    assert [r.settings.tool_choice for r in model.requests] == ["auto", "auto", "auto", "none"]
    assert model.requests[-1].tools  # still listed: the history refers to them


async def test_tool_errors_go_back_to_the_model_which_then_corrects_itself() -> None:
    async def divide(a: int, b: int) -> str:
        """a / b"""
        if b == 0:
            raise ToolError("division by zero; pass a non-zero b")
        return str(a / b)

    model = ScriptedModel(
        [
            Reply(
                tool_calls=[
                    tool_call("divide", {"a": 1, "b": 0}),
                    tool_call("divide", "{not json"),
                    tool_call("divide", {"a": "x", "b": 1}),
                    tool_call("multiply", {"a": 1}),
                ]
            ),
            Reply(tool_calls=[tool_call("divide", {"a": 1, "b": 4})]),
            Reply(text="It is 0.25."),
        ]
    )
    sink = ListSink()
    answer = await loop(model, FunctionTool(divide)).execute(ExecutionContext(run_id="r", sink=sink), PROMPT)
    assert answer.text == "It is 0.25."
    errors = [m.content for m in model.requests[1].messages if isinstance(m, ToolMessage)]
    assert errors == [
        "Error: division by zero; pass a non-zero b",
        "Error: The arguments are not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)); send a JSON object.",
        "Error: Invalid arguments for divide: a: Input should be a valid integer, unable to parse string as an integer",
        "Error: there is no tool named 'multiply'; the tools are: divide.",
    ]
    flagged = [e.is_error for e in sink.events if isinstance(e, ToolResultEvent)]
    assert flagged == [True, True, True, True, False]


async def test_transient_model_failures_are_retried_inside_the_turn() -> None:
    model = ScriptedModel([Fail(status=429), Fail(status=500), Drop(after_chunks=0), Reply(text="fine")])
    answer = await loop(model).execute(ExecutionContext(run_id="r"), PROMPT)
    assert answer.text == "fine"
    assert len(model.requests) == 4


async def test_required_first_forces_a_tool_on_the_first_turn_only() -> None:
    probe = Probe(delay=0)
    model = ScriptedModel([Reply(tool_calls=[tool_call("probe", {"n": 1})]), Reply(text="ok")])
    await loop(model, probe.tool(), tool_choice="required_first").execute(
        ExecutionContext(run_id="r"), PROMPT
    )
    assert [r.settings.tool_choice for r in model.requests] == ["required", "auto"]


async def test_tool_choice_none_offers_no_tools() -> None:
    probe = Probe(delay=0)
    model = ScriptedModel([Reply(text="no tools")])
    await loop(model, probe.tool(), tool_choice="none").execute(ExecutionContext(run_id="r"), PROMPT)
    assert model.requests[0].tools == ()
    assert model.requests[0].settings.tool_choice is None


async def test_usage_is_reported_per_model_call() -> None:
    probe = Probe(delay=0)
    model = ScriptedModel([Reply(tool_calls=[tool_call("probe", {"n": 1})]), Reply(text="ok")])
    sink = ListSink()
    await loop(model, probe.tool()).execute(ExecutionContext(run_id="r", sink=sink), PROMPT)
    usage = [e for e in sink.events if isinstance(e, UsageEvent)]
    assert len(usage) == 2
    assert all(e.model == "scripted" and e.input_tokens > 0 for e in usage)


async def test_cancellation_stops_a_run_with_a_slow_tool_within_a_second() -> None:
    probe = Probe(delay=30)
    model = ScriptedModel([Reply(tool_calls=[tool_call("probe", {"n": 0}), tool_call("probe", {"n": 1})])])
    sink = ListSink()
    started = time.monotonic()
    with anyio.move_on_after(0.2):
        await run_executable(loop(model, probe.tool()), PROMPT, target="t", sink=sink)
    assert time.monotonic() - started < 1.0
    assert sink.events[-1].kind == "run_finished"
    assert getattr(sink.events[-1], "status", None) == "cancelled"


async def test_cancellation_stops_a_run_waiting_on_a_slow_model_within_a_second() -> None:
    model = ScriptedModel([Reply(text="late", delay=30)])
    started = time.monotonic()
    with anyio.move_on_after(0.2):
        await loop(model).execute(ExecutionContext(run_id="r"), PROMPT)
    assert time.monotonic() - started < 1.0
