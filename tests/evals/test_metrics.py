"""Oxy's metrics: similarity and correctness read a judge's reply; context_recall is edit distance."""

from __future__ import annotations

import pytest

from oxy.config.evals import ContextRecallMetric, CorrectnessMetric, SimilarityMetric
from oxy.errors import ConfigError
from oxy.evals.judge import verdict
from oxy.evals.metrics import Submission, levenshtein_similarity, score
from oxy.execution.templates import TemplateOrigin
from oxy.models import UserMessage
from oxy.testing import Reply, ScriptedModel

ORIGIN = TemplateOrigin("agents/a.agent.yml")
ACTUAL = Submission("There are 240 orders.", ("select count(*) as n from orders",))
REFERENCE = Submission("240 orders", ("SELECT COUNT(*) AS n FROM orders;", "select * from products"))


def test_levenshtein_similarity_normalises_case_whitespace_and_the_final_semicolon() -> None:
    assert levenshtein_similarity("SELECT 1;", "select   1") == 1.0
    assert levenshtein_similarity("", "") == 1.0
    assert levenshtein_similarity("abc", "") == 0.0
    assert levenshtein_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert levenshtein_similarity("sitting", "kitten") == pytest.approx(1 - 3 / 7)


@pytest.mark.anyio
async def test_context_recall_is_the_mean_best_match_of_each_reference_context() -> None:
    result = await score(
        ContextRecallMetric(type="context_recall", threshold=0.6),
        None,
        question="?",
        actual=ACTUAL,
        reference=REFERENCE,
        origin=ORIGIN,
    )
    assert result is not None
    second = levenshtein_similarity("select count(*) as n from orders", "select * from products")
    assert result.value == pytest.approx((1.0 + second) / 2)
    assert result.passed is (result.value > 0.6)
    assert "closest miss: 'select * from products'" in result.detail
    nothing = await score(
        ContextRecallMetric(type="context_recall"),
        None,
        question="?",
        actual=ACTUAL,
        reference=Submission("240"),
        origin=ORIGIN,
    )
    assert nothing is None  # no reference contexts: nothing to measure
    missed = await score(
        ContextRecallMetric(type="context_recall"),
        None,
        question="?",
        actual=Submission("240"),
        reference=REFERENCE,
        origin=ORIGIN,
    )
    assert missed is not None and (missed.value, missed.passed) == (0.0, False)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reply", "value", "passed"),
    [
        ("The answers agree on 240.\nA", 1.0, True),
        ("They differ: 240 vs 300.\n\nB", 0.0, False),
        ("Reasoning...\n**Answer: A.**", 1.0, True),
        ("No idea", 0.0, False),
    ],
)
async def test_similarity_reads_the_choice_on_the_last_line(reply: str, value: float, passed: bool) -> None:
    judge = ScriptedModel([Reply(text=reply)])
    result = await score(
        SimilarityMetric(type="similarity"),
        judge,
        question="How many orders?",
        actual=ACTUAL,
        reference=REFERENCE,
        origin=ORIGIN,
    )
    assert result is not None and (result.metric, result.value, result.passed) == (
        "similarity",
        value,
        passed,
    )
    (request,) = judge.requests
    prompt = request.messages[-1]
    assert isinstance(prompt, UserMessage)
    assert "How many orders?" in prompt.content and "There are 240 orders." in prompt.content
    assert "240 orders" in prompt.content


@pytest.mark.anyio
async def test_similarity_with_partial_scores_passes_only_at_the_best_choice() -> None:
    metric = SimilarityMetric(type="similarity", scores={"A": 1.0, "B": 0.5, "C": 0.0})
    result = await score(
        metric,
        ScriptedModel([Reply(text="B")]),
        question="?",
        actual=ACTUAL,
        reference=REFERENCE,
        origin=ORIGIN,
    )
    assert result is not None and (result.value, result.passed) == (0.5, False)


@pytest.mark.anyio
async def test_correctness_takes_the_last_verdict_and_a_custom_prompt() -> None:
    judge = ScriptedModel([Reply(text="PASS would need 300; it says 240.\nVerdict: FAIL")])
    metric = CorrectnessMetric(type="correctness", prompt="Q {{ prompt }} E {{ expected }} A {{ actual }}")
    result = await score(
        metric, judge, question="How many?", actual=ACTUAL, reference=REFERENCE, origin=ORIGIN
    )
    assert result is not None and (result.value, result.passed) == (0.0, False)
    prompt = judge.requests[0].messages[-1]
    assert isinstance(prompt, UserMessage)
    assert prompt.content == "Q How many? E 240 orders A There are 240 orders."


@pytest.mark.anyio
async def test_a_custom_prompt_naming_an_unknown_variable_is_a_config_error_in_its_file() -> None:
    metric = SimilarityMetric(type="similarity", prompt="{{ submision_1 }}")
    with pytest.raises(ConfigError, match=r"agents/a\.agent\.yml.*submision_1"):
        await score(
            metric, ScriptedModel([]), question="?", actual=ACTUAL, reference=REFERENCE, origin=ORIGIN
        )


@pytest.mark.parametrize(
    ("reply", "found"),
    [
        ("PASS\nSame facts.", True),
        ("FAIL - it says 300.", False),
        ("The numbers agree.\nVerdict: PASS", True),
        ("It would fail to mention X, but... Verdict: **pass**", True),
        ("Reasoning: a PASS would need 300.\nVerdict: FAIL", False),
        ("Both mention 240 and it does not fail to", None),  # cut short: no verdict
        ("", None),
    ],
)
def test_a_judges_verdict_is_its_label_or_a_bare_word_at_either_end(reply: str, found: bool | None) -> None:
    assert verdict(reply) is found


def test_edit_distance_compares_at_most_the_first_2000_characters() -> None:
    long = "select " + "x, " * 5000 + "1"
    assert levenshtein_similarity(long, long + " -- and more") == 1.0
