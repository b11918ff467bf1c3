"""The request/stream loop shared by clients that speak OpenAI-shaped chunks over a network:
limit, attempt, classify the failure, back off, and never retry a stream the caller already saw."""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, Generator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, contextmanager, nullcontext
from typing import Any

import anyio

from ._openai_format import chunk_deltas, request_body, response_from_completion
from .accumulator import ResponseAccumulator
from .client import DEFAULT_SETTINGS, ModelClient
from .messages import Message, ModelDelta, ModelResponse, ModelSettings, ResponseDone, ToolDefinition
from .retry import Failure, RetryPolicy

__all__ = ["RetryingClient", "Silence", "StreamCut"]

_NO_LIMIT: AbstractAsyncContextManager[Any] = nullcontext()


class StreamCut(Exception):
    """The stream ended before the server said the turn was finished."""


class Silence(Exception):
    """The server said nothing for longer than a timeout allows (it may be stuck, or overloaded)."""


class RetryingClient(ModelClient):
    """Subclasses say how to send one attempt and how to read its failure; this runs the loop."""

    vendor: str
    model: str
    retry: RetryPolicy
    retryable: tuple[type[BaseException], ...] = ()
    """Exceptions `failure()` knows how to read; anything else propagates untouched."""

    def __init__(self, *, name: str, vendor: str, model: str, retry: RetryPolicy | None) -> None:
        self.name = name
        self.vendor = vendor
        self.model = model
        self.retry = retry or RetryPolicy()

    @abstractmethod
    async def complete(self, body: dict[str, Any]) -> Any:
        """Send one non-streamed attempt; return an OpenAI-shaped completion."""

    @abstractmethod
    def open_stream(self, body: dict[str, Any]) -> AbstractAsyncContextManager[AsyncIterable[Any]]:
        """Send one streamed attempt; the context yields OpenAI-shaped chunks and closes the response."""

    @abstractmethod
    def failure(self, exc: BaseException) -> Failure:
        """Describe an exception from `retryable` (or a `StreamCut`)."""

    def deltas(self, chunk: Any, acc: ResponseAccumulator) -> list[ModelDelta]:
        """Read one streamed chunk (an OpenAI-shaped object; `_wire` clients read dicts)."""
        return chunk_deltas(chunk, acc)

    def answer(self, completion: Any) -> ModelResponse:
        """Read one whole completion (an OpenAI-shaped object; `_wire` clients read dicts)."""
        return response_from_completion(completion)

    def slot(self) -> AbstractAsyncContextManager[Any]:
        """Held around each attempt: a shared limiter when the model sets `max_concurrency`."""
        return _NO_LIMIT

    def secrets(self) -> tuple[str, ...]:
        """Strings to blank out of error messages."""
        return ()

    def body(
        self, messages: Sequence[Message], tools: Sequence[ToolDefinition], settings: ModelSettings
    ) -> dict[str, Any]:
        body = request_body(self.model, messages, tools, settings)
        if settings.extra_body:
            body["extra_body"] = settings.extra_body
        return body

    async def request(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> ModelResponse:
        body = self.body(messages, tools, settings)
        attempt = 0
        deadline = _Deadline(self.retry.deadline)
        while True:
            try:
                async with self.slot():
                    with deadline.scope(None, what="a whole answer"):
                        completion = await self.complete(body)
                return self.answer(completion)
            except (*self.retryable, Silence) as exc:
                failure = self._failure(exc)
            await self._backoff(failure, attempt, deadline)
            attempt += 1

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> AsyncGenerator[ModelDelta, None]:
        body = self.body(messages, tools, settings)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        attempt = 0
        deadline = _Deadline(self.retry.deadline)
        first, between = self.retry.first_token_timeout, self.retry.chunk_timeout
        while True:
            acc = ResponseAccumulator()
            try:
                async with self.slot(), AsyncExitStack() as stack:
                    # Each wait is bounded on its own (no cancel scope spans a `yield`): the answer's
                    # start, then every pause between chunks, and the whole call by the deadline.
                    with deadline.scope(first, what="the first token"):
                        chunks = aiter(await stack.enter_async_context(self.open_stream(body)))
                    started = False
                    while True:
                        with deadline.scope(between if started else first, what=_waited(started)):
                            try:
                                chunk = await anext(chunks)
                            except StopAsyncIteration:
                                break
                        started = True
                        for delta in self.deltas(chunk, acc):
                            yield delta
                if acc.finish_reason is None:
                    raise StreamCut
                break
            except (*self.retryable, StreamCut, Silence) as exc:
                failure = self._failure(exc)
                if acc.started:
                    raise Failure(
                        transient=False,
                        status=failure.status,
                        detail=f"the stream broke after output had started ({failure.detail})",
                    ).error(model=self.name, vendor=self.vendor, attempts=attempt + 1) from exc
            await self._backoff(failure, attempt, deadline)
            attempt += 1
        yield ResponseDone(acc.response())

    def _failure(self, exc: BaseException) -> Failure:
        if isinstance(exc, Silence):
            return Failure(transient=True, detail=str(exc), hint="is the server overloaded or stuck?")
        return self.failure(exc)

    async def _backoff(self, failure: Failure, attempt: int, deadline: _Deadline) -> None:
        """Sleep before the next attempt, or raise the final `ModelError` (no retries left, or no time)."""
        delay = self.retry.delay(attempt, failure.retry_after)
        left = deadline.left()
        out_of_time = left is not None and left <= delay
        if not failure.transient or attempt >= self.retry.max_retries or out_of_time:
            if out_of_time and failure.transient and "deadline" not in failure.detail:
                failure = dataclasses.replace(
                    failure, detail=f"{failure.detail}; gave up at the {deadline.seconds:g} s deadline"
                )
            raise failure.error(
                model=self.name, vendor=self.vendor, attempts=attempt + 1, secrets=self.secrets()
            )
        await anyio.sleep(delay)


def _waited(started: bool) -> str:
    return "the next chunk" if started else "the first token"


class _Deadline:
    """One model call's time budget: each wait is bounded by its own timeout and by what is left."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else anyio.current_time() + seconds

    def left(self) -> float | None:
        return None if self._end is None else self._end - anyio.current_time()

    @contextmanager
    def scope(self, timeout: float | None, *, what: str) -> Generator[None]:
        """Raise `Silence` when nothing comes within `timeout` (or before the deadline)."""
        left = self.left()
        limit = timeout if left is None else left if timeout is None else min(timeout, left)
        if limit is None:
            yield
            return
        by_deadline = timeout is None or (left is not None and left < timeout)
        try:
            with anyio.fail_after(max(limit, 0.0)):
                yield
        except TimeoutError:
            if by_deadline:
                raise Silence(f"no complete answer within the {self.seconds:g} s deadline") from None
            raise Silence(f"waited {limit:g} s for {what} without a word from the server") from None
