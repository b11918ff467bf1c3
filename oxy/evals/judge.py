"""The LLM judge: `expected` (Oxy's: is the answer consistent with it?) and `judge:` rubrics."""

from __future__ import annotations

import re

from oxy.evals._text import short
from oxy.models import ModelSettings, SystemMessage, UserMessage
from oxy.models.client import ModelClient

__all__ = ["judge", "verdict"]

_SYSTEM = (
    "You grade an AI assistant's answer to a question. Ignore wording, formatting and style; judge the "
    "facts only. Reply with PASS or FAIL on the first line, then one short sentence saying why."
)
_LABELLED = re.compile(r"verdict\W{0,4}(PASS|FAIL)\b", re.IGNORECASE)
_LEADING = re.compile(r"^\W*(PASS|FAIL)\b")
_TRAILING = re.compile(r"\b(PASS|FAIL)\W*$")


async def judge(
    model: ModelClient, *, question: str, answer: str, expected: str | None = None, rubric: str | None = None
) -> tuple[bool, str]:
    """`(passed, the judge's reason)`. A reply that says neither PASS nor FAIL is a failure."""
    if expected is not None:
        task = f"Expected answer: {expected}\n\nIs the assistant's answer factually consistent with the expected answer?"
    else:
        task = f"Rubric: {rubric}\n\nDoes the assistant's answer meet the rubric?"
    prompt = f"Question: {question}\n\nAssistant's answer: {answer}\n\n{task}"
    response = await model.request(
        [SystemMessage(content=_SYSTEM), UserMessage(content=prompt)],
        settings=ModelSettings(temperature=0.0, max_tokens=200),
    )
    text = response.text.strip()
    found = verdict(text)
    reason = short(text, 300)
    if found is None:
        return False, f"the judge said neither PASS nor FAIL: {reason!r}"
    return found, reason


def verdict(text: str) -> bool | None:
    """A judge's PASS (True) or FAIL (False): the last `Verdict: ...`, else PASS or FAIL opening the
    reply's first line or closing its last; None when there is none (a reply cut short, say). Words
    in the reasoning ("it would fail to ...") do not count."""
    labelled = _LABELLED.findall(text)
    if labelled:
        return labelled[-1].upper() == "PASS"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for match in (
        _LEADING.search(lines[0]) if lines else None,
        _TRAILING.search(lines[-1]) if lines else None,
    ):
        if match is not None:
            return match.group(1) == "PASS"
    return None
