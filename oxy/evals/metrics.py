"""Oxy's evaluation metrics: `similarity` and `correctness` (a judge model reads two answers),
`context_recall` (how closely what a run retrieved matches the contexts it should have)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import anyio

from oxy.config.evals import ContextRecallMetric, EvalMetric, SimilarityMetric
from oxy.evals._text import short
from oxy.evals.judge import verdict
from oxy.execution.templates import Renderer, TemplateOrigin
from oxy.models import ModelSettings, UserMessage
from oxy.models.client import ModelClient

__all__ = ["Score", "Submission", "check_prompt", "levenshtein_similarity", "score"]

SIMILARITY_PROMPT = """\
You compare two answers to the same question and decide whether their facts agree.

[Question]: {{ task_description }}
[Answer 1]: {{ submission_1 }}
[Answer 2]: {{ submission_2 }}

Ignore differences of wording, style, formatting and punctuation. List the facts on which the two \
answers differ, if any, then reason about whether one merely contains more than the other (that \
agrees) or whether they contradict each other. Then choose:
A. The answers agree: one contains the other, or they are the same.
B. The answers disagree.

On the last line print only the letter of your choice, A or B.
"""

CORRECTNESS_PROMPT = """\
You grade an AI agent's answer to a question against the expected answer.

[Question]: {{ prompt }}
[Expected answer]: {{ expected }}
[Agent's answer]: {{ actual }}

Name the key facts of the expected answer and say whether the agent's answer states them without \
contradiction. Ignore formatting, style, phrasing and extra correct detail.

End with a line that reads "Verdict: PASS" or "Verdict: FAIL".
"""

_RENDERER = Renderer()
MAX_COMPARED = 2000
_CHOICE = re.compile(r"\b([A-Z])\b")


@dataclass(frozen=True)
class Submission:
    """An answer, and the contexts behind it (the SQL a run executed, a dataset's relevant contexts)."""

    text: str
    contexts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Score:
    metric: str
    value: float
    passed: bool
    detail: str
    """Why, for a report: the judge's reasoning, or which contexts were missed."""


async def score(
    metric: EvalMetric,
    judge: ModelClient | None,
    *,
    question: str,
    actual: Submission,
    reference: Submission,
    origin: TemplateOrigin,
) -> Score | None:
    """How `actual` compares with `reference` under `metric`; None when the metric has nothing to
    measure (no reference contexts for `context_recall`). `judge` is required for the judged metrics;
    `origin` is the file a custom judge prompt is written in (an undefined name is an error there)."""
    if isinstance(metric, ContextRecallMetric):  # in a thread: edit distance is CPU work, O(n·m)
        return await anyio.to_thread.run_sync(_context_recall, metric, actual, reference)
    assert judge is not None, "similarity and correctness need a judge model"
    if isinstance(metric, SimilarityMetric):
        values = {"task_description": question, "submission_1": actual.text, "submission_2": reference.text}
        prompt = _RENDERER.render(metric.prompt or SIMILARITY_PROMPT, values, origin=origin)
        reply = await _ask(judge, prompt)
        choice = _choice(reply, metric.scores)
        if choice is None:
            return Score(
                "similarity",
                0.0,
                False,
                f"the judge chose none of {', '.join(metric.scores)}: {short(reply, 300)}",
            )
        value = metric.scores[choice]
        return Score("similarity", value, value >= max(metric.scores.values()), short(reply, 300))
    values = {"prompt": question, "expected": reference.text, "actual": actual.text}
    prompt = _RENDERER.render(metric.prompt or CORRECTNESS_PROMPT, values, origin=origin)
    reply = await _ask(judge, prompt)
    passed = verdict(reply)
    if passed is None:
        return Score("correctness", 0.0, False, f"the judge gave no verdict: {short(reply, 300)}")
    return Score("correctness", 1.0 if passed else 0.0, passed, short(reply, 300))


_PROMPT_VALUES = {
    "similarity": {"task_description": "?", "submission_1": "?", "submission_2": "?"},
    "correctness": {"prompt": "?", "expected": "?", "actual": "?"},
}


def check_prompt(metric: EvalMetric, origin: TemplateOrigin) -> None:
    """A `ConfigError` (naming `origin`) when a custom judge prompt reads a name it will not have:
    said before any run, not once per scored answer."""
    prompt = getattr(metric, "prompt", None)
    if isinstance(prompt, str):
        _RENDERER.render(prompt, _PROMPT_VALUES[metric.type], origin=origin)


def _context_recall(metric: ContextRecallMetric, actual: Submission, reference: Submission) -> Score | None:
    """For each reference context, the best similarity (1 - normalised edit distance) to a retrieved
    one; the mean of those. It passes above `threshold` (Oxy's rule)."""
    if not reference.contexts:
        return None
    best = [
        max((levenshtein_similarity(got, want) for got in actual.contexts), default=0.0)
        for want in reference.contexts
    ]
    value = sum(best) / len(best)
    missed = [want for want, b in zip(reference.contexts, best, strict=True) if b <= metric.threshold]
    detail = f"recall {value:.2f} (needs > {metric.threshold:.2f})" + (
        f"; closest miss: {short(missed[0], 300)!r}" if missed else ""
    )
    return Score("context_recall", value, value > metric.threshold, detail)


def levenshtein_similarity(a: str, b: str) -> float:
    """1 - edit distance / the longer length, on text with whitespace, case and a trailing `;`
    normalised (SQL written twice rarely differs only in those), each cut to its first
    `MAX_COMPARED` characters (a model may write any length; the DP is quadratic). Hand-written: one
    small DP, not a dependency."""
    a, b = _normal(a)[:MAX_COMPARED], _normal(b)[:MAX_COMPARED]
    if not a and not b:
        return 1.0
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / len(a)


def _normal(text: str) -> str:
    return " ".join(text.split()).rstrip(";").strip().casefold()


async def _ask(judge: ModelClient, prompt: str) -> str:
    response = await judge.request(
        [UserMessage(content=prompt)], settings=ModelSettings(temperature=0.0, max_tokens=600)
    )
    return response.text.strip()


def _choice(reply: str, scores: dict[str, float]) -> str | None:
    """The choice on the reply's last line: the line itself (`A`), or its last capital letter that
    is a choice (`Answer: A.`)."""
    lines = [line.strip().strip("*`'\". ") for line in reply.splitlines() if line.strip()]
    if not lines:
        return None
    if lines[-1] in scores:
        return lines[-1]
    found = [c for c in _CHOICE.findall(lines[-1]) if c in scores]
    return found[-1] if found else None
