"""`oxy test` on Oxy's inline evaluations: `consistency` and `custom` with similarity, correctness and
context_recall metrics, on an agent and on a workflow (the quickstart, on the scripted model server)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.models import ToolMessage, UserMessage
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn, tool_call

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"

DATASET = """\
- query: How many orders are there?
  response: 240 orders
  relevant_contexts:
    - SELECT count(*) AS n FROM orders
- query: How many products are there?
  response: 10 products
  relevant_contexts:
    - select count(*) as n from products
"""

AGENT_TESTS = """
tests:
  - type: consistency
    task_description: Which product sells best?
    n: 3
  - type: custom
    dataset: data/eval.yml
    metrics:
      - type: similarity
      - type: context_recall
        threshold: 0.8
"""

WORKFLOW_TESTS = """
tests:
  - type: consistency
    task_ref: best_sellers
    n: 2
    metrics:
      - type: correctness
      - type: context_recall
"""


FACT = re.compile(r"\d+|Espresso|Latte")


def script() -> object:
    best = itertools.cycle(["Espresso sells best.", "Latte sells best."])

    def reply(request: ScriptedRequest) -> Turn:
        last = request.messages[-1]
        if request.model == "judge-model":
            text = last.content if isinstance(last, UserMessage) else ""
            if "[Answer 1]" in text:
                one = FACT.search(text.split("[Answer 1]:")[1].split("[Answer 2]:")[0])
                two = FACT.search(text.split("[Answer 2]:")[1])
                one, two = (m.group() if m else None for m in (one, two))
                return Reply(text=f"Compared {one} with {two}.\n{'A' if one == two else 'B'}")
            return Reply(text="Both list the same products.\nVerdict: PASS")
        if isinstance(last, ToolMessage):
            return Reply(text="There are 240 orders.")
        question = next(m.content for m in request.messages if isinstance(m, UserMessage))
        if "orders" in question:
            return Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"})])
        if "products" in question:
            return Reply(text="10 products")
        return Reply(text=next(best))

    return reply


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(script()) as server:  # type: ignore[arg-type]
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    (root / "agents" / "analyst.agent.test.yml").unlink()
    config = root / "config.yml"
    text = config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url)
    # The first model of config.yml judges metrics that name no model_ref (Oxy's default).
    judge = f"models:\n  - name: judge\n    vendor: vllm\n    model_ref: judge-model\n    api_url: {server.base_url}\n"
    config.write_text(text.replace("models:\n", judge, 1))
    agent = root / "agents" / "analyst.agent.yml"
    agent.write_text(agent.read_text().replace("model: smollm2", "model: vllm") + AGENT_TESTS)
    workflow = root / "workflows" / "product_report.workflow.yml"
    workflow.write_text(workflow.read_text() + WORKFLOW_TESTS)
    (root / "data" / "eval.yml").write_text(DATASET)
    return root


def oxy_test(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["test", "--project", str(project), *args])
    return result.exit_code, result.stdout, result.stderr


def test_consistency_scores_circular_pairs_and_custom_scores_each_record(
    project: Path, server: ScriptedModelServer
) -> None:
    code, out, err = oxy_test(project, str(project / "agents/analyst.agent.yml"), "--format", "json")
    assert (code, err) == (1, "")
    report = json.loads(out)
    cases = {case["name"]: case for case in report["cases"]}
    assert list(cases) == [
        "consistency: Which product sells best?",
        "How many orders are there?",
        "How many products are there?",
    ]
    consistency = cases["consistency: Which product sells best?"]
    # three answers, two alike: on a cycle of three, exactly one neighbouring pair agrees
    assert consistency["runs"] == 3 and consistency["pass_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert consistency["metrics"] == {"similarity": pytest.approx(1 / 3, abs=1e-3)}
    assert {a for a in consistency["answers"]} == {"Espresso sells best.", "Latte sells best."}
    assert consistency["failed_assertions"][0]["check"] == "similarity 0.00"
    orders = cases["How many orders are there?"]
    assert orders["pass_rate"] == 1.0 and orders["metrics"] == {"similarity": 1.0, "context_recall": 1.0}
    products = cases["How many products are there?"]
    assert products["pass_rate"] == 0.0
    assert products["metrics"] == {"similarity": 1.0, "context_recall": 0.0}
    assert products["failed_assertions"] == [
        {
            "run": 1,
            "check": "context_recall 0.00",
            "detail": "recall 0.00 (needs > 0.80); closest miss: 'select count(*) as n from products'",
        }
    ]
    assert report["score"] == pytest.approx((1 / 3 + 1 + 0) / 3, abs=1e-3)
    judged = [r for r in server.requests if r.model == "judge-model"]
    assert len(judged) == 3 + 2  # three pairs, two records (context_recall needs no judge)


def test_a_workflow_task_is_run_n_times_and_its_output_and_sql_are_compared(
    project: Path, server: ScriptedModelServer
) -> None:
    code, out, err = oxy_test(project, str(project / "workflows/product_report.workflow.yml"))
    assert (code, err) == (0, ""), out
    first, last = out.splitlines()[0], out.splitlines()[-1]
    assert re.fullmatch(
        r"✓ consistency: the output of task 'best_sellers'  workflows/product_report\.workflow\.yml  2/2 "
        r"passed \(100%\)  [\d.]+ s  0 tokens  correctness 1\.00  context_recall 1\.00",
        first,
    )
    assert last == "score 1.00 (average, needs 1.00) · 1/1 cases passed · passed"
    (asked, _) = [r for r in server.requests if r.model == "judge-model"]
    prompt = asked.messages[-1]
    assert isinstance(prompt, UserMessage) and "Espresso" in prompt.content  # the task's rows, as text


def test_every_file_runs_with_no_arguments_and_tags_leave_evaluations_out(project: Path) -> None:
    code, out, _ = oxy_test(project, "--format", "json", "--min-accuracy", "0.5")
    report = json.loads(out)
    assert code == 0 and len(report["cases"]) == 4
    code, _, err = oxy_test(project, "--tag", "anything")
    assert (code, err) == (1, "error: no test cases to run with those --tag/--case filters\n")
    code, out, _ = oxy_test(project, "--case", "How many orders are there?", "--format", "json")
    assert code == 0 and [c["name"] for c in json.loads(out)["cases"]] == ["How many orders are there?"]


def test_a_consistency_evaluation_with_one_answer_fails_saying_why(project: Path) -> None:
    code, out, _ = oxy_test(
        project, str(project / "agents/analyst.agent.yml"), "--runs", "1", "--format", "json"
    )
    case = json.loads(out)["cases"][0]
    assert code == 1 and case["name"] == "consistency: Which product sells best?"
    assert case["failed_assertions"] == [
        {
            "run": 1,
            "check": "answers to compare",
            "detail": "1 of 1 runs answered; a consistency evaluation compares at least 2 answers",
        }
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("data/eval.yml", "  response: 10 products\n", "  respons: 10 products\n"),
            "error: data/eval.yml:6:3: unknown key 'respons' — did you mean 'response'?",
        ),
        (
            ("agents/analyst.agent.yml", "dataset: data/eval.yml", "dataset: data/missing.yml"),
            "error: agents/analyst.agent.yml: tests[1]: dataset 'data/missing.yml' not found",
        ),
        (
            (
                "agents/analyst.agent.yml",
                "      - type: similarity\n",
                "      - type: similarity\n        prompt: '{{ submision_1 }}'\n",
            ),
            "error: agents/analyst.agent.yml: tests[1].metrics: template error: `submision_1` is undefined — did "
            "you mean 'submission_1'?",
        ),
        (
            ("agents/analyst.agent.yml", "dataset: data/eval.yml", "dataset: ../outside.yml"),
            "error: agents/analyst.agent.yml: tests[1]: dataset '../outside.yml' is outside the project",
        ),
        (
            (
                "workflows/product_report.workflow.yml",
                "  - type: consistency\n    task_ref: best_sellers\n    n: 2\n",
                "  - type: custom\n    dataset: data/eval.yml\n",
            ),
            "error: workflows/product_report.workflow.yml: tests[0]: a custom evaluation of a workflow needs "
            "`workflow_variable_name`",
        ),
    ],
)
def test_bad_evaluations_are_one_line_errors(project: Path, edit: tuple[str, str, str], message: str) -> None:
    file, old, new = edit
    path = project / file
    path.write_text(path.read_text().replace(old, new))
    code, out, err = oxy_test(project)
    assert (code, out) == (1, "")
    assert err.startswith(message), err
