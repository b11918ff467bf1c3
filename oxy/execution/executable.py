"""`Executable` and the combinators that wrap one executable in another.

`step` runs a nested step with started/finished events, `concurrency(n)` a bounded fan-out (a loop
task's iterations), `retry` runs again after an error (an agent task's `retry:`). Each combinator is a
small class; the lower-case functions build them so call sites read as a pipeline. (`map`, `chain`,
`timeout` and `fallback` had no callers: a workflow's task sequence threads more than outputs through,
and a router's fallback needs the conversation so far, so each was deleted rather than kept unused.)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import anyio

from oxy.errors import OxyError, RunError
from oxy.events.types import StepFinished, StepStarted
from oxy.execution.context import ExecutionContext
from oxy.execution.groups import unwrap_group
from oxy.models.retry import RetryPolicy

InT = TypeVar("InT")
OutT = TypeVar("OutT")


class Executable(ABC, Generic[InT, OutT]):
    """Something that runs: `await exe.execute(ctx, input) -> output`."""

    @abstractmethod
    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT: ...


class FnExecutable(Executable[InT, OutT]):
    """An executable made from an async function `(ctx, input) -> output`."""

    def __init__(self, fn: Callable[[ExecutionContext, InT], Awaitable[OutT]]) -> None:
        self._fn = fn

    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT:
        return await self._fn(ctx, input)


class Concurrency(Executable[Sequence[InT], list[OutT]]):
    """Run `inner` on each item with at most `limit` at once; outputs keep the input order."""

    def __init__(self, inner: Executable[InT, OutT], *, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"concurrency limit must be at least 1, got {limit!r}")
        self._inner = inner
        self._limit = limit

    async def execute(self, ctx: ExecutionContext, input: Sequence[InT]) -> list[OutT]:
        results: list[Any] = [None] * len(input)
        limiter = anyio.CapacityLimiter(self._limit)

        async def one(index: int, item: InT) -> None:
            async with limiter:
                results[index] = await self._inner.execute(ctx, item)

        try:
            async with anyio.create_task_group() as tg:
                for index, item in enumerate(input):
                    tg.start_soon(one, index, item)
        except BaseExceptionGroup as group:  # the first failure cancels the rest; raise it as itself
            raise unwrap_group(group) from None
        return results


class Retry(Executable[InT, OutT]):
    """Run `inner` again after an error in `retry_on`, waiting as `policy` says (the same exponential
    backoff with full jitter that model calls use: one implementation, `RetryPolicy.delay`)."""

    def __init__(
        self,
        inner: Executable[InT, OutT],
        *,
        attempts: int,
        retry_on: tuple[type[BaseException], ...] = (RunError,),
        policy: RetryPolicy | None = None,
    ) -> None:
        self._inner = inner
        self._attempts = max(1, attempts)
        self._retry_on = retry_on
        self._policy = policy or RetryPolicy(backoff=0.2, max_delay=5.0)

    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT:
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._inner.execute(ctx, input)
            except self._retry_on:
                if attempt == self._attempts:
                    raise
                await anyio.sleep(self._policy.delay(attempt - 1))
        raise AssertionError("unreachable: the loop returns or raises")


class Step(Executable[InT, OutT]):
    """Run `inner` as a named step: a child context, and step started/finished events around it."""

    def __init__(self, inner: Executable[InT, OutT], *, name: str, step_type: str) -> None:
        self._inner = inner
        self._name = name
        self._step_type = step_type

    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT:
        child = ctx.child(self._name)
        await child.emit(StepStarted(source=child.source, name=self._name, step_type=self._step_type))
        try:
            output = await self._inner.execute(child, input)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await child.emit(StepFinished(source=child.source, name=self._name, status="cancelled"))
            raise
        except OxyError as exc:
            await child.emit(
                StepFinished(source=child.source, name=self._name, status="error", error=str(exc))
            )
            raise
        await child.emit(StepFinished(source=child.source, name=self._name, status="ok", output=output))
        return output


def fn(f: Callable[[ExecutionContext, InT], Awaitable[OutT]]) -> Executable[InT, OutT]:
    return FnExecutable(f)


def concurrency(inner: Executable[InT, OutT], limit: int) -> Executable[Sequence[InT], list[OutT]]:
    return Concurrency(inner, limit=limit)


def retry(
    inner: Executable[InT, OutT], *, attempts: int, retry_on: tuple[type[BaseException], ...] = (RunError,)
) -> Executable[InT, OutT]:
    return Retry(inner, attempts=attempts, retry_on=retry_on)


def step(inner: Executable[InT, OutT], *, name: str, step_type: str) -> Executable[InT, OutT]:
    return Step(inner, name=name, step_type=step_type)
