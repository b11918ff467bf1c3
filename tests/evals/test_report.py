"""Reports: thresholds per case and per suite, and JUnit XML that any CI parses."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from oxy.evals.checks import Failure
from oxy.evals.report import junit_report
from oxy.evals.runner import CaseResult, RunOutcome, SuiteResult
from oxy.evals.trace import RunTrace


def case(name: str, verdicts: list[bool], *, threshold: float = 1.0, explicit: bool = False) -> CaseResult:
    runs = [
        RunOutcome(
            RunTrace(answer="\x1b[31mred\x00"), () if ok else (Failure("contains 'x'", "not in\x07 it"),)
        )
        for ok in verdicts
    ]
    return CaseResult("t.agent.test.yml", name, (), threshold, explicit, runs)


def test_average_mode_still_holds_a_case_to_its_own_threshold() -> None:
    result = SuiteResult([case("a", [True, True]), case("b", [True, False], threshold=0.9, explicit=True)])
    assert result.score == 0.75
    assert not result.passed(min_accuracy=0.7, mode="average")  # b's own 0.9 is not met
    relaxed = SuiteResult([case("a", [True, True]), case("b", [True, False], threshold=0.5, explicit=True)])
    assert relaxed.passed(min_accuracy=0.7, mode="average")
    all_mode = SuiteResult([case("a", [True, True], threshold=0.7), case("b", [True, False], threshold=0.7)])
    assert all_mode.passed(min_accuracy=0.7, mode="average") and not all_mode.passed(
        min_accuracy=0.7, mode="all"
    )


def test_junit_is_valid_xml_even_with_control_characters_in_answers() -> None:
    xml = junit_report({"": SuiteResult([case("a", [True]), case("b\x1b", [False])])})
    root = ET.fromstring(xml)
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None and failure.text is not None and "answer: \ufffd[31mred\ufffd" in failure.text
