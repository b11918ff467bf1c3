"""`consistency_run: N`: ask N times, let a judge model say which answers agree, keep the most agreed-on.

Identical answers (ignoring whitespace and case) agree without asking the judge; each other pair of
distinct answers costs one judge call. An answer's score is the share of the other N-1 answers that
agree with it; the highest score wins, the earliest answer on a tie.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from oxy.events.types import UsageEvent
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, concurrency, fn
from oxy.models import messages as m
from oxy.models.client import ModelClient
from oxy.workflows.outputs import ConsistencyOutput

DEFAULT_JUDGE_PROMPT = """You compare two answers to the same task.

Task:
{{ task_description }}

Answer 1:
{{ submission_1 }}

Answer 2:
{{ submission_2 }}

Do the two answers give the same result (the same facts and numbers, in any wording)?
Reply with one word: yes or no."""


async def most_consistent(
    ctx: ExecutionContext,
    ask: Executable[str, str],
    prompt: str,
    *,
    runs: int,
    judge: ModelClient,
    judge_prompt: str | None = None,
) -> ConsistencyOutput:
    async def one(ctx: ExecutionContext, index: int) -> str:
        return await ask.execute(ctx.child(f"run_{index + 1}"), prompt)

    answers: list[str] = await concurrency(fn(one), runs).execute(ctx, list(range(runs)))
    groups = [_norm(a) for a in answers]
    distinct = list(dict.fromkeys(groups))
    agree: dict[tuple[str, str], bool] = {(g, g): True for g in distinct}
    for a, b in itertools.combinations(distinct, 2):
        same = await _judge(ctx, judge, judge_prompt or DEFAULT_JUDGE_PROMPT, prompt, a, b)
        agree[(a, b)] = agree[(b, a)] = same
    scores = [
        sum(1 for j, other in enumerate(groups) if j != i and agree[(group, other)]) / (runs - 1)
        for i, group in enumerate(groups)
    ]
    best = max(range(runs), key=lambda i: (scores[i], -i))
    return ConsistencyOutput(value=answers[best], score=round(scores[best], 4), answers=tuple(answers))


async def _judge(
    ctx: ExecutionContext, judge: ModelClient, template: str, task: str, first: str, second: str
) -> bool:
    renderer = ctx.runtime.renderer
    text = await renderer.arender(
        template, {"task_description": task, "submission_1": first, "submission_2": second}
    )
    messages: Sequence[m.Message] = [m.UserMessage(content=text)]
    response = await judge.request(messages, settings=m.ModelSettings(temperature=0.0))
    usage = response.usage
    await ctx.emit(
        UsageEvent(
            source=ctx.source,
            model=judge.name,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
        )
    )
    words = response.text.strip().lower().split()
    return bool(words) and words[0].strip(".,!:\"'*") in ("yes", "a", "true", "consistent", "same")


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()
