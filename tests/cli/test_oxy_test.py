"""`oxy test` end to end: the quickstart's agent on the scripted model server, a scripted judge too."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.models import ToolMessage, UserMessage
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn, tool_call

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"

TESTS = """\
settings:
  runs: 2
  concurrency: 3
  judge_model: judge
cases:
  - name: order count
    prompt: How many orders are there?
    expected: 240 orders
    tags: [counts]
    tool: execute_sql
    assert:
      - contains: "240"
      - rows: [{n: 240}]
      - tool_calls: [{name: execute_sql, args: {sql: {contains: orders}}}]
  - name: judged wrong
    prompt: How many orders in all?
    expected: 300 orders
    tags: [counts]
  - name: products
    prompt: How many products are there?
    tags: [products]
    assert:
      - contains: "10"
"""


def script(request: ScriptedRequest) -> Turn:
    last = request.messages[-1]
    if request.model == "judge-model":
        text = last.content if isinstance(last, UserMessage) else ""
        expected = re.search(r"Expected answer: (\d+)", text)
        answer = text.split("Assistant's answer:")[1].split("Expected answer:")[0]
        verdict = expected is not None and expected.group(1) in answer
        return Reply(text="PASS\nSame count." if verdict else "FAIL\nA different count.")
    if isinstance(last, ToolMessage):
        return Reply(text="There are 240 orders.")
    question = next(m.content for m in request.messages if isinstance(m, UserMessage))
    if "orders" in question:
        return Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"})])
    return Reply(text="I don't know.")


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(script) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    config = root / "config.yml"
    text = config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url)
    judge = f"  - name: judge\n    vendor: vllm\n    model_ref: judge-model\n    api_url: {server.base_url}\n"
    config.write_text(text.replace("databases:", judge + "\ndatabases:", 1))
    agent = root / "agents" / "analyst.agent.yml"
    agent.write_text(agent.read_text().replace("model: smollm2", "model: vllm"))
    (root / "agents" / "analyst.agent.test.yml").write_text(TESTS)
    return root


def oxy_test(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["test", "--project", str(project), *args])
    return result.exit_code, result.stdout, result.stderr


def test_pretty_report_shows_each_case_and_exits_1_below_the_threshold(project: Path) -> None:
    code, out, err = oxy_test(project)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert re.fullmatch(
        r"✓ order count  agents/analyst\.agent\.test\.yml  2/2 passed \(100%\)  [\d.]+ s  \d+ tokens",
        lines[0],
    )
    assert lines[1].startswith("✗ judged wrong  agents/analyst.agent.test.yml  0/2 passed (0%)")
    assert lines[2] == "    expected '300 orders' (judged): FAIL A different count."
    assert lines[3] == "    answer: There are 240 orders."
    assert lines[4].startswith("✗ products  agents/analyst.agent.test.yml  0/2 passed (0%)")
    assert lines[5:7] == ["    contains '10': not in the answer", "    answer: I don't know."]
    assert lines[7] == "score 0.33 (average, needs 1.00) · 1/3 cases passed · failed"


def test_thresholds_and_modes_decide_the_exit_code(project: Path) -> None:
    assert oxy_test(project, "--min-accuracy", "0.3")[0] == 0
    assert oxy_test(project, "--min-accuracy", "0.3", "--threshold-mode", "all")[0] == 1
    assert oxy_test(project, "--tag", "counts", "--case", "order count")[0] == 0
    assert oxy_test(project, "--case", "products")[0] == 1
    code, _, err = oxy_test(project, "--tag", "nothing")
    assert (code, err) == (1, "error: no test cases to run with those --tag/--case filters\n")


def test_json_report_has_the_score_and_each_cases_failed_assertions(
    project: Path, server: ScriptedModelServer
) -> None:
    code, out, _ = oxy_test(project, "--format", "json", "--runs", "1")
    assert code == 1
    report = json.loads(out)
    assert report["score"] == pytest.approx(1 / 3, abs=1e-3) and report["passed"] is False
    cases = {case["name"]: case for case in report["cases"]}
    assert [cases[n]["pass_rate"] for n in ("order count", "judged wrong", "products")] == [1.0, 0.0, 0.0]
    assert cases["order count"]["failed_assertions"] == [] and cases["order count"]["runs"] == 1
    assert cases["products"]["failed_assertions"] == [
        {"run": 1, "check": "contains '10'", "detail": "not in the answer"}
    ]
    assert cases["products"]["answers"] == ["I don't know."]
    judged = [r for r in server.requests if r.model == "judge-model"]
    assert len(judged) == 2  # one run each of the two cases with `expected`


def test_junit_report_parses_and_files_are_written(project: Path, tmp_path: Path) -> None:
    junit, results = tmp_path / "out" / "junit.xml", tmp_path / "results.json"
    code, out, _ = oxy_test(
        project, "--format", "junit", "--output", str(junit), "--output-json", str(results)
    )
    assert (code, out) == (1, "")
    root = ET.parse(junit).getroot()
    (suite,) = root.findall("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "agents/analyst.agent.test.yml",
        "3",
        "2",
    )
    failures = {case.get("name"): case.find("failure") for case in suite.findall("testcase")}
    assert failures["order count"] is None
    products = failures["products"]
    assert products is not None
    assert products.get("message") == "pass rate 0.00 < 1.00: contains '10': not in the answer"
    assert json.loads(results.read_text())["score"] == pytest.approx(1 / 3, abs=1e-3)


def test_expected_without_a_judge_model_is_a_config_error(project: Path) -> None:
    tests = project / "agents" / "analyst.agent.test.yml"
    tests.write_text(TESTS.replace("  judge_model: judge\n", ""))
    code, out, err = oxy_test(project)
    assert (code, out) == (1, "")
    assert err.startswith(
        "error: agents/analyst.agent.test.yml: case 'order count' has `expected` or a `judge:` check, which a "
        "judge model grades: set settings.judge_model"
    )


def test_record_then_replay_with_no_model_server(
    project: Path, server: ScriptedModelServer, tmp_path: Path
) -> None:
    cassette = tmp_path / "tape.json"
    code, out, _ = oxy_test(project, "--record", "--cassette", str(cassette), "--format", "json")
    recorded = json.loads(out)
    asked = len(server.requests)
    assert code == 1 and asked > 0 and cassette.is_file()

    code, out, _ = oxy_test(project, "--replay", "--cassette", str(cassette), "--format", "json")
    assert code == 1 and len(server.requests) == asked  # nothing reached the model
    replayed = json.loads(out)
    assert [c["pass_rate"] for c in replayed["cases"]] == [c["pass_rate"] for c in recorded["cases"]]

    tests = project / "agents" / "analyst.agent.test.yml"
    tests.write_text(tests.read_text().replace("How many products are there?", "How many products exist?"))
    code, out, _ = oxy_test(
        project, "--replay", "--cassette", str(cassette), "--case", "products", "--format", "json"
    )
    (case,) = json.loads(out)["cases"]
    assert code == 1 and case["name"] == "products"
    assert case["failed_assertions"][0]["check"] == "the run finished"
    assert "no recording of this request in " in case["failed_assertions"][0]["detail"]
    assert len(server.requests) == asked


def test_the_quickstart_replays_its_committed_cassette_offline(tmp_path: Path) -> None:
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project)
    code, out, err = oxy_test(project, "--replay")
    assert (code, err) == (0, ""), out
    assert out.splitlines()[-1] == "score 1.00 (average, needs 1.00) · 3/3 cases passed · passed"
    result = CliRunner().invoke(
        cli, ["run", str(project / "agents/analyst.agent.yml"), "How many orders are there?", "--replay"]
    )
    assert result.exit_code == 0 and "The answer is 240." in result.stdout
    result = CliRunner().invoke(
        cli, ["run", str(project / "agents/analyst.agent.yml"), "Something new?", "--replay"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: Model 'smollm2': no recording of this request in .oxy/cassettes/default.json: the prompt"
    )


def test_filters_decide_whether_a_judge_is_needed_and_a_broken_agent_fails_its_runs(project: Path) -> None:
    tests = project / "agents" / "analyst.agent.test.yml"
    tests.write_text(TESTS.replace("  judge_model: judge\n", ""))
    assert oxy_test(project, "--tag", "products", "--min-accuracy", "0")[0] == 0  # no judged case chosen
    agent = project / "agents" / "analyst.agent.yml"
    agent.write_text(agent.read_text().replace("model: vllm", "model: nowhere"))
    code, out, err = oxy_test(project, "--tag", "products", "--format", "json")
    assert (code, err) == (1, "")
    (case,) = json.loads(out)["cases"]
    assert case["failed_assertions"][0]["check"] == "the run finished"
    assert "Model 'nowhere' not found in config.yml" in case["failed_assertions"][0]["detail"]


def test_cassette_options_must_go_together_sensibly(project: Path) -> None:
    code, _, err = oxy_test(project, "--record", "--replay")
    assert code == 2 and "--record and --replay exclude each other" in err
    code, _, err = oxy_test(project, "--cassette", "x.json")
    assert code == 2 and "--cassette goes with --record or --replay" in err
