"""Runs, their task outputs and the last failed run of a workflow, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from dirty_equals import IsDatetime, IsStr

from oxy.storage import NotFound, Run, Store, TaskOutput


def test_create_finish_and_get_a_run(store: Store) -> None:
    run = store.create_run(
        tenant="acme", target="workflows/report.workflow.yml", kind="workflow", input={"fruit": ["apple"]}
    )
    assert run == Run(
        id=IsStr(regex="[0-9a-f]{32}"),
        tenant="acme",
        target="workflows/report.workflow.yml",
        kind="workflow",
        input={"fruit": ["apple"]},
        status="running",
        error=None,
        output=None,
        started_at=IsDatetime(),
        finished_at=None,
        thread_id=None,
    )
    assert store.get_run(run.id, tenant="acme") == run

    finished = store.finish_run(run.id, tenant="acme", status="ok", output={"rows": [[1, "apple"]]})
    assert finished.status == "ok"
    assert finished.output == {"rows": [[1, "apple"]]}
    assert finished.finished_at is not None and finished.finished_at >= run.started_at
    assert store.get_run(run.id, tenant="acme") == finished


def test_a_run_id_can_be_chosen_by_the_caller(store: Store) -> None:
    run = store.create_run(tenant="local", target="q.sql", kind="sql", run_id="run-1")
    assert run.id == "run-1"
    assert store.get_run("run-1", tenant="local") == run


def test_list_runs_newest_first_with_filters(store: Store) -> None:
    first = store.create_run(tenant="local", target="a.sql", kind="sql")
    second = store.create_run(tenant="local", target="b.agent.yml", kind="agent")
    third = store.create_run(tenant="local", target="a.sql", kind="sql")
    store.finish_run(third.id, tenant="local", status="error", error="no such table")
    store.create_run(tenant="other", target="a.sql", kind="sql")

    assert [r.id for r in store.list_runs(tenant="local")] == [third.id, second.id, first.id]
    assert [r.id for r in store.list_runs(tenant="local", target="a.sql")] == [third.id, first.id]
    assert [r.id for r in store.list_runs(tenant="local", status="running")] == [second.id, first.id]
    assert [r.id for r in store.list_runs(tenant="local", limit=1)] == [third.id]


def test_task_outputs_round_trip_in_finishing_order(store: Store) -> None:
    run = store.create_run(tenant="local", target="report.workflow.yml", kind="workflow")
    store.record_task_output(run.id, "load", {"columns": ["n"], "rows": [[1], [2]]}, tenant="local")
    store.record_task_output(run.id, "per_fruit/summary", "three apples", tenant="local")
    replaced = store.record_task_output(run.id, "load", [1, 2, 3], tenant="local")

    outputs = store.task_outputs(run.id, tenant="local")
    assert outputs == {
        "per_fruit/summary": TaskOutput(
            run_id=run.id, path="per_fruit/summary", output="three apples", finished_at=IsDatetime()
        ),
        "load": replaced,
    }
    assert list(outputs) == ["per_fruit/summary", "load"]
    assert replaced.output == [1, 2, 3]


def test_last_failed_run_of_a_workflow(store: Store) -> None:
    target = "report.workflow.yml"
    assert store.last_failed_run(target, tenant="local") is None
    failed = store.create_run(tenant="local", target=target, kind="workflow")
    store.finish_run(failed.id, tenant="local", status="error", error="The model timed out.")
    ok = store.create_run(tenant="local", target=target, kind="workflow")
    store.finish_run(ok.id, tenant="local", status="ok")
    store.create_run(tenant="local", target=target, kind="workflow")  # still running
    other = store.create_run(tenant="local", target="other.workflow.yml", kind="workflow")
    store.finish_run(other.id, tenant="local", status="error")

    last = store.last_failed_run(target, tenant="local")
    assert last is not None
    assert (last.id, last.status, last.error) == (failed.id, "error", "The model timed out.")

    cancelled = store.create_run(tenant="local", target=target, kind="workflow")
    store.finish_run(cancelled.id, tenant="local", status="cancelled")
    assert store.last_failed_run(target, tenant="local") == store.get_run(cancelled.id, tenant="local")


def test_another_tenants_run_reads_as_missing(store: Store) -> None:
    run = store.create_run(tenant="acme", target="report.workflow.yml", kind="workflow")
    store.record_task_output(run.id, "load", 1, tenant="acme")
    store.finish_run(run.id, tenant="acme", status="error")

    assert store.get_run(run.id, tenant="globex") is None
    assert store.get_run("no-such-run", tenant="globex") is None
    assert store.list_runs(tenant="globex") == []
    assert store.task_outputs(run.id, tenant="globex") == {}
    assert store.last_failed_run("report.workflow.yml", tenant="globex") is None
    for write in (
        lambda: store.finish_run(run.id, tenant="globex", status="ok"),
        lambda: store.record_task_output(run.id, "load", 2, tenant="globex"),
        lambda: store.append_events(run.id, [], tenant="globex"),
    ):
        with pytest.raises(NotFound, match=f"no run '{run.id}' for tenant 'globex'"):
            write()
    assert store.task_outputs(run.id, tenant="acme")["load"].output == 1


def test_bad_kind_and_final_status_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        store.create_run(tenant="local", target="x", kind="python")  # pyright: ignore[reportArgumentType]
    run = store.create_run(tenant="local", target="q.sql", kind="sql")
    with pytest.raises(ValueError, match="finishes as one of"):
        store.finish_run(run.id, tenant="local", status="running")  # pyright: ignore[reportArgumentType]


def test_values_json_cannot_hold_are_stored_as_pydantic_would_serialise_them(store: Store) -> None:
    @dataclass
    class Row:
        fruit: str
        sold_on: date

    run = store.create_run(tenant="local", target="w.workflow.yml", kind="workflow", input=("a", "b"))
    stored = store.record_task_output(
        run.id, "load", [Row(fruit="apple", sold_on=date(2024, 1, 2))], tenant="local"
    )
    assert stored.output == [{"fruit": "apple", "sold_on": "2024-01-02"}]
    assert run.input == ["a", "b"]
