"""Per-task `cache` (a hit skips the task) and `export` in every format, written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from oxy.events.types import StepStarted
from oxy.testing import Reply, ScriptedModelServer
from oxy.workflows import TableOutput
from oxy.workflows.files import atomic_write
from tests.workflows.conftest import run, write

WORKFLOW = """\
variables:
  fruit: {type: string, default: apple}
tasks:
  - name: sales
    type: execute_sql
    database: local
    sql_query: select fruit, sales from sales where sales > {{ 10 }} order by fruit
    cache:
      enabled: true
      path: cache/{{ fruit }}_sales.json
  - name: report
    type: agent
    agent_ref: agents/writer.agent.yml
    prompt: "Report on {{ fruit }}: {{ sales }}"
    cache:
      enabled: true
      path: cache/{{ fruit }}.txt
  - name: plain
    type: formatter
    template: "{{ report }}!"
    cache:
      enabled: false
      path: cache/never.txt
"""


def test_a_cached_task_is_skipped_and_its_output_read_back(
    project: Path, server: ScriptedModelServer
) -> None:
    server.set_script([Reply(text="Apples: 325."), Reply(text="Bananas: 2000.")])
    path = write(project, "cached.workflow.yml", WORKFLOW)
    first = run(project, path)
    assert (project / "cache" / "apple.txt").read_text() == "Apples: 325."
    assert not (project / "cache" / "never.txt").exists()

    again = run(project, path)
    assert len(server.requests) == 1
    assert again.output == first.output
    assert isinstance(again.output["sales"], TableOutput)
    shortcuts = [(e.name, e.step_type) for e in again.events if isinstance(e, StepStarted) and e.source[1:2]]
    assert shortcuts == [("sales", "task_cached"), ("report", "task_cached"), ("plain", "task")]

    # The cache path is a template: another fruit is another cache entry.
    other = run(project, path, variables={"fruit": "banana"})
    assert other.output["report"] == "Bananas: 2000."
    assert len(server.requests) == 2


EXPORTS = """\
tasks:
  - name: sales
    type: execute_sql
    database: local
    sql_query: "select fruit, sales from sales order by fruit -- {{ 'rendered' }}"
    export: {format: FORMAT, path: "out/sales.FORMAT"}
  - name: text
    type: formatter
    template: |
      # Title
      Some text.
      {{ sales }}
    export: {format: FORMAT, path: "out/text.FORMAT"}
"""


@pytest.mark.parametrize("fmt", ["sql", "csv", "json", "txt", "docx"])
def test_exports(project: Path, fmt: str) -> None:
    path = write(project, "export.workflow.yml", EXPORTS.replace("FORMAT", fmt))
    text = "# Title\nSome text.\n| fruit | sales |\n| --- | --- |\n| apple | 325 |\n| banana | 2000 |\n| cherry | 18 |\n"
    if fmt == "csv":
        error = run(project, path).result.error
        assert str(error) == (
            "workflows/export.workflow.yml:13: task 'text': a csv export needs a table (an execute_sql task's output), got str; use format txt or json"
        )
        assert (
            project / "out" / "sales.csv"
        ).read_text() == "fruit,sales\napple,325\nbanana,2000\ncherry,18\n"
        return
    run(project, path).output  # noqa: B018 - fails on an error
    out = project / "out"
    sales, report = out / f"sales.{fmt}", out / f"text.{fmt}"
    assert oct(sales.stat().st_mode & 0o777) == "0o644"  # the usual mode, not a temporary file's 0600
    if fmt == "sql":
        assert sales.read_text() == "select fruit, sales from sales order by fruit -- rendered"
        assert report.read_text() == text
    elif fmt == "json":
        assert json.loads(sales.read_text())[0] == {"fruit": "apple", "sales": 325}
        assert json.loads(report.read_text()) == text
    elif fmt == "txt":
        assert sales.read_text().startswith("| fruit | sales |\n| --- | --- |\n| apple | 325 |")
        assert report.read_text() == text
    else:
        document = docx.Document(str(report))
        assert [(p.style.name, p.text) for p in document.paragraphs] == [
            ("Heading 1", "Title"),
            ("Normal", "Some text."),
        ]
        (table,) = document.tables
        assert [[c.text for c in row.cells] for row in table.rows][:2] == [
            ["fruit", "sales"],
            ["apple", "325"],
        ]
    assert sorted(p.name for p in out.iterdir()) == sorted([sales.name, report.name])  # no temp files left


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old")

    def broken(f: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]
