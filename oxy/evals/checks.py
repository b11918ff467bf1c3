"""The deterministic checks of a case (`tool`, `assert:`), each a pass or a failure saying why."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oxy.config.evals import (
    ArgMatch,
    Check,
    ContainsCheck,
    ExpectedCall,
    JsonSchemaCheck,
    JudgeCheck,
    MaxDurationCheck,
    MaxToolCallsCheck,
    RegexCheck,
    RowsCheck,
    TestCase,
    ToolCallsCheck,
)
from oxy.evals.trace import CallMade, RunTrace

__all__ = ["Failure", "deterministic_failures", "label"]


@dataclass(frozen=True)
class Failure:
    check: str
    """The check, as a person reads it: `contains '3591'`, `tool 'execute_sql' ran`, `judge: ...`."""
    detail: str
    """What the run did instead."""


def label(check: Check) -> str:
    if isinstance(check, ContainsCheck):
        return f"contains {check.contains!r}"
    if isinstance(check, RegexCheck):
        return f"matches /{check.regex}/"
    if isinstance(check, ToolCallsCheck):
        return f"tool_calls {', '.join(c.name for c in check.tool_calls)} ({check.order})"
    if isinstance(check, RowsCheck):
        return f"rows {json.dumps(check.rows, default=str)}"
    if isinstance(check, JsonSchemaCheck):
        return "json_schema"
    if isinstance(check, MaxToolCallsCheck):
        return f"max_tool_calls {check.max_tool_calls}"
    if isinstance(check, MaxDurationCheck):
        return f"max_duration {check.max_duration:g} s"
    return f"judge: {check.judge}"


def deterministic_failures(case: TestCase, trace: RunTrace) -> list[Failure]:
    """Every check of `case` that needs no judge and does not hold for `trace`."""
    failures: list[Failure] = []
    if trace.error is not None:
        failures.append(Failure("the run finished", trace.error))
    if case.tool is not None and all(call.name != case.tool for call in trace.calls):
        failures.append(Failure(f"tool {case.tool!r} ran", _calls_text(trace.calls)))
    for check in case.checks:
        if isinstance(check, JudgeCheck):
            continue
        problem = _problem(check, trace)
        if problem is not None:
            failures.append(Failure(label(check), problem))
    return failures


def _problem(check: Check, trace: RunTrace) -> str | None:
    if isinstance(check, ContainsCheck):
        return None if check.contains.lower() in trace.answer.lower() else "not in the answer"
    if isinstance(check, RegexCheck):
        try:
            found = re.search(check.regex, trace.answer)
        except re.error as exc:
            return f"the regular expression is invalid: {exc}"
        return None if found else "the answer does not match"
    if isinstance(check, ToolCallsCheck):
        return None if _calls_match(check, trace.calls) else _calls_text(trace.calls)
    if isinstance(check, RowsCheck):
        missing = [row for row in check.rows if not any(_has_row(t, row) for t in trace.tables)]
        if not missing:
            return None
        return f"no SQL result has {json.dumps(missing[0], default=str)}" + (
            "" if trace.tables else " (no SQL ran)"
        )
    if isinstance(check, JsonSchemaCheck):
        return _schema_problem(check.json_schema, trace.answer)
    if isinstance(check, MaxToolCallsCheck):
        made = len(trace.calls)
        return None if made <= check.max_tool_calls else f"{made} tool calls"
    if isinstance(check, MaxDurationCheck):
        return None if trace.duration_s <= check.max_duration else f"took {trace.duration_s:.1f} s"
    return None


def _calls_match(check: ToolCallsCheck, made: Sequence[CallMade]) -> bool:
    wanted = check.tool_calls
    if check.order == "exact":
        return len(wanted) == len(made) and all(
            _call_matches(w, m) for w, m in zip(wanted, made, strict=True)
        )
    if check.order == "in_order":
        position = 0
        for expected in wanted:
            while position < len(made) and not _call_matches(expected, made[position]):
                position += 1
            if position == len(made):
                return False
            position += 1
        return True
    return _all_matched(wanted, made)


def _all_matched(wanted: Sequence[ExpectedCall], made: Sequence[CallMade]) -> bool:
    """Whether each expected call can be paired with a different call made (a bipartite matching, so
    a loose expectation never takes the only call a stricter one could use)."""
    owner: dict[int, int] = {}  # made call -> the expected call paired with it

    def place(i: int, seen: set[int]) -> bool:
        for j, call in enumerate(made):
            if j in seen or not _call_matches(wanted[i], call):
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = i
                return True
        return False

    return all(place(i, set()) for i in range(len(wanted)))


def _call_matches(expected: ExpectedCall, made: CallMade) -> bool:
    if expected.name != made.name:
        return False
    for key, want in expected.args.items():
        if key not in made.arguments:
            return False
        value = made.arguments[key]
        if isinstance(want, ArgMatch):
            if want.contains is not None and want.contains.lower() not in str(value).lower():
                return False
            if want.equals is not None and not _same(value, want.equals):
                return False
        elif not _same(value, want):
            return False
    return True


def _has_row(table: tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]], row: dict[str, Any]) -> bool:
    columns, rows = table
    if any(column not in columns for column in row):
        return False
    index = {column: columns.index(column) for column in row}
    return any(all(_same(values[index[c]], want) for c, want in row.items()) for values in rows)


def _same(value: Any, want: Any) -> bool:
    """Equal, numbers as numbers (`3591` matches `3591.0`, a Decimal, or the text `"3591"`)."""
    if isinstance(want, bool) or isinstance(value, bool):
        return value == want
    if isinstance(want, int | float):
        try:
            return abs(float(value) - float(want)) < 1e-9 * max(1.0, abs(float(want)))
        except (TypeError, ValueError):
            return False
    return value == want or str(value) == str(want)


def _schema_problem(schema: dict[str, Any], answer: str) -> str | None:
    from jsonschema import Draft7Validator  # lazy: only cases with a json_schema check need it

    text = answer.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.DOTALL)
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except ValueError as exc:
        return f"the answer is not JSON ({exc})"
    try:
        error = next(iter(Draft7Validator(schema).iter_errors(data)), None)
    except Exception as exc:  # the test file's own schema is broken (an unknown type, a bad $ref or pattern)
        return f"the json_schema check's schema is invalid: {exc}"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the answer"
    return f"{where}: {error.message}"


def _calls_text(calls: Sequence[CallMade]) -> str:
    if not calls:
        return "no tool was called"
    return "calls made: " + "; ".join(f"{c.name}({json.dumps(c.arguments, default=str)})" for c in calls)
