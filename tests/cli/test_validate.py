"""`oxy validate`: one line per problem, a summary, exit status 1 on any error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli.validate import validate

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad_project"


def test_bad_project_prints_each_problem_and_fails() -> None:
    result = CliRunner().invoke(validate, ["--project", str(BAD)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        lines[0]
        == "agents/duplicate_key.agent.yml:3:1: duplicate key 'model' (first written at line 1); keep one"
    )
    assert "agents/sql.agent.yml:12:1: unknown key 'max_tool_call' — did you mean 'max_tool_calls'?" in lines
    assert (
        "workflows/unknown_task.workflow.yml:3:11: unknown task type 'execute_sq' — did you mean 'execute_sql'?"
        in lines
    )
    assert lines[-4:] == [
        "evals/sales.agent.test.yml:1:9: warning: target 'agents/sales.agent.yml' not found "
        "(paths are relative to the project root)",
        "workflows/missing_refs.procedure.yml:12:15: warning: sql_file 'queries/nope.sql' not found "
        "(paths are relative to the project root)",
        "apps/dashboard.app.yml: skipped: data app (*.app.yml): not run by this engine yet",
        "14 files checked, 20 errors, 2 warnings, 1 skipped",
    ]
    assert len(lines) == 24
    assert "Traceback" not in result.output


def test_paths_find_their_project_and_limit_the_check() -> None:
    result = CliRunner().invoke(validate, [str(BAD / "agents" / "wrong_types.agent.yml")])

    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if not line.startswith("config.yml")] == [
        "agents/wrong_types.agent.yml:3:17: 'max_tool_calls' must be an integer; got 'ten'",
        "agents/wrong_types.agent.yml:4:14: 'tool_choice' must be one of auto, required, none, required_first; "
        "got 'requird' — did you mean 'required'?",
        "2 files checked, 6 errors, 0 skipped",
    ]


def test_clean_project_exits_zero(oxy_compat: Path) -> None:
    result = CliRunner().invoke(validate, ["--project", str(oxy_compat / "demo_project")])

    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "5 files checked, 0 errors, 9 skipped"
    assert (
        "analytics.agentic.yml: skipped: agentic analytics config (*.agentic.yml): not run by this engine yet"
        in (result.output)
    )


def test_corpus_examples_pass_with_warnings(oxy_compat: Path) -> None:
    result = CliRunner().invoke(validate, ["--project", str(oxy_compat / "examples")])

    assert result.exit_code == 0
    # Its config declares BigQuery, Snowflake, ClickHouse and Domo databases and a .duckdb file it lacks.
    assert result.output.splitlines()[-1] == "26 files checked, 0 errors, 10 warnings, 13 skipped"


def test_no_project_is_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(validate, [])

    assert result.exit_code == 1
    assert result.output == (
        f"error: no config.yml found in {tmp_path.resolve()} or any folder above it; run `oxy make` to create a "
        "project, or pass --project DIR\n"
    )


def test_project_without_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(validate, ["--project", str(tmp_path)])

    assert result.exit_code == 1
    assert (
        result.output
        == f"error: no config.yml in {tmp_path.resolve()}; run `oxy make` to create a project there\n"
    )


def test_path_outside_the_project(tmp_path: Path) -> None:
    stray = tmp_path / "x.agent.yml"
    stray.write_text("model: small\n")

    result = CliRunner().invoke(validate, ["--project", str(BAD), str(stray)])

    assert result.exit_code == 1
    assert result.output == f"error: {stray} not inside the project {BAD}\n"


QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


def test_validate_reports_first_what_run_would_reject(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "shop"
    shutil.copytree(QUICKSTART, project)
    agent = project / "agents" / "analyst.agent.yml"
    agent.write_text(agent.read_text().replace("{{ databases.shop.schema }}", "{{ databases.shop.schemaa }}"))
    workflow = project / "workflows" / "product_report.workflow.yml"
    workflow.write_text(workflow.read_text().replace("limit {{ top }}", "limit {{ topp }}"))
    (project / "queries" / "typo.sql").write_text("select * from {{ databases.shp.tables[0] }}\n")
    config = project / "config.yml"
    config.write_text(
        config.read_text().replace(
            "    dataset: data/\n",
            "    dataset: data/\n"
            "  - name: gone\n    type: duckdb\n    dataset: missing/\n"
            "  - name: wh\n    type: clickhouse\n    host: h\n    user: u\n    database: d\n",
        )
    )
    result = CliRunner().invoke(validate, ["--project", str(project)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        "agents/analyst.agent.yml:12:22: template: 'databases.shop.schemaa': databases have no 'schemaa' "
        "(they have name, dialect, tables, ddl, schema, datasets) — did you mean 'schema'?"
    ) in lines
    assert (
        "workflows/product_report.workflow.yml:13:16: template reads 'topp', which nothing defines — "
        "did you mean the variable 'top'?"
    ) in lines
    assert (
        "queries/typo.sql: template: 'databases.shp.tables': no database 'shp' in config.yml — did you mean 'shop'?"
        in lines
    )
    assert any(
        line.endswith(
            "database 'gone': dataset folder 'missing/' does not exist (paths are relative to the "
            "project root); create it and put the CSV/Parquet files there"
        )
        for line in lines
    )
    assert any("database 'wh': type 'clickhouse' is not supported yet; oxy runs " in line for line in lines)
    assert lines[-1] == "8 files checked, 4 errors, 1 warning, 0 skipped"
