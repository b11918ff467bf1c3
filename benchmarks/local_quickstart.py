"""The quickstart's analyst on the shipped SmolLM2-135M-Instruct, offline: how many answers are right.

Asks a fixed set of questions about the quickstart's coffee shop (counts, sums, maxima, names), each
with its known answer (computed from the CSVs, below), through the real engine (`Runtime` and
`run_file`, as `oxy run` does) on the `smollm2` model of `projects/quickstart/config.yml`. An answer is
right when its final text contains the expected value (numbers compared as numbers: `240`, `240.0`
and `240 orders` all match 240). Prints one row per question (right, time, the SQL the model ran, the
answer) and a summary: right answers out of all, how many runs ran valid SQL, median seconds per answer;
then the quickstart's own test file (`agents/analyst.agent.test.yml`) run as `oxy test` runs it.

The questions were written from the data, before measuring, and are not tuned to the model.

    python -m benchmarks.local_quickstart [--model smollm2] [--only N] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import anyio

from benchmarks._table import print_table
from oxy.application import Runtime, run_file
from oxy.config import load_project
from oxy.evals import SuiteResult, load_suites, run_suite
from oxy.events.sinks import ListSink
from oxy.events.types import ToolCallEvent, ToolResultEvent
from oxy.models import aclose_clients

QUICKSTART = Path(__file__).resolve().parent.parent / "projects" / "quickstart"
AGENT = QUICKSTART / "agents" / "analyst.agent.yml"
TEST_FILE = QUICKSTART / "agents" / "analyst.agent.test.yml"


@dataclass(frozen=True)
class Question:
    prompt: str
    expected: str
    """A number (matched as a number) or a name (matched case-insensitively)."""


QUESTIONS = (
    Question("How many orders are there?", "240"),
    Question("How many products are there?", "10"),
    Question("How many units were ordered in total?", "594"),
    Question("How many different customers have placed orders?", "10"),
    Question("What is the most expensive product?", "Grinder"),
    Question("What is the price of the cheapest product?", "2.8"),
    Question("What is the price of Espresso beans?", "14.5"),
    Question("Which category is Oat milk in?", "dairy-free"),
    Question("How many products are in the coffee category?", "3"),
    Question("What is the largest quantity in a single order?", "4"),
    Question("How many orders did the customer ivo place?", "33"),
    Question("Which customer placed the most orders?", "ivo"),
    Question("What is the average price of a product?", "20.3"),
    Question("How many orders were placed in June 2026?", "39"),
    Question("Which product sold the most units?", "Espresso beans"),
    Question("What is the total revenue from all orders?", "5532.25"),
)

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def is_right(answer: str, expected: str) -> bool:
    try:
        want = float(expected)
    except ValueError:
        return expected.lower() in answer.lower()
    for match in _NUMBER.findall(answer):
        try:
            if abs(float(match.replace(",", "")) - want) < 0.005:
                return True
        except ValueError:
            continue
    return False


@dataclass
class Outcome:
    question: Question
    answer: str
    seconds: float
    sql: list[str]
    sql_ok: bool

    @property
    def right(self) -> bool:
        return is_right(self.answer, self.question.expected)


async def ask(runtime: Runtime, question: Question, model: str) -> Outcome:
    sink = ListSink()
    started = time.perf_counter()
    result = await run_file(AGENT, runtime=runtime, prompt=question.prompt, model=model, sink=sink)
    seconds = time.perf_counter() - started
    sql: list[str] = []
    sql_ok = False
    for event in sink.events:
        if isinstance(event, ToolCallEvent):
            try:
                sql.append(str(json.loads(event.arguments).get("sql", event.arguments)))
            except (ValueError, AttributeError):
                sql.append(event.arguments)
        elif isinstance(event, ToolResultEvent) and not event.is_error:
            sql_ok = True
    answer = str(result.output) if result.status == "ok" else f"[{result.status}] {result.error}"
    return Outcome(question, answer, seconds, sql, sql_ok)


async def measure(model: str, only: int | None) -> tuple[list[Outcome], SuiteResult | None]:
    """The questions' outcomes, and (on the agent's own model) the shipped test file's result."""
    project = load_project(QUICKSTART)
    runtime = Runtime.for_project(project)
    questions = QUESTIONS[:only] if only else QUESTIONS
    outcomes: list[Outcome] = []
    suite = None
    try:
        for question in questions:
            outcomes.append(await ask(runtime, question, model))
        if model == project.agent("agents/analyst.agent.yml").model:  # the test file runs the agent as it is
            suite = await run_suite(runtime, load_suites(project, [TEST_FILE]))
    finally:
        await runtime.aclose()
        await aclose_clients()
    return outcomes, suite


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2", help="a model name from the quickstart's config.yml")
    parser.add_argument("--only", type=int, help="ask only the first N questions")
    parser.add_argument("--verbose", action="store_true", help="print the whole SQL and answer of each run")
    args = parser.parse_args()
    outcomes, suite = anyio.run(measure, args.model, args.only)
    rows = [
        (
            "yes" if o.right else "no",
            f"{o.seconds:.1f}",
            _short(o.question.prompt, 44),
            o.question.expected,
            _short(" | ".join(o.sql) or "-", 60),
            _short(o.answer, 60),
        )
        for o in outcomes
    ]
    print_table(("right", "s", "question", "expected", "SQL run", "answer"), rows)
    if args.verbose:
        for o in outcomes:
            print(f"\n## {o.question.prompt} (expected {o.question.expected})")
            for sql in o.sql:
                print(f"SQL: {sql}")
            print(f"ANSWER: {o.answer}")
    right = sum(o.right for o in outcomes)
    valid = sum(o.sql_ok for o in outcomes)
    median = statistics.median(o.seconds for o in outcomes)
    print(
        f"\nmodel {args.model}: {right}/{len(outcomes)} answers right, {valid}/{len(outcomes)} runs ran valid SQL, "
        f"median {median:.1f} s per answer"
    )
    if suite is not None:
        passed = sum(c.passed for c in suite.cases)
        print(
            f"the quickstart's test file ({TEST_FILE.relative_to(QUICKSTART)}, as `oxy test` runs it): "
            f"{passed}/{len(suite.cases)} cases passed, score {suite.score:.2f}"
        )


if __name__ == "__main__":
    main()
