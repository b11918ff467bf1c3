"""A run's events: stored as `event_to_json` writes them, parsed back into the same objects."""

from __future__ import annotations

import sqlalchemy as sa

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
    event_to_json,
)
from oxy.storage import RunEvent, Store

SRC = ("report", "per_fruit", "analyst")

EVERY_KIND: list[Event] = [
    RunStarted(run_id="r1", target="report.workflow.yml", input={"fruit": "äpple"}, ts=1.5),
    StepStarted(source=SRC, name="analyst", step_type="agent", ts=2.0),
    ReasoningDelta(source=SRC, text="Let me look", ts=2.1),
    TextDelta(source=SRC, text="Apples: ", ts=2.2),
    ToolCallEvent(source=SRC, call_id="c1", name="execute_sql", arguments='{"sql": "SELECT 1"}', ts=2.3),
    SqlEvent(source=(*SRC, "execute_sql"), sql="SELECT 1", database="local", dialect="duckdb", ts=2.4),
    TableEvent(source=SRC, columns=("n", "label"), rows=((1, "a"), (2, None)), truncated=True, ts=2.5),
    ToolResultEvent(source=SRC, call_id="c1", name="execute_sql", content="n\n1", is_error=False, ts=2.6),
    ChartEvent(source=SRC, spec={"mark": "bar", "encoding": {"x": {"field": "n"}}}, title="N", ts=2.7),
    UsageEvent(source=SRC, model="gpt", input_tokens=10, output_tokens=3, ts=2.8),
    ErrorEvent(source=SRC, error_type="ToolError", message="boom", ts=2.9),
    StepFinished(source=SRC, name="analyst", status="error", error="boom", ts=3.0),
    RunFinished(run_id="r1", status="error", error="boom", duration_s=1.5, ts=3.1),
]


def test_every_kind_of_event_parses_back_into_the_same_object(store: Store) -> None:
    run = store.create_run(tenant="local", target="report.workflow.yml", kind="workflow", run_id="r1")
    assert store.append_events(run.id, EVERY_KIND[:4], tenant="local") == 4
    assert store.append_events(run.id, EVERY_KIND[4:], tenant="local") == len(EVERY_KIND)
    assert store.append_events(run.id, [], tenant="local") == len(EVERY_KIND)

    stored = store.events(run.id, tenant="local")
    assert stored == [RunEvent(run_id="r1", seq=i, event=e) for i, e in enumerate(EVERY_KIND, start=1)]
    assert [e.seq for e in store.events(run.id, tenant="local", after=10)] == [11, 12, 13]


def test_payload_is_event_to_json_byte_for_byte(store: Store, store_url: str) -> None:
    run = store.create_run(tenant="local", target="q.sql", kind="sql")
    store.append_events(run.id, EVERY_KIND, tenant="local")
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT seq, kind, payload FROM events ORDER BY seq")).all()
    engine.dispose()
    assert [(kind, payload) for _, kind, payload in rows] == [(e.kind, event_to_json(e)) for e in EVERY_KIND]


def test_another_tenants_events_read_as_missing(store: Store) -> None:
    run = store.create_run(tenant="acme", target="q.sql", kind="sql")
    store.append_events(run.id, EVERY_KIND[:2], tenant="acme")
    assert store.events(run.id, tenant="globex") == []
    assert store.events("no-such-run", tenant="acme") == []
    assert len(store.events(run.id, tenant="acme")) == 2
