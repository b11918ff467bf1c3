"""`oxy make DIR --from DATA`, then `oxy validate` and `oxy run` on what it wrote."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.events.types import RunFinished, SqlEvent, event_from_json
from oxy.testing import Reply, ScriptedModelServer, tool_call

ORDERS = "id,product,price,order date\n1,Latte,3.5,2024-01-02\n2,Mocha,4.0,2024-01-03\n3,Tea,2.5,\n"
PRODUCTS = "name,category\nLatte,coffee\nTea,tea\n"


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def make(tmp_path: Path, source: Path, *extra: str) -> tuple[Path, str]:
    dest = tmp_path / "proj"
    code, out, err = invoke("make", str(dest), "--from", str(source), *extra)
    assert (code, err) == (0, ""), err
    return dest, out


def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    return path


def use_scripted_model(project: Path, server: ScriptedModelServer) -> None:
    config = project / "config.yml"
    text = config.read_text()
    local = "    vendor: local\n    model_ref: smollm2\n"
    assert local in text
    limits = "    max_tokens: 256\n    seed: 7\n"  # a scaffolded local model never runs away
    assert local + next(line for line in text.splitlines(keepends=True) if "Small models" in line) in text
    assert limits in text
    text = text.replace(limits, "")
    config.write_text(
        text.replace(local, f"    vendor: vllm\n    model_ref: s\n    api_url: {server.base_url}\n")
    )


def assert_validates(project: Path) -> None:
    code, out, _ = invoke("validate", "--project", str(project))
    assert code == 0, out
    assert re.fullmatch(r"\d+ files checked, 0 errors, \d+ skipped", out.splitlines()[-1]), out


def run_jsonl(project: Path, *args: str) -> list[object]:
    code, out, err = invoke("run", *args, "--project", str(project), "--format", "jsonl")
    assert (code, err) == (0, ""), err
    return [event_from_json(line) for line in out.splitlines()]


def test_make_from_a_csv_writes_a_project_that_validates_and_runs(
    tmp_path: Path, server: ScriptedModelServer
) -> None:
    project, out = make(tmp_path, csv_file(tmp_path))
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()) == [
        "agents/analyst.agent.yml",
        "agents/router.agent.yml",
        "config.yml",
        "data/orders.csv",
        "queries/orders_sample.sql",
        "schemas/agent-test.json",
        "schemas/agent.json",
        "schemas/config.json",
        "schemas/semantic-model.json",
        "schemas/workflow.json",
        "semantics/orders.schema.yml",
        "workflows/row_counts.workflow.yml",
    ]
    assert "Next:\n" in out and "  oxy run queries/orders_sample.sql\n" in out
    for path in project.rglob("*.yml"):
        first = path.read_text().splitlines()[0]
        depth = len(path.relative_to(project).parts) - 1
        assert first.startswith(f"# yaml-language-server: $schema={'../' * depth}schemas/"), path
        schema = (path.parent / first.split("=", 1)[1]).resolve()
        assert json.loads(schema.read_text())["title"]
    semantic = (project / "semantics/orders.schema.yml").read_text()
    assert "- name: order date\n  type: DATE\n  sample:\n  - '2024-01-02'\n  - '2024-01-03'\n" in semantic
    assert_validates(project)

    events = run_jsonl(project, str(project / "queries/orders_sample.sql"))
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "ok"

    use_scripted_model(project, server)
    server.set_script(
        [
            Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"})]),
            Reply(text="There are 3 orders."),
        ]
    )
    events = run_jsonl(project, str(project / "agents/analyst.agent.yml"), "How many orders?")
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.output == "There are 3 orders."
    system = server.requests[0].messages[0].content
    assert "- order date (DATE), e.g. 2024-01-02, 2024-01-03" in system
    assert "- product (VARCHAR), e.g. Latte, Mocha, Tea" in system
    assert server.requests[0].body is not None and server.requests[0].body["tool_choice"] == "required"

    # The routing agent offers the analyst, the query and the workflow.
    server.set_script([Reply(tool_calls=[tool_call("orders_sample", {})]), Reply(text="Three rows.")])
    events = run_jsonl(project, str(project / "agents/router.agent.yml"), "Show some orders")
    assert [t.name for t in server.requests[0].tools] == ["analyst", "orders_sample", "row_counts"]
    assert any(isinstance(e, SqlEvent) for e in events)

    events = run_jsonl(project, str(project / "workflows/row_counts.workflow.yml"))
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "ok"


def test_make_from_a_parquet_file(tmp_path: Path) -> None:
    parquet = tmp_path / "sales.parquet"
    duckdb.sql("SELECT 1 AS id, 'kiwi' AS fruit, 2.5 AS amount").write_parquet(str(parquet))
    project, _ = make(tmp_path, parquet)
    assert (project / "data/sales.parquet").is_file()
    assert "dataset: data/" in (project / "config.yml").read_text()
    assert_validates(project)
    events = run_jsonl(project, str(project / "queries/sales_sample.sql"))
    assert isinstance(events[-1], RunFinished) and events[-1].output is not None


def test_make_from_a_folder_of_files(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS)
    (folder / "products.csv").write_text(PRODUCTS)
    (folder / "notes.txt").write_text("not data")
    project, _ = make(tmp_path, folder)
    assert sorted(p.name for p in (project / "data").iterdir()) == ["orders.csv", "products.csv"]
    assert sorted(p.name for p in (project / "semantics").iterdir()) == [
        "orders.schema.yml",
        "products.schema.yml",
    ]
    assert "UNION ALL" in (project / "workflows/row_counts.workflow.yml").read_text()
    assert_validates(project)
    events = run_jsonl(project, str(project / "workflows/row_counts.workflow.yml"))
    assert isinstance(events[-1], RunFinished) and events[-1].status == "ok"


def test_data_files_named_after_duckdb_keywords(tmp_path: Path) -> None:
    """Issue 10, item 3: `pivot.csv` used to fail with `syntax error at or near "pivot"`."""
    folder = tmp_path / "raw"
    folder.mkdir()
    names = ("pivot", "describe", "window", "show", "summarize", "qualify", "unpivot", "asof", "orders")
    for name in names:
        (folder / f"{name}.csv").write_text("a,b\n1,2\n3,4\n")
    project, _ = make(tmp_path, folder)
    assert_validates(project)
    events = run_jsonl(project, str(project / "workflows/row_counts.workflow.yml"))
    assert isinstance(events[-1], RunFinished) and events[-1].status == "ok", events[-1]
    assert 'FROM "pivot"' in (project / "workflows/row_counts.workflow.yml").read_text()
    assert "FROM orders" in (project / "workflows/row_counts.workflow.yml").read_text()  # bare when it can be
    (sample,) = (project / "queries").glob("*_sample.sql")  # the first table's: a keyword too
    assert sample.name == "asof_sample.sql"
    events = run_jsonl(project, str(sample))
    assert isinstance(events[-1], RunFinished) and events[-1].status == "ok", events[-1]


def test_make_from_a_duckdb_file(tmp_path: Path) -> None:
    source = tmp_path / "shop.duckdb"
    with duckdb.connect(str(source)) as con:
        con.execute("CREATE TABLE orders AS SELECT 1 AS id, 'Latte' AS product")
        con.execute("CREATE SCHEMA sales")
        con.execute("CREATE TABLE sales.totals AS SELECT 10 AS total")
    project, _ = make(tmp_path, source)
    assert "path: data/shop.duckdb" in (project / "config.yml").read_text()
    assert (project / "semantics/sales_totals.schema.yml").is_file()
    assert "FROM sales.totals" in (project / "workflows/row_counts.workflow.yml").read_text()
    assert_validates(project)
    events = run_jsonl(project, str(project / "queries/orders_sample.sql"))
    assert isinstance(events[-1], RunFinished) and events[-1].output is not None


def test_make_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    source = csv_file(tmp_path)
    project, _ = make(tmp_path, source)
    agent = project / "agents/analyst.agent.yml"
    agent.write_text("# mine\n")
    code, _, err = invoke("make", str(project), "--from", str(source))
    assert code == 1
    assert err.startswith(
        f"error: {project}: would overwrite agents/analyst.agent.yml, agents/router.agent.yml"
    )
    assert err.rstrip().endswith("pass --force to overwrite them")
    assert agent.read_text() == "# mine\n"
    make(tmp_path, source, "--force")
    assert agent.read_text().startswith("# yaml-language-server")


def test_make_rejects_what_it_cannot_read(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    code, _, err = invoke("make", str(tmp_path / "p"), "--from", str(text))
    assert code == 1 and "expected a data file" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = invoke("make", str(tmp_path / "p"), "--from", str(empty))
    assert code == 1 and "holds no data files" in err
    shutil.rmtree(empty)


def test_agents_run_by_a_path_relative_to_the_working_directory(
    tmp_path: Path, server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _ = make(tmp_path, csv_file(tmp_path))
    use_scripted_model(project, server)
    monkeypatch.chdir(tmp_path)
    server.set_script([Reply(text="No route fits."), Reply(text="Fallback answer.")])
    code, out, err = invoke("run", "proj/agents/router.agent.yml", "Hello?")
    assert (code, err) == (0, "")
    assert "Fallback answer." in out
