from __future__ import annotations

import pytest
from dirty_equals import IsFloat

from oxy.events.types import (
    ChartEvent,
    ErrorEvent,
    Event,
    ReasoningDelta,
    RunFinished,
    RunStarted,
    SqlEvent,
    StepFinished,
    StepStarted,
    TableEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
    event_from_json,
    event_to_dict,
    event_to_json,
)

ONE_OF_EACH: list[Event] = [
    RunStarted(run_id="r1", target="agents/a.agent.yml", input="hi"),
    StepStarted(source=("a",), name="a", step_type="agent"),
    TextDelta(source=("a",), text="Hel"),
    ReasoningDelta(source=("a",), text="thinking"),
    ToolCallEvent(source=("a",), call_id="c1", name="execute_sql", arguments='{"sql": "select 1"}'),
    SqlEvent(source=("a", "execute_sql"), sql="select 1", database="local", dialect="duckdb"),
    TableEvent(
        source=("a", "execute_sql"), columns=("x",), rows=((1,), (None,)), truncated=True, database="local"
    ),
    ToolResultEvent(source=("a",), call_id="c1", name="execute_sql", content="x\n1", is_error=False),
    ChartEvent(source=("a",), spec={"mark": "bar"}, title="t"),
    UsageEvent(source=("a",), model="m", input_tokens=3, output_tokens=4),
    ErrorEvent(error_type="ModelError", message="boom"),
    StepFinished(source=("a",), name="a", status="ok", output="done"),
    RunFinished(run_id="r1", status="ok", output="done", duration_s=0.5),
]


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.kind)
def test_every_event_round_trips_through_one_json_line(event: Event) -> None:
    line = event_to_json(event)
    assert "\n" not in line
    assert event_from_json(line) == event


def test_event_json_shape_names_kind_source_and_time() -> None:
    event = ToolCallEvent(source=("wf", "task"), call_id="c", name="t", arguments="{}")
    assert event_to_dict(event) == {
        "kind": "tool_call",
        "source": ["wf", "task"],
        "ts": IsFloat(),
        "call_id": "c",
        "name": "t",
        "arguments": "{}",
    }


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="kind"):
        event_from_json('{"kind": "nope", "source": [], "ts": 0}')
