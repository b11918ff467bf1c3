"""`oxy run query.sql` end to end through the CLI, on real DuckDB, SQLite and PostgreSQL databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import URL

from oxy.cli import cli
from oxy.events.types import ErrorEvent, RunFinished, RunStarted, SqlEvent, TableEvent, event_from_json

CONFIG = """\
databases:
  - name: local
    type: duckdb
    dataset: data/
  - name: app
    type: sqlite
    path: app.sqlite
defaults:
  database: local
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "config.yml").write_text(CONFIG)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "fruit.csv").write_text("name,sales\napple,325\nbanana,2000\ncherry,18\nkiwi,120\n")
    connection = sqlite3.connect(tmp_path / "app.sqlite")
    with connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany("INSERT INTO users (name) VALUES (?)", [("ana",), ("ben",), ("chen",)])
    connection.close()
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "top.sql").write_text(
        "select name, sales from fruit where sales >= {{ min_sales }} order by sales desc\n"
    )
    (tmp_path / "queries" / "users.sql").write_text(
        "/*\n  oxy:\n    database: app\n*/\nselect count(*) as n from users\n"
    )
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_runs_a_templated_query_on_duckdb_csvs_and_prints_a_table(project: Path) -> None:
    code, out, err = invoke("run", str(project / "queries/top.sql"), "-v", "min_sales=100")
    assert (code, err) == (0, "")
    lines = [line.strip() for line in out.splitlines()]
    assert "where sales >= 100 order by sales desc" in out  # the rendered SQL is shown
    assert any(line.startswith("banana") and line.endswith("2000") for line in lines)
    assert not any(line.startswith("cherry") for line in lines)
    assert "3 rows" in out


def test_jsonl_streams_started_sql_table_finished_events_that_parse_back(project: Path) -> None:
    code, out, _ = invoke("run", str(project / "queries/top.sql"), "-v", "min_sales=300", "--format", "jsonl")
    assert code == 0
    events = [event_from_json(line) for line in out.splitlines()]
    assert [e.kind for e in events] == ["run_started", "sql", "table", "run_finished"]
    started, sql, table, finished = events
    assert isinstance(started, RunStarted) and started.target == "queries/top.sql"
    assert isinstance(sql, SqlEvent) and (sql.database, sql.dialect) == ("local", "duckdb")
    assert sql.sql.startswith("select name, sales from fruit where sales >= 300")
    assert isinstance(table, TableEvent)
    assert (table.columns, table.rows, table.truncated) == (
        ("name", "sales"),
        (("banana", 2000), ("apple", 325)),
        False,
    )
    assert isinstance(finished, RunFinished) and finished.status == "ok" and finished.run_id == started.run_id


def test_front_matter_picks_the_database_and_database_option_overrides_it(project: Path) -> None:
    code, out, _ = invoke("run", str(project / "queries/users.sql"), "--format", "jsonl")
    assert code == 0
    sql = [e for e in map(event_from_json, out.splitlines()) if isinstance(e, SqlEvent)][0]
    assert (sql.database, sql.dialect) == ("app", "sqlite")

    code, _, err = invoke("run", str(project / "queries/users.sql"), "--database", "local")
    assert code == 1
    assert err.startswith("error: local (duckdb): Catalog Error: Table with name users does not exist!")
    assert err.strip().splitlines()[-2:] == [
        "LINE 1: select count(*) as n from users",
        "                                  ^^^^^",
    ]  # DuckDB's pointer at the table name keeps its column


def test_unknown_database_names_the_known_ones(project: Path) -> None:
    code, _, err = invoke("run", str(project / "queries/top.sql"), "--database", "x", "-v", "min_sales=1")
    assert code == 1
    assert err == "error: queries/top.sql: Database 'x' not found in config.yml; known: local, app\n"


def test_missing_file_is_one_line(project: Path) -> None:
    code, _, err = invoke("run", str(project / "queries/nope.sql"))
    assert code == 1
    assert err == f"error: {project / 'queries/nope.sql'}: no such file\n"


def test_undefined_template_variable_names_file_and_line(project: Path) -> None:
    code, _, err = invoke("run", str(project / "queries/top.sql"))
    assert code == 1
    assert (
        err
        == "error: queries/top.sql:1: template error: `min_sales` is undefined — variables here: databases\n"
    )


def test_writes_are_refused_whatever_the_database(project: Path) -> None:
    (project / "queries" / "evil.sql").write_text("delete from users")
    for db in ("local", "app"):
        code, _, err = invoke("run", str(project / "queries/evil.sql"), "--database", db)
        assert code == 1
        assert err == "error: Refused: only read-only queries run here; got DELETE.\n"
    (project / "queries" / "two.sql").write_text("select 1; select 2")
    code, _, err = invoke("run", str(project / "queries/two.sql"))
    assert code == 1
    assert err == "error: Refused: send one statement at a time; got 2.\n"


def test_bad_variable_syntax_is_a_usage_error(project: Path) -> None:
    code, _, err = invoke("run", str(project / "queries/top.sql"), "-v", "min_sales")
    assert code == 2
    assert "'min_sales' is not key=value" in err


