"""`oxy run workflow.yml` on Oxy's example procedures, offline: local DuckDB and the scripted model server."""

from __future__ import annotations

import json
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from oxy.cli import cli
from oxy.events.types import (
    Event,
    RunFinished,
    StepFinished,
    StepStarted,
    event_from_json,
)
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest

GROUPING_SQL = (
    "SELECT property_grouping, count(*) AS n FROM content_level_monthly_stats_fruits_veggies "
    "WHERE property_grouping = '{{ grouping_value }}' GROUP BY 1"
)


def offline_examples(source: Path, dest: Path, *, api_url: str) -> Path:
    """Oxy's example project in `dest`: `primary_database` on its local DuckDB folder (`.db/`, CSV
    files) instead of BigQuery, and every model a `vllm` model served at `api_url`."""
    shutil.copytree(source, dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    config_path = dest / "config.yml"
    config = yaml.safe_load(config_path.read_text())
    config["databases"] = [
        {"name": "primary_database", "type": "duckdb", "dataset": ".db/"},
        *(db for db in config["databases"] if db["name"] != "primary_database"),
    ]
    config["models"] = [
        {"name": model["name"], "vendor": "vllm", "model_ref": "scripted", "api_url": api_url}
        for model in config["models"]
    ]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


def answer(request: ScriptedRequest) -> Reply:
    """Answers by what was asked, so concurrent loop iterations get the right reply in any order."""
    prompt = request.messages[-1].content
    if "Generate a SQL" in prompt:
        return Reply(text=GROUPING_SQL)
    fruit = re.search(r"for (\w+) only|between (\w+) and", prompt)
    if fruit:
        return Reply(text=f"Summary of {fruit.group(1) or fruit.group(2)}.")
    first = prompt.strip().splitlines()[0]
    return Reply(text=f"Report: {first}")


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def examples(oxy_compat: Path, tmp_path: Path, server: ScriptedModelServer) -> Path:
    root = offline_examples(oxy_compat / "examples", tmp_path / "examples", api_url=server.base_url)
    # BigQuery SQL against a warehouse table: the same shape on DuckDB.
    (root / "data" / "example_weekly_responses.sql").write_text(
        "SELECT DATE '2024-01-01' AS week_start, 42 AS total_responses"
    )
    # Oxy renders undefined attributes as empty text; oxy's templates are strict.
    agent = root / "agents" / "sql.agent.yml"
    agent.write_text(
        agent.read_text().replace("anon_youtube_model.database.type", "anon_youtube_model.database")
    )
    server.set_script(answer)
    return root


def run(root: Path, workflow: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["run", str(root / workflow), *args])


def events_of(out: str) -> list[Event]:
    return [event_from_json(line) for line in out.splitlines()]


def final(events: list[Event]) -> RunFinished:
    last = events[-1]
    assert isinstance(last, RunFinished)
    return last


def test_table_values_automation(examples: Path) -> None:
    result = run(examples, "procedures/table_values.automation.yml", "--format", "jsonl")
    assert (result.exit_code, result.stderr) == (0, "")
    finished = final(events_of(result.stdout))
    assert finished.status == "ok"
    text = finished.output["formatter"]
    assert "| intervals |\n| --- |\n| monthly |\n| weekly |" in text
    assert "Column-based display:\n['monthly', 'weekly']" in text
    assert "Schedule by Interval: monthly" in text and "Schedule by Interval: weekly" in text
    assert (examples / "output" / "formatter.docx").is_file()
    assert (examples / "output" / "loop_sequential_formatter.docx").is_file()


def test_subworkflow_example(examples: Path, server: ScriptedModelServer) -> None:
    result = run(examples, "procedures/subworkflow_example.procedure.yml", "--format", "jsonl")
    assert (result.exit_code, result.stderr) == (0, "")
    events = events_of(result.stdout)
    output = final(events).output
    fruit = output["random_fruit"]["rows"][0][0]
    assert output["subworkflow"]["report"] == f"Summary of {fruit}."
    assert output["report"] == f"Sales report for ['{fruit}']:\nSummary of {fruit}.\n"
    # The calories column went in as a list of numbers, and the sub-workflow's tasks nest under the task.
    (request,) = server.requests
    assert "Given the calories: [80, 106, 50, 42, 62, 102]" in request.messages[-1].content
    sources = {e.source for e in events if isinstance(e, StepStarted) and e.step_type == "task"}
    assert ("random_fruit_sales", "subworkflow", "report") in sources


def test_fruit_loop_report(examples: Path, server: ScriptedModelServer) -> None:
    result = run(examples, "procedures/fruit_loop_report.procedure.yml", "--format", "jsonl")
    assert (result.exit_code, result.stderr) == (0, "")
    output = final(events_of(result.stdout)).output
    fruits = ["apple", "banana", "cherry", "orange", "kiwi"]
    assert (
        output["final_report"]
        == "# Fruit Sales Report\n\n" + "".join(f"\n## Summary of {fruit}.\n" for fruit in fruits) + "\n"
    )
    assert len(server.requests) == 5
    assert (examples / "output" / "fruit_loop_report.docx").stat().st_size > 0


def test_fruit_sales_report_with_variables(examples: Path, server: ScriptedModelServer) -> None:
    result = run(
        examples, "procedures/fruit_sales_report.procedure.yml", "-v", "fruit=kiwi", "--format", "jsonl"
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert final(events_of(result.stdout)).output["report"] == "Summary of kiwi."
    prompt = server.requests[0].messages[-1].content
    assert "Given the calories: [80, 105, 50, 42, 62, 102]" in prompt  # the default, a list
    assert "| name | sales |\n| --- | --- |\n| apple | 325 |" in prompt


def test_survey_responses(examples: Path) -> None:
    result = run(examples, "procedures/survey_responses.procedure.yml", "--format", "jsonl")
    assert (result.exit_code, result.stderr) == (0, "")
    output = final(events_of(result.stdout)).output
    assert (
        "-- Schedule: monthly --" in output["formatter"] and "-- Schedule: weekly --" in output["formatter"]
    )
    out = examples / "output"
    assert (out / "example_intervals.sql").read_text().startswith("WITH responses AS")
    assert (
        (out / "example_weekly_rejected.sql").read_text().strip().endswith("rejected\nFROM\n    responses;")
    )
    assert (
        (out / "agent_monthly_responses.sql")
        .read_text()
        .startswith("Report: Generate a detail monthly report")
    )
    assert {p.name for p in out.glob("formatter_*.docx")} == {
        "formatter_monthly.docx",
        "formatter_weekly.docx",
        "formatter_report.docx",
    }


def test_cache_procedure_then_a_cache_hit(examples: Path, server: ScriptedModelServer) -> None:
    result = run(examples, "procedures/cache.procedure.yml", "--format", "jsonl")
    assert (result.exit_code, result.stderr) == (0, "")
    output = final(events_of(result.stdout)).output
    assert "-- Property Grouping: Fruit --" in output["grouping_reports"]
    cached = examples / "output" / "cache"
    assert (cached / "groupings_query.sql").read_text() == GROUPING_SQL
    assert sorted(p.name for p in cached.iterdir()) == [
        "groupings_Fruit_report.json",
        "groupings_Vegetable_report.json",
        "groupings_query.sql",
    ]
    calls = len(server.requests)
    assert calls == 3

    again = run(examples, "procedures/cache.procedure.yml", "--format", "jsonl")
    assert again.exit_code == 0
    assert len(server.requests) == calls  # every agent task came from its cache
    events = events_of(again.stdout)
    cached_steps = [
        e.source[1:] for e in events if isinstance(e, StepStarted) and e.step_type == "task_cached"
    ]
    assert cached_steps == [("sql",), ("groupings", "0", "report"), ("groupings", "1", "report")] or sorted(
        cached_steps
    ) == sorted([("sql",), ("groupings", "0", "report"), ("groupings", "1", "report")])
    assert final(events).output["grouping_reports"] == output["grouping_reports"]


def test_terminal_shows_each_task_its_result_and_the_final_output(examples: Path) -> None:
    result = run(examples, "procedures/table_values.automation.yml")
    assert (result.exit_code, result.stderr) == (0, "")
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    marks = [line for line in lines if line.startswith(("▶", "✓"))]
    assert [re.sub(r" \d+\.\d\d s$", "", m) for m in marks[:-1]] == [
        "▶ intervals",
        "✓ intervals",
        "▶ schedules",
        "▶ schedules › 0 › report",
        "✓ schedules › 0 › report",
        "▶ schedules › 1 › report",
        "✓ schedules › 1 › report",
        "✓ schedules",
        "▶ formatter",
        "✓ formatter",
    ]
    assert re.fullmatch(r"✓ \d+\.\d\d s", marks[-1])
    assert "  Schedule by Interval: monthly" in lines  # a task's result, indented under it
    assert "  2 iterations" in lines
    final_output = lines[lines.index("Column-based display:") :]  # the final output, in full
    assert final_output[1] == "['monthly', 'weekly']" and "Schedule by Interval: weekly" in final_output


def test_jsonl_events_carry_workflow_task_agent_sources(examples: Path) -> None:
    result = run(examples, "procedures/fruit_sales_report.procedure.yml", "--format", "jsonl")
    assert result.exit_code == 0
    events = events_of(result.stdout)
    steps = [(e.kind, e.source) for e in events if isinstance(e, StepStarted | StepFinished)]
    assert steps == [
        ("step_started", ("fruit_sales_report",)),
        ("step_started", ("fruit_sales_report", "query_data")),
        ("step_finished", ("fruit_sales_report", "query_data")),
        ("step_started", ("fruit_sales_report", "report")),
        ("step_started", ("fruit_sales_report", "report", "local")),
        ("step_finished", ("fruit_sales_report", "report", "local")),
        ("step_finished", ("fruit_sales_report", "report")),
        ("step_finished", ("fruit_sales_report",)),
    ]
    assert [e.kind for e in events[:2]] == ["run_started", "step_started"]
    task_done = [e for e in events if isinstance(e, StepFinished) and e.name == "query_data"][0]
    assert task_done.output["columns"] == ["name", "sales"]


def test_a_wrong_variable_names_the_rule(examples: Path) -> None:
    result = run(examples, "procedures/fruit_sales_report.procedure.yml", "-v", "fruit=mango")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: procedures/fruit_sales_report.procedure.yml: variable 'fruit': 'mango' is not one of "
        "['apple', 'banana', 'cherry', 'orange', 'kiwi'] (enum)\n"
    )


@pytest.mark.parametrize("fmt", ["html", "png", "json"])
def test_charts_are_saved_with_chart_dir(examples: Path, tmp_path: Path, fmt: str) -> None:
    (examples / "procedures" / "chart.procedure.yml").write_text(
        "tasks:\n"
        "  - {name: sales, type: execute_sql, database: local, sql_file: data_fruit/example_sales.sql}\n"
        "  - {name: chart, type: visualize, prompt: Fruit sales}\n"
    )
    charts = tmp_path / "charts"
    result = run(
        examples, "procedures/chart.procedure.yml", "--chart-dir", str(charts), "--chart-format", fmt
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert "chart: Fruit sales" in result.stdout
    saved = charts / f"chart.{fmt}"
    assert [p.name for p in charts.iterdir()] == [saved.name]
    if fmt == "png":
        assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    elif fmt == "html":
        assert '"mark": {"type": "bar", "tooltip": true}' in saved.read_text()
    else:
        assert json.loads(saved.read_text())["title"] == "Fruit sales"
