"""Oxy's example tests: `testing/sales.agent.test.yml` runs unchanged, and every inline `tests:` entry
of the corpus's agents and procedures loads as a suite."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.config.loader import load_project
from oxy.evals import load_suites
from oxy.models import ToolMessage, UserMessage
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn, tool_call

# The corpus's test file targets agents/sales.agent.yml, which the corpus does not ship: this is it.
SALES_AGENT = """\
model: sales-model
system_instructions: You answer sales questions with SQL.
tools:
  - name: execute_sql
    type: execute_sql
    database: local
"""


def script(request: ScriptedRequest) -> Turn:
    last = request.messages[-1]
    if request.model == "gpt-5-mini":  # the judge the test file names
        text = last.content if isinstance(last, UserMessage) else ""
        answer = text.split("Assistant's answer:")[1].split("Expected answer:")[0]
        return Reply(text="FAIL\nNo answer." if "don't know" in answer else "PASS\nConsistent.")
    if isinstance(last, ToolMessage):
        return Reply(text="Q4 revenue grew 15% over Q3.")
    question = next(m.content for m in request.messages if isinstance(m, UserMessage))
    if "Q4" in question:
        return Reply(tool_calls=[tool_call("execute_sql", {"sql": "select 15 as growth_pct"})])
    if "signed up" in question:
        return Reply(text="1,247 new users signed up last month.")
    if "CEO" in question:
        return Reply(text="Tim Cook.")
    return Reply(text="I don't know.")


@pytest.fixture
def corpus(oxy_compat: Path, tmp_path: Path) -> Iterator[tuple[Path, ScriptedModelServer]]:
    root = tmp_path / "examples"
    shutil.copytree(oxy_compat / "examples", root)
    (root / "agents" / "sales.agent.yml").write_text(SALES_AGENT)
    with ScriptedModelServer(script) as server:
        models = "".join(
            f"  - name: {name}\n    vendor: vllm\n    model_ref: {name}\n    api_url: {server.base_url}\n"
            for name in ("sales-model", "gpt-5-mini")
        )
        config = root / "config.yml"
        config.write_text(config.read_text().replace("models:\n", "models:\n" + models, 1))
        yield root, server


def test_the_corpus_test_file_runs_unchanged(
    corpus: tuple[Path, ScriptedModelServer], oxy_compat: Path
) -> None:
    root, server = corpus
    test_file = root / "testing" / "sales.agent.test.yml"
    assert (
        test_file.read_bytes() == (oxy_compat / "examples" / "testing" / "sales.agent.test.yml").read_bytes()
    )
    result = CliRunner().invoke(cli, ["test", "--project", str(root), str(test_file), "--format", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1  # one case fails its `tool:` check and its judge
    rates = {case["name"]: (case["runs"], case["pass_rate"]) for case in report["cases"]}
    assert rates == {
        "How many users signed up last month?": (3, 1.0),
        "What's the revenue trend for Q4?": (3, 1.0),
        "Who is the CEO of Apple?": (3, 1.0),
        "Show me top 5 customers by lifetime value": (3, 0.0),
    }
    failed = {(f["check"], f["detail"]) for f in report["cases"][3]["failed_assertions"]}
    assert ("tool 'execute_sql' ran", "no tool was called") in failed
    assert report["score"] == 0.75
    assert {r.model for r in server.requests} == {"sales-model", "gpt-5-mini"}


def test_every_inline_evaluation_of_the_corpus_loads(corpus: tuple[Path, ScriptedModelServer]) -> None:
    project = load_project(corpus[0])
    suites = load_suites(project)
    kinds = sorted((s.file, s.evaluation.kind if s.evaluation else "cases", s.runs) for s in suites)
    assert kinds == [
        ("agents/default.agent.yml", "consistency", 10),
        ("agents/default.agent.yml", "custom", 1),
        ("agents/duckdb.agent.yml", "consistency", 10),
        ("agents/semantic_model.agent.yml", "consistency", 10),
        ("agents/sql.agent.yml", "consistency", 10),
        ("agents/sql.agent.yml", "consistency", 10),
        ("procedures/cache.procedure.yml", "consistency", 10),
        ("procedures/table_values.automation.yml", "consistency", 10),
        ("testing/sales.agent.test.yml", "cases", 3),
    ]
    custom = next(s.evaluation for s in suites if s.evaluation and s.evaluation.kind == "custom")
    assert [q.reference for q in custom.questions] == ["325 sales and 80 calories", "Tim Cook"]
    assert custom.questions[0].contexts == (
        "select 'apple' as name, 325 as sales",
        "select 'apple' as name, 80 as calories",
    )
    assert [m.type for m in custom.metrics] == ["similarity", "context_recall"]
