"""Each `assert:` check, and Oxy's `tool:`, passing and failing on a recorded run."""

from __future__ import annotations

from typing import Any

import pytest

from oxy.config.evals import TestCase
from oxy.evals.checks import deterministic_failures
from oxy.evals.trace import CallMade, RunTrace

TRACE = RunTrace(
    answer="The total fruit sales amount is 3,591 (3591.0 exactly).",
    calls=[
        CallMade("list_tables", {}),
        CallMade("execute_sql", {"sql": "SELECT SUM(amount) AS total FROM fruit_sales", "limit": 10}),
    ],
    tables=[(("total", "region"), ((3591.0, "north"), (12, "south")))],
    duration_s=2.5,
)


def failures(*checks: dict[str, Any], tool: str | None = None, trace: RunTrace = TRACE) -> list[str]:
    case = TestCase.model_validate({"prompt": "?", "tool": tool, "assert": list(checks)})
    return [f"{f.check}: {f.detail}" for f in deterministic_failures(case, trace)]


@pytest.mark.parametrize(
    "check",
    [
        {"contains": "3591"},
        {"contains": "FRUIT SALES"},
        {"regex": r"\b3591\b"},
        {"tool_calls": [{"name": "execute_sql", "args": {"sql": {"contains": "fruit_sales"}}}]},
        {"tool_calls": [{"name": "execute_sql", "args": {"limit": 10}}], "order": "any_order"},
        {"tool_calls": [{"name": "list_tables"}, {"name": "execute_sql"}], "order": "in_order"},
        {"tool_calls": [{"name": "list_tables"}, {"name": "execute_sql"}], "order": "exact"},
        {"rows": [{"total": 3591}]},
        {"rows": [{"total": 12, "region": "south"}, {"region": "north"}]},
        {"max_tool_calls": 2},
        {"max_duration": 3},
    ],
)
def test_checks_that_hold(check: dict[str, Any]) -> None:
    assert failures(check) == []


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"contains": "4000"}, "contains '4000': not in the answer"),
        ({"regex": r"^\d+$"}, "matches /^\\d+$/: the answer does not match"),
        (
            {"regex": "("},
            "matches /(/: the regular expression is invalid: missing ), unterminated subpattern at position 0",
        ),
        (
            {"tool_calls": [{"name": "execute_sql", "args": {"sql": {"contains": "orders"}}}]},
            "tool_calls execute_sql (any_order): calls made: list_tables({}); execute_sql("
            '{"sql": "SELECT SUM(amount) AS total FROM fruit_sales", "limit": 10})',
        ),
        (
            {"tool_calls": [{"name": "execute_sql"}, {"name": "list_tables"}], "order": "in_order"},
            "tool_calls execute_sql, list_tables (in_order): calls made: ",
        ),
        ({"tool_calls": [{"name": "execute_sql"}], "order": "exact"}, "tool_calls execute_sql (exact): "),
        ({"rows": [{"total": 3592}]}, 'rows [{"total": 3592}]: no SQL result has {"total": 3592}'),
        ({"rows": [{"missing_column": 1}]}, 'rows [{"missing_column": 1}]: no SQL result has'),
        ({"max_tool_calls": 1}, "max_tool_calls 1: 2 tool calls"),
        ({"max_duration": 1}, "max_duration 1 s: took 2.5 s"),
        ({"json_schema": {"type": "object"}}, "json_schema: the answer is not JSON ("),
    ],
)
def test_checks_that_fail_say_what_happened(check: dict[str, Any], message: str) -> None:
    (failure,) = failures(check)
    assert failure.startswith(message)


def test_json_schema_reads_a_fenced_answer_and_names_the_bad_field() -> None:
    schema = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}
    good = RunTrace(answer='```json\n{"total": 3591}\n```')
    bad = RunTrace(answer='{"total": "lots"}')
    assert failures({"json_schema": schema}, trace=good) == []
    assert failures({"json_schema": schema}, trace=bad) == [
        "json_schema: total: 'lots' is not of type 'number'"
    ]


def test_oxys_tool_key_and_a_failed_run() -> None:
    assert failures(tool="execute_sql") == []
    assert failures(tool="validate_sql")[0].startswith("tool 'validate_sql' ran: calls made: list_tables")
    assert failures(tool="x", trace=RunTrace()) == ["tool 'x' ran: no tool was called"]
    broken = RunTrace(error="Model 'm' failed: 500")
    assert failures({"contains": "a"}, trace=broken) == [
        "the run finished: Model 'm' failed: 500",
        "contains 'a': not in the answer",
    ]
    assert failures({"rows": [{"a": 1}]}, trace=RunTrace())[0].endswith("(no SQL ran)")


def test_any_order_pairs_each_expectation_with_its_own_call() -> None:
    # The loose expectation must not take the one call the strict one needs.
    check = {
        "tool_calls": [
            {"name": "execute_sql"},
            {"name": "execute_sql", "args": {"sql": {"contains": "fruit"}}},
        ],
        "order": "any_order",
    }
    two = RunTrace(
        calls=[CallMade("execute_sql", {"sql": "select 1"}), CallMade("execute_sql", {"sql": "fruit"})]
    )
    reversed_ = RunTrace(calls=list(reversed(two.calls)))
    assert failures(check, trace=two) == [] and failures(check, trace=reversed_) == []
    one = RunTrace(calls=[CallMade("execute_sql", {"sql": "fruit"})])
    assert len(failures(check, trace=one)) == 1


def test_a_broken_schema_is_a_failure_not_a_crash() -> None:
    (failure,) = failures({"json_schema": {"type": "no-such-type"}}, trace=RunTrace(answer="{}"))
    assert failure.startswith("json_schema: the json_schema check's schema is invalid: ")
