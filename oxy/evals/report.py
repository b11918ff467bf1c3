"""`oxy test` reports: for people (pretty), for programs (JSON), for CI systems (JUnit XML)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from oxy.evals.runner import CaseResult, SuiteResult

__all__ = ["compare_lines", "json_report", "junit_report", "pretty_lines"]


def json_report(result: SuiteResult, *, min_accuracy: float, mode: str) -> dict[str, Any]:
    """`score` (0–1), whether the suite `passed`, and one entry per case with its `pass_rate` and the
    assertions that failed (each with the run it failed in and what happened)."""
    return {
        "score": round(result.score, 4),
        "passed": result.passed(min_accuracy=min_accuracy, mode=mode),
        "min_accuracy": min_accuracy,
        "threshold_mode": mode,
        "cases": [_case_json(case) for case in result.cases],
    }


def _case_json(case: CaseResult) -> dict[str, Any]:
    return {
        "file": case.file,
        "name": case.name,
        "tags": list(case.tags),
        "pass_rate": round(case.pass_rate, 4),
        "passed": case.passed,
        "consistent": case.consistent,
        "runs": len(case.runs),
        "mean_seconds": round(case.seconds, 3),
        "tokens": case.tokens,
        **(
            {"metrics": {name: round(value, 4) for name, value in case.metrics.items()}}
            if case.metrics
            else {}
        ),
        "failed_assertions": [
            {"run": i + 1, "check": f.check, "detail": f.detail}
            for i, run in enumerate(case.runs)
            for f in run.failures
        ],
        "answers": [run.trace.answer for run in case.runs],
        **(
            {"variants": [run.trace.variant for run in case.runs]}
            if any(run.trace.variant is not None for run in case.runs)
            else {}
        ),
    }


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: a model's answer may carry control characters (a terminal escape)."""
    return _NOT_XML.sub("\ufffd", text)


def junit_report(results: Mapping[str, SuiteResult]) -> str:
    """One `<testsuite>` per file (and variant: `file [variant]`, keyed by variant name, "" for none),
    one `<testcase>` per case; a case below its threshold is a failure."""
    cases_total = sum(len(r.cases) for r in results.values())
    root = ET.Element("testsuites", name="oxy test", tests=str(cases_total))
    by_file: dict[str, list[CaseResult]] = {}
    for variant, result in results.items():
        for case in result.cases:
            by_file.setdefault(f"{case.file} [{variant}]" if variant else case.file, []).append(case)
    failures_total = 0
    for file, cases in by_file.items():
        failed = [c for c in cases if not c.passed]
        failures_total += len(failed)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml(file),
            tests=str(len(cases)),
            failures=str(len(failed)),
            time=f"{sum(c.seconds * len(c.runs) for c in cases):.3f}",
        )
        for case in cases:
            element = ET.SubElement(
                suite, "testcase", classname=_xml(file), name=_xml(case.name), time=f"{case.seconds:.3f}"
            )  # classname: the suite's name, so a variant's cases stay apart
            ET.SubElement(
                element, "system-out"
            ).text = f"pass rate {case.pass_rate:.2f} over {len(case.runs)} runs{_metrics_text(case)}"
            if not case.passed:
                first = next((f for r in case.runs for f in r.failures), None)
                message = f"pass rate {case.pass_rate:.2f} < {case.threshold:.2f}" + (
                    f": {first.check}: {first.detail}" if first else ""
                )
                failure = ET.SubElement(element, "failure", message=_xml(message))
                failure.text = _xml(
                    "\n".join(
                        f"run {i + 1}: {f.check}: {f.detail}\n  answer: {run.trace.answer}"
                        for i, run in enumerate(case.runs)
                        for f in run.failures
                    )
                )
    root.set("failures", str(failures_total))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def pretty_lines(result: SuiteResult, *, min_accuracy: float, mode: str) -> list[str]:
    """Plain lines (rich markup): per case its verdict, pass rate, time and tokens; for a case that
    failed a run, the first failed check and that run's answer; then the score."""
    lines: list[str] = []
    for case in result.cases:
        mark = "[green]✓[/]" if case.passed else "[red]✗[/]"
        passed = sum(r.passed for r in case.runs)
        lines.append(
            f"{mark} {_escape(case.name)}  [dim]{case.file}[/]  {passed}/{len(case.runs)} passed "
            f"({case.pass_rate:.0%})  {case.seconds:.1f} s  {case.tokens} tokens{_metrics_text(case)}"
        )
        failed_run = next((r for r in case.runs if r.failures), None)
        if failed_run is not None:
            first = failed_run.failures[0]
            lines.append(f"    [red]{_escape(first.check)}[/]: {_escape(first.detail)}")
            answer = " ".join(failed_run.trace.answer.split())
            lines.append(f"    [dim]answer: {_escape(answer[:200] or '(none)')}[/]")
    verdict = "[green]passed[/]" if result.passed(min_accuracy=min_accuracy, mode=mode) else "[red]failed[/]"
    cases_ok = sum(c.passed for c in result.cases)
    lines.append(
        f"score {result.score:.2f} ({mode}, needs {min_accuracy:.2f}) · {cases_ok}/{len(result.cases)} cases "
        f"passed · {verdict}"
    )
    return lines


def compare_lines(results: Mapping[str, SuiteResult], *, min_accuracy: float, mode: str) -> list[str]:
    """The variants side by side (rich markup): per case its pass rate under each, then each score."""
    names = list(results)
    first = results[names[0]]
    width = max([len(n) for n in names] + [8])
    case_width = max([len(c.name) for c in first.cases] + [4])
    lines = ["case".ljust(case_width) + "  " + "  ".join(n.rjust(width) for n in names)]
    for i, case in enumerate(first.cases):
        rates: list[str] = []
        for name in names:
            other = results[name].cases[i]
            cell = f"{other.pass_rate:.0%}".rjust(width)
            rates.append(f"[green]{cell}[/]" if other.passed else f"[red]{cell}[/]")
        lines.append(_escape(case.name.ljust(case_width)) + "  " + "  ".join(rates))
    scores = "  ".join(f"{results[n].score:.2f}".rjust(width) for n in names)
    lines.append("score".ljust(case_width) + "  " + scores)
    verdicts = [
        ("[green]" + "passed".rjust(width) + "[/]")
        if results[n].passed(min_accuracy=min_accuracy, mode=mode)
        else ("[red]" + "failed".rjust(width) + "[/]")
        for n in names
    ]
    lines.append("verdict".ljust(case_width) + "  " + "  ".join(verdicts))
    lines.append(f"[dim]score: the mean pass rate ({mode}); each variant needs {min_accuracy:.2f}[/]")
    return lines


def _metrics_text(case: CaseResult) -> str:
    """`  similarity 0.80  context_recall 0.65`: each metric's mean score, for evaluations that have them."""
    return "".join(f"  {name} {value:.2f}" for name, value in case.metrics.items())


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
