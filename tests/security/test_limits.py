"""Results are bounded (issue 9, item 4): cells, rows and bytes per table, characters per tool result,
bytes per stored event; every cut is marked and visible to the model."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio

from oxy import Runtime, load_project, run_file
from oxy.events.sinks import ListSink
from oxy.events.types import RunFinished, TableEvent, ToolResultEvent, bounded_event, event_to_json
from oxy.testing import Reply, ScriptedModel, tool_call

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"
WIDE = "select repeat('x', 10000) as s from range(5000)"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    (root / "queries" / "wide.sql").write_text(WIDE + "\n")
    (root / "workflows" / "wide.workflow.yml").write_text(
        f"tasks:\n  - name: wide\n    type: execute_sql\n    database: shop\n    sql_query: {WIDE}\n"
    )
    return root


def test_a_huge_result_is_cut_to_the_limits_and_says_so(tmp_path: Path) -> None:
    root = _project(tmp_path)
    runtime = Runtime.for_project(load_project(root))
    sink = ListSink()
    result = anyio.run(lambda: run_file(root / "workflows/wide.workflow.yml", runtime=runtime, sink=sink))
    runtime.close()
    assert result.error is None
    (table,) = [e for e in sink.events if isinstance(e, TableEvent)]
    assert table.truncated
    assert table.dropped == (
        "rows after the first 524 dropped past the 1,048,576-byte table limit; 524 cells cut to 2,000 characters"
    )
    assert {len(row[0]) for row in table.rows} == {2_001}  # 2,000 characters and the ellipsis
    assert len(event_to_json(table)) < 1_200_000  # was 50 MB for this one event
    store = root / ".oxy" / "oxy.db"
    assert store.stat().st_size < 10_000_000  # was 100 MB


def test_the_model_reads_a_bounded_tool_result_with_a_note(tmp_path: Path) -> None:
    root = _project(tmp_path)
    model = ScriptedModel([Reply(tool_calls=[tool_call("execute_sql", {"sql": WIDE})]), Reply(text="Long.")])
    runtime = Runtime.for_project(load_project(root), models={"smollm2": model})
    sink = ListSink()
    result = anyio.run(
        lambda: run_file(root / "agents/analyst.agent.yml", runtime=runtime, prompt="All", sink=sink)
    )
    runtime.close()
    assert result.error is None
    (tool_result,) = [e for e in sink.events if isinstance(e, ToolResultEvent)]
    assert tool_result.truncated
    seen = model.requests[1].messages[-1].content
    assert seen == tool_result.content
    assert seen.endswith(
        "more characters cut: the result is longer than the 32,000 characters a tool may return. "
        "Ask for less (fewer rows or columns, a summary).]"
    )
    assert len(seen) < 32_300


def test_an_event_past_the_store_limit_is_replaced_by_a_note() -> None:
    big = RunFinished(run_id="r", status="ok", output={"text": "x" * 3_000_000})
    stored, payload = bounded_event(big)
    assert isinstance(stored, RunFinished)
    assert isinstance(stored.output, dict)
    assert stored.output["truncated"] is True  # pyright: ignore[reportUnknownMemberType]
    assert str(stored.output["dropped"]).endswith(  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        "bytes of event not stored: over the 2,097,152-byte limit of a stored event"
    )
    assert len(payload) < 1_000
    small = RunFinished(run_id="r", status="ok", output="fine")
    assert bounded_event(small) == (small, event_to_json(small))


def test_any_long_text_in_an_event_is_cut_for_the_store() -> None:
    from oxy.events.types import ErrorEvent, SqlEvent

    for event in (
        SqlEvent(sql="select '" + "x" * 3_000_000 + "'", database="d", dialect="duckdb"),
        ErrorEvent(error_type="DatabaseError", message="\x01" * 1_500_000),  # escapes to 6 bytes each
    ):
        stored, payload = bounded_event(event)
        assert len(payload) <= 2 * 1_048_576
        assert "bytes of event not stored" in payload
        assert type(stored) is type(event)
