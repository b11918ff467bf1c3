"""`Executable` and the builder combinators that wrap one executable in another.

An agent is `map(render instructions) → react(model, tools)`; a workflow is a `chain` of task
executables; a loop is `concurrency(n)` over a task. Each combinator is a small class; the
lower-case functions build them so call sites read as a pipeline.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import anyio

from oxy.errors import LimitExceeded, OxyError, RunError
from oxy.events.types import StepFinished, StepStarted
from oxy.execution.context import ExecutionContext
from oxy.execution.groups import unwrap_group

InT = TypeVar("InT")
OutT = TypeVar("OutT")
T = TypeVar("T")


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


class Map(Executable[InT, OutT], Generic[InT, T, OutT]):
    """Transform the input (and optionally derive the context), then run `inner`."""

    def __init__(
        self,
        fn: Callable[[ExecutionContext, InT], Awaitable[tuple[ExecutionContext, T]]],
        inner: Executable[T, OutT],
    ) -> None:
        self._fn = fn
        self._inner = inner

    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT:
        child_ctx, mapped = await self._fn(ctx, input)
        return await self._inner.execute(child_ctx, mapped)


class Chain(Executable[dict[str, Any], dict[str, Any]]):
    """Run named steps in order; each sees the earlier outputs by name in its template variables.

    The input is the initial variables; the output maps each step's name to its output.
    """

    def __init__(self, steps: Sequence[tuple[str, Executable[dict[str, Any], Any]]]) -> None:
        self._steps = tuple(steps)

    async def execute(self, ctx: ExecutionContext, input: dict[str, Any]) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for name, step in self._steps:
            step_ctx = ctx.with_variables(outputs)
            outputs[name] = await step.execute(step_ctx, {**input, **outputs})
        return outputs


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
    """Run `inner` again after an error in `retry_on`, with exponential backoff and full jitter."""

    def __init__(
        self,
        inner: Executable[InT, OutT],
        *,
        attempts: int,
        retry_on: tuple[type[BaseException], ...] = (RunError,),
        base_delay: float = 0.2,
        max_delay: float = 5.0,
    ) -> None:
        self._inner = inner
        self._attempts = max(1, attempts)
        self._retry_on = retry_on
        self._base_delay = base_delay
        self._max_delay = max_delay

    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT:
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._inner.execute(ctx, input)
            except self._retry_on:
                if attempt == self._attempts:
                    raise
                cap = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
                await anyio.sleep(random.uniform(0, cap))
        raise AssertionError("unreachable: the loop returns or raises")


class Timeout(Executable[InT, OutT]):
    """Fail with `LimitExceeded` when `inner` takes longer than `seconds`."""

    def __init__(self, inner: Executable[InT, OutT], *, seconds: float, what: str = "step") -> None:
        self._inner = inner
        self._seconds = seconds
        self._what = what

    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT:
        try:
            with anyio.fail_after(self._seconds):
                return await self._inner.execute(ctx, input)
        except TimeoutError:
            raise LimitExceeded(f"{self._what} timed out after {self._seconds:g} s") from None


class Fallback(Executable[InT, OutT]):
    """Run `primary`; when it fails with one of `on`, run `secondary` on the same input."""

    def __init__(
        self,
        primary: Executable[InT, OutT],
        secondary: Executable[InT, OutT],
        *,
        on: tuple[type[BaseException], ...] = (OxyError,),
    ) -> None:
        self._primary = primary
        self._secondary = secondary
        self._on = on

    async def execute(self, ctx: ExecutionContext, input: InT) -> OutT:
        try:
            return await self._primary.execute(ctx, input)
        except self._on:
            return await self._secondary.execute(ctx, input)


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


def map_input(
    f: Callable[[ExecutionContext, InT], Awaitable[tuple[ExecutionContext, T]]], inner: Executable[T, OutT]
) -> Executable[InT, OutT]:
    return Map(f, inner)


def chain(steps: Sequence[tuple[str, Executable[dict[str, Any], Any]]]) -> Chain:
    return Chain(steps)


def concurrency(inner: Executable[InT, OutT], limit: int) -> Executable[Sequence[InT], list[OutT]]:
    return Concurrency(inner, limit=limit)


def retry(
    inner: Executable[InT, OutT], *, attempts: int, retry_on: tuple[type[BaseException], ...] = (RunError,)
) -> Executable[InT, OutT]:
    return Retry(inner, attempts=attempts, retry_on=retry_on)


def timeout(inner: Executable[InT, OutT], seconds: float, *, what: str = "step") -> Executable[InT, OutT]:
    return Timeout(inner, seconds=seconds, what=what)


def fallback(primary: Executable[InT, OutT], secondary: Executable[InT, OutT]) -> Executable[InT, OutT]:
    return Fallback(primary, secondary)


def step(inner: Executable[InT, OutT], *, name: str, step_type: str) -> Executable[InT, OutT]:
    return Step(inner, name=name, step_type=step_type)
