"""Conversation memory: a thread's history cut to a token budget, and the older turns summarised.

`memory: {window_tokens: N}` keeps the newest whole turns (a user message and everything after it
up to the next one) that fit in about N tokens (four characters a token, plus a few a message);
a turn is never split, so a tool call keeps its result. With `summarize: true` the turns left out
are summarised by a model, and the summary goes into the system message. In a thread the summary
is stored with it (how many messages it covers, too), and the next run only summarises what fell
out of the window since: one model call now and then, not one a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio

from oxy.agents.turn import emit_usage
from oxy.config.agent import MemoryConfig
from oxy.execution.context import ExecutionContext
from oxy.models import messages as m
from oxy.models.client import ModelClient
from oxy.storage import LOCAL_TENANT

__all__ = ["Remembered", "estimate_tokens", "recall_history", "window"]

_SUMMARY_PROMPT = (
    "Summarise this conversation between a user and an assistant for the assistant, who will continue "
    "it without seeing these messages. Keep every fact, number, name, decision and open question; drop "
    "greetings and repetition. Write at most 200 words."
)


def estimate_tokens(message: m.Message) -> int:
    text = message.content
    if isinstance(message, m.AssistantMessage):
        text += "".join(call.name + call.arguments for call in message.tool_calls)
    return len(text) // 4 + 4


def window(history: Sequence[m.Message], budget: int) -> int:
    """Where the kept part of `history` starts: the newest whole turns within `budget` tokens."""
    starts = [i for i, message in enumerate(history) if isinstance(message, m.UserMessage)]
    if not starts or starts[0] != 0:
        starts = [0, *starts]
    used, keep = 0, len(history)
    for start, end in zip(reversed(starts), reversed([*starts[1:], len(history)]), strict=True):
        cost = sum(estimate_tokens(message) for message in history[start:end])
        if used + cost > budget:
            break
        used, keep = used + cost, start
    return keep


@dataclass(frozen=True, slots=True)
class Remembered:
    history: tuple[m.Message, ...]
    """What the model reads of the thread."""
    summary: str | None
    """Of the turns before it, when summarised."""


async def recall_history(
    ctx: ExecutionContext, memory: MemoryConfig, history: Sequence[m.Message], *, model: ModelClient
) -> Remembered:
    """`history` as `memory` lets the model read it (see the module doc)."""
    if memory.window_tokens is None or not history:
        return Remembered(tuple(history), None)
    keep = window(history, memory.window_tokens)
    if keep == 0:
        return Remembered(tuple(history), None)
    if not memory.summarize:
        return Remembered(tuple(history[keep:]), None)
    thread, tenant = ctx.caller.thread_id, ctx.caller.tenant or LOCAL_TENANT  # the CLI's threads are local
    runtime = ctx.runtime
    stored: tuple[str, int] | None = None
    if thread is not None:  # the store opens on first use: off the event loop
        stored = await anyio.to_thread.run_sync(lambda: runtime.store().thread_summary(thread, tenant=tenant))
    summary, upto = stored if stored is not None else (None, 0)
    if summary is not None and keep <= upto <= len(history):  # it covers what fell out (and more)
        return Remembered(tuple(history[upto:]), summary)
    summary, upto = (summary, upto) if summary is not None and upto <= keep else (None, 0)
    summary = await _summarise(ctx, model, summary, history[upto:keep])
    if thread is not None:
        text = summary
        await anyio.to_thread.run_sync(
            lambda: runtime.store().set_thread_summary(thread, text, keep, tenant=tenant)
        )
    return Remembered(tuple(history[keep:]), summary)


async def _summarise(
    ctx: ExecutionContext, model: ModelClient, previous: str | None, messages: Sequence[m.Message]
) -> str:
    lines = [f"Earlier summary: {previous}"] if previous else []
    for message in messages:
        if isinstance(message, m.ToolMessage):
            lines.append(f"tool {message.name or ''}: {message.content[:2000]}")
        elif isinstance(message, m.AssistantMessage) and message.tool_calls:
            calls = "; ".join(f"{c.name}({c.arguments[:500]})" for c in message.tool_calls)
            lines.append(
                f"assistant called {calls}" + (f" and said: {message.content}" if message.content else "")
            )
        else:
            lines.append(f"{message.role}: {message.content}")
    request = [m.SystemMessage(content=_SUMMARY_PROMPT), m.UserMessage(content="\n".join(lines))]
    response = await model.request(request, settings=m.ModelSettings(temperature=0.0, max_tokens=400))
    await emit_usage(ctx, model, response)  # the summary's tokens count with the run's
    return response.text.strip()
