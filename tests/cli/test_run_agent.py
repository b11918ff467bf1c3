"""`oxy run agent.yml "prompt"` end to end: the real openai client against the scripted HTTP server."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.events.types import (
    Event,
    RunFinished,
    SqlEvent,
    TableEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
    event_from_json,
)
from oxy.models import ToolMessage
from oxy.testing import Fail, Reply, ScriptedModelServer, tool_call

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    """The quickstart project, its `vllm` model pointed at the scripted server."""
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    config = root / "config.yml"
    config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
    return root


def run_agent(project: Path, *args: str) -> tuple[int, str, str]:
    agent = project / "agents" / "analyst.agent.yml"
    result = CliRunner().invoke(cli, ["run", str(agent), *args, "--model", "vllm"])
    return result.exit_code, result.stdout, result.stderr


def events_of(out: str) -> list[Event]:
    return [event_from_json(line) for line in out.splitlines()]


def test_agent_runs_sql_in_parallel_and_answers(project: Path, server: ScriptedModelServer) -> None:
    server.set_script(
        [
            Reply(
                tool_calls=[
                    tool_call("execute_sql", {"sql": "select count(*) as n from orders"}, id="c1"),
                    tool_call("execute_sql", {"sql": "select nope from orders"}, id="c2"),
                ]
            ),
            Reply(text="There are 240 orders."),
        ]
    )
    code, out, err = run_agent(project, "How many orders?", "--format", "jsonl")
    assert (code, err) == (0, "")
    events = events_of(out)
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["run_started", "step_started"]
    assert kinds[-2:] == ["step_finished", "run_finished"]
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.call_id, c.name) for c in calls] == [("c1", "execute_sql"), ("c2", "execute_sql")]
    assert all(c.source == ("analyst",) for c in calls)
    sql = [e for e in events if isinstance(e, SqlEvent)]
    assert {s.source for s in sql} == {("analyst", "execute_sql")}
    table = next(e for e in events if isinstance(e, TableEvent))
    assert (table.columns, table.rows) == (("n",), ((240,),))
    results = {e.call_id: e for e in events if isinstance(e, ToolResultEvent)}
    assert results["c1"].content == "| n |\n| --- |\n| 240 |" and not results["c1"].is_error
    assert results["c2"].is_error and 'Referenced column "nope" not found' in results["c2"].content
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "There are 240 orders."
    assert len([e for e in events if isinstance(e, UsageEvent)]) == 2
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.output == "There are 240 orders."

    # The model saw the schema in its instructions and both results, in call order.
    first, second = server.requests
    system = first.messages[0].content
    assert "orders(order_id BIGINT, customer VARCHAR" in system and "duckdb database" in system
    assert first.body is not None and first.body["tool_choice"] == "required"  # tool_choice: required_first
    assert second.body is not None and second.body["tool_choice"] == "auto"
    tool_results = [m for m in second.messages if isinstance(m, ToolMessage)]
    assert [m.tool_call_id for m in tool_results] == ["c1", "c2"]


def test_terminal_output_shows_calls_tables_answer_and_summary(
    project: Path, server: ScriptedModelServer
) -> None:
    server.set_script(
        [
            Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"})]),
            Reply(text="240 orders."),
        ]
    )
    code, out, err = run_agent(project, "How many orders?")
    assert (code, err) == (0, "")
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == "→ execute_sql"
    assert lines[1] == "select count(*) as n from orders"
    assert "240 orders." in lines
    assert re.fullmatch(r"✓ \d+\.\d\d s · 2 model calls · \d+ → \d+ tokens · 1 tool call", lines[-1])


def test_transient_http_failures_are_retried(project: Path, server: ScriptedModelServer) -> None:
    server.set_script([Fail(status=429, retry_after=0), Fail(status=503), Reply(text="Still here.")])
    code, out, _ = run_agent(project, "Hi", "--format", "jsonl")
    assert code == 0
    finished = events_of(out)[-1]
    assert isinstance(finished, RunFinished)
    assert (finished.status, finished.output) == ("ok", "Still here.")
    assert len(server.requests) == 3


def test_model_errors_end_the_run_with_one_line(project: Path, server: ScriptedModelServer) -> None:
    server.set_script([Fail(status=401, message="bad key")])
    code, _, err = run_agent(project, "Hi")
    assert code == 1
    assert err.startswith("error: Model 'vllm' (vllm): HTTP 401")
    assert len(err.splitlines()) == 1


def test_unknown_model_override_lists_known_models(project: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", str(project / "agents/analyst.agent.yml"), "Hi", "--model", "gpt9"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: agents/analyst.agent.yml: Model 'gpt9' not found in config.yml; known: smollm2, vllm, openai\n"
    )


def test_template_typo_is_a_config_error_at_its_line(project: Path) -> None:
    agent = project / "agents" / "analyst.agent.yml"
    agent.write_text(agent.read_text().replace("{{ databases.shop.schema }}", "{{ databses.shop.schema }}"))
    code, _, err = run_agent(project, "Hi")
    assert code == 1
    assert err == (
        "error: agents/analyst.agent.yml:14: system_instructions: template error: "
        "`databses` is undefined — did you mean 'databases'?\n"
    )


def test_an_agent_needs_a_prompt(project: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(project / "agents/analyst.agent.yml")])
    assert result.exit_code == 1
    assert (
        result.stderr
        == 'error: an agent needs a question: oxy run agents/analyst.agent.yml "your question"\n'
    )


def test_an_openai_compatible_run_imports_neither_litellm_nor_the_openai_sdk(
    project: Path, server: ScriptedModelServer
) -> None:
    server.set_script([Reply(text="Hi.")])
    script = (
        "import sys\n"
        "from oxy.cli import main\n"
        "try:\n"
        f"    main(['run', {str(project / 'agents/analyst.agent.yml')!r}, 'Hi', '--model', 'vllm'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('litellm' in sys.modules, 'openai' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "False False"  # oxy speaks the wire format over httpx itself


@pytest.mark.skipif(
    importlib.util.find_spec("litellm") is None, reason="litellm is not installed (oxy-engine[litellm])"
)
def test_litellm_vendor_runs_the_same_agent(
    project: Path, server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRIPTED_KEY", "not-a-secret")
    config = project / "config.yml"
    config.write_text(
        config.read_text() + f"  - name: via_litellm\n    vendor: litellm\n    model_ref: openai/scripted\n"
        f"    api_url: {server.base_url}\n    key_var: SCRIPTED_KEY\n"
    )
    # models: is the first section of the quickstart config; move the appended entry there.
    text = config.read_text()
    entry = text[text.index("  - name: via_litellm") :]
    config.write_text(text.replace(entry, "").replace("models:\n", "models:\n" + entry, 1))
    server.set_script(
        [
            Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from products"})]),
            Reply(text="10."),
        ]
    )
    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(project / "agents/analyst.agent.yml"),
            "How many products?",
            "--model",
            "via_litellm",
            "--format",
            "jsonl",
        ],
    )
    assert result.exit_code == 0, result.stderr
    events = events_of(result.stdout)
    table = next(e for e in events if isinstance(e, TableEvent))
    assert table.rows == ((10,),)
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.output == "10."
