"""The LLM judge: `expected` (Oxy's: is the answer consistent with it?) and `judge:` rubrics."""

from __future__ import annotations

import re

from oxy.models import ModelSettings, SystemMessage, UserMessage
from oxy.models.client import ModelClient

__all__ = ["judge"]

_SYSTEM = (
    "You grade an AI assistant's answer to a question. Ignore wording, formatting and style; judge the "
    "facts only. Reply with PASS or FAIL on the first line, then one short sentence saying why."
)
_VERDICT = re.compile(r"\b(PASS|FAIL)\b")


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
    verdict = _VERDICT.search(text.upper())
    reason = " ".join(text.split())[:300]
    if verdict is None:
        return False, f"the judge said neither PASS nor FAIL: {reason!r}"
    return verdict.group(1) == "PASS", reason
