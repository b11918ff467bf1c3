"""The scripted model in-process: a `ModelClient` that answers from a script, no sockets."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Sequence
from contextlib import aclosing

import anyio

from oxy.models.accumulator import ResponseAccumulator
from oxy.models.client import DEFAULT_SETTINGS, ModelClient
from oxy.models.messages import (
    Message,
    ModelDelta,
    ModelResponse,
    ModelSettings,
    ResponseDone,
    ToolDefinition,
)
from oxy.models.retry import TRANSIENT_STATUSES, Failure, RetryPolicy

from ._wire import reply_usage
from .script import Drop, Fail, Reply, Script, ScriptedRequest, Scripter, Turn, split_arguments, split_text

__all__ = ["ScriptedModel"]


class ScriptedModel(ModelClient):
    """Answers each call with the script's next turn.

    `Fail` and `Drop` turns go through the same retry rules as a network client (429, 5xx and drops
    before any output are retried, without waiting by default), so a script can rehearse them.
    """

    def __init__(
        self, script: Script = (), *, name: str = "scripted", retry: RetryPolicy | None = None
    ) -> None:
        self.name = name
        self.retry = retry or RetryPolicy(backoff=0.0)
        self._scripter = Scripter(script)

    def __repr__(self) -> str:
        return f"ScriptedModel(name={self.name!r}, remaining={self.remaining})"

    @property
    def requests(self) -> list[ScriptedRequest]:
        """Every call received, in order (retried attempts included)."""
        return self._scripter.requests

    @property
    def remaining(self) -> int:
        return self._scripter.remaining

    def set_script(self, script: Script) -> None:
        self._scripter.set(script)
        self._scripter.requests.clear()

    def extend(self, turns: Iterable[Turn]) -> None:
        self._scripter.extend(turns)

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> AsyncGenerator[ModelDelta, None]:
        return self._answer(messages, tools, settings, stream=True)

    async def request(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> ModelResponse:
        async with aclosing(self._answer(messages, tools, settings, stream=False)) as deltas:
            async for delta in deltas:
                if isinstance(delta, ResponseDone):
                    return delta.response
        raise AssertionError("unreachable: _answer always ends with ResponseDone")

    async def _answer(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDefinition],
        settings: ModelSettings,
        *,
        stream: bool,
    ) -> AsyncGenerator[ModelDelta, None]:
        attempt = 0
        while True:
            request = ScriptedRequest(
                model=self.name,
                stream=stream,
                messages=tuple(messages),
                tools=tuple(tools),
                settings=settings,
            )
            turn = self._scripter.next(request)
            if turn.delay:
                await anyio.sleep(turn.delay)
            if isinstance(turn, Fail):
                failure = Failure(
                    transient=turn.status in TRANSIENT_STATUSES,
                    status=turn.status,
                    detail=turn.message,
                    retry_after=turn.retry_after,
                )
            else:
                reply = turn.reply if isinstance(turn, Drop) else turn
                acc = ResponseAccumulator()
                steps = _steps(reply)
                limit = turn.after_chunks if isinstance(turn, Drop) else len(steps)
                for i, step in enumerate(steps[:limit]):
                    if i and reply.chunk_delay:
                        await anyio.sleep(reply.chunk_delay)
                    if step is not None:
                        yield _feed(acc, step)
                if not isinstance(turn, Drop):
                    acc.usage = reply_usage(reply, request.prompt_chars)
                    acc.finish_reason = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
                    yield ResponseDone(acc.response())
                    return
                failure = Failure(transient=True, detail="the connection dropped (scripted)")
                if acc.started:
                    raise Failure(
                        transient=False, detail="the stream broke after output had started (scripted drop)"
                    ).error(model=self.name, vendor="scripted", attempts=attempt + 1)
            if not failure.transient or attempt >= self.retry.max_retries:
                raise failure.error(model=self.name, vendor="scripted", attempts=attempt + 1)
            await anyio.sleep(self.retry.delay(attempt, failure.retry_after))
            attempt += 1


_Step = tuple[int, str | None, str | None, str]
"""`(index, id, name, arguments)` of a tool-call piece; index -1 for text, -2 for reasoning."""


def _steps(reply: Reply) -> list[_Step | None]:
    """The reply in the pieces a server's chunks would carry; `None` for the role chunk."""
    steps: list[_Step | None] = [None]
    steps.extend((-2, None, None, piece) for piece in split_text(reply.reasoning))
    steps.extend((-1, None, None, piece) for piece in reply.pieces())
    for index, call in enumerate(reply.tool_calls):
        steps.append((index, call.id, call.name, ""))
        steps.extend((index, None, None, piece) for piece in split_arguments(call.arguments))
    return steps


def _feed(acc: ResponseAccumulator, step: _Step) -> ModelDelta:
    index, id, name, text = step
    if index == -1:
        return acc.text(text)
    if index == -2:
        return acc.reasoning(text)
    return acc.tool_call(index, id, name, text)