def test_runs_on_postgres(tmp_path: Path, postgres_url: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXY_TEST_PG_PASSWORD", postgres_url.password or "")
    (tmp_path / "config.yml").write_text(
        f"""\
databases:
  - name: warehouse
    type: postgres
    host: {postgres_url.host}
    port: {postgres_url.port}
    user: {postgres_url.username}
    password_var: OXY_TEST_PG_PASSWORD
    database: {postgres_url.database}
"""
    )
    (tmp_path / "q.sql").write_text("select n, n * n as square from generate_series(1, {{ upto }}) as n")
    code, out, err = invoke("run", str(tmp_path / "q.sql"), "-v", "upto=4", "--format", "jsonl")
    assert (code, err) == (0, "")
    table = [e for e in map(event_from_json, out.splitlines()) if isinstance(e, TableEvent)][0]
    assert table.rows == ((1, 1), (2, 4), (3, 9), (4, 16))
    assert postgres_url.password not in out


def test_paths_are_relative_to_the_cwd_not_the_project(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "workflows").mkdir()
    (project / "workflows" / "w.workflow.yml").write_text(
        "tasks:\n  - name: n\n    type: execute_sql\n    database: local\n    sql_query: select 41 + 1 as n\n"
    )
    monkeypatch.chdir(project.parent)
    for target in (f"{project.name}/queries/users.sql", f"{project.name}/workflows/w.workflow.yml"):
        code, out, err = invoke("run", target, "--format", "jsonl")
        assert (code, err) == (0, ""), target
        assert event_from_json(out.splitlines()[-1]).kind == "run_finished"


def test_a_mistyped_command_suggests_the_right_one() -> None:
    result = CliRunner().invoke(cli, ["runn", "q.sql"])
    assert result.exit_code == 2
    assert "No such command 'runn'. Did you mean 'run'?" in result.stderr
    assert "Did you mean" not in CliRunner().invoke(cli, ["frobnicate"]).stderr


def test_a_variable_the_query_never_reads_is_a_warning_with_the_name_it_does_read(project: Path) -> None:
    top = str(project / "queries/top.sql")
    code, out, err = invoke("run", top, "-v", "min_sales=100", "-v", "min_sale=5")
    assert code == 0 and "banana" in out
    assert err == (
        "warning: queries/top.sql: variable 'min_sale' is not used by the query — did you mean 'min_sales'? "
        "(--strict makes this an error)\n"
    )
    code, out, err = invoke("run", top, "-v", "min_sales=100", "-v", "min_sale=5", "--strict")
    assert (code, out) == (1, "")
    assert (
        err
        == "error: queries/top.sql: variable 'min_sale' is not used by the query — did you mean 'min_sales'?\n"
    )
    code, _, err = invoke("run", str(project / "queries/users.sql"), "-v", "limit=2")
    assert code == 0
    assert "variable 'limit' is not used by the query; it reads no variables" in err


def test_a_prompt_given_to_a_sql_file_is_an_error(project: Path) -> None:
    code, out, err = invoke("run", str(project / "queries/users.sql"), "how many users?")
    assert (code, out) == (1, "")
    assert err.startswith("error: users.sql is a SQL file: it takes no prompt ('how many users?')")


def test_piped_sql_is_printed_as_written_not_wrapped(project: Path) -> None:
    long = "select name, sales from fruit where sales >= 0 and name <> 'a rather long name to make the line wide'\n"
    (project / "queries" / "long.sql").write_text(long)
    code, out, _ = invoke("run", str(project / "queries/long.sql"))
    assert code == 0
    assert long.strip() in out.splitlines()  # CliRunner's output is not a terminal, like a pipe


def test_jsonl_reports_a_config_error_as_an_error_event_too(project: Path) -> None:
    (project / "config.yml").write_text("databases:\n  - name: local\n    typo: duckdb\n")
    code, out, err = invoke("run", str(project / "queries/top.sql"), "--format", "jsonl")
    assert code == 1
    (event,) = [event_from_json(line) for line in out.splitlines()]
    assert isinstance(event, ErrorEvent) and event.message.startswith("config.yml:2:5: missing key 'type'")
    assert err.startswith("error: config.yml:2:5: missing key 'type'")


def test_several_config_errors_are_printed_one_per_line(project: Path) -> None:
    (project / "config.yml").write_text(
        "databases:\n  - name: local\n    type: duckdb\n    datasett: data/\nmodels:\n  - name: m\n    vendr: openai\n"
    )
    code, _, err = invoke("run", str(project / "queries/top.sql"))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "error: 2 errors in project files:"
    assert (
        len(lines) == 3
        and lines[1].startswith("  config.yml:4:5: ")
        and lines[2].startswith("  config.yml:6:5: ")
    )


def test_a_database_error_keeps_its_caret_under_the_sql_line(project: Path) -> None:
    (project / "queries" / "bad.sql").write_text("select nope from fruit\n")
    code, _, err = invoke("run", str(project / "queries/bad.sql"))
    assert code == 1
    lines = err.splitlines()
    sql = next(i for i, line in enumerate(lines) if line.startswith("LINE 1: select nope from fruit"))
    assert lines[sql + 1].strip() == "^^^^"
    assert lines[sql + 1].index("^") == lines[sql].index("nope")
