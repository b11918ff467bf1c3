"""The request/stream loop shared by clients that speak OpenAI-shaped chunks over a network:
limit, attempt, classify the failure, back off, and never retry a stream the caller already saw."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import anyio

from ._openai_format import chunk_deltas, request_body, response_from_completion
from .accumulator import ResponseAccumulator
from .client import DEFAULT_SETTINGS, ModelClient
from .messages import Message, ModelDelta, ModelResponse, ModelSettings, ResponseDone, ToolDefinition
from .retry import Failure, RetryPolicy

__all__ = ["RetryingClient", "StreamCut"]

_NO_LIMIT: AbstractAsyncContextManager[Any] = nullcontext()


class StreamCut(Exception):
    """The stream ended before the server said the turn was finished."""


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
        while True:
            try:
                async with self.slot():
                    completion = await self.complete(body)
                return response_from_completion(completion)
            except self.retryable as exc:
                failure = self.failure(exc)
            await self._backoff(failure, attempt)
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
        while True:
            acc = ResponseAccumulator()
            try:
                async with self.slot(), self.open_stream(body) as chunks:
                    async for chunk in chunks:
                        for delta in chunk_deltas(chunk, acc):
                            yield delta
                if acc.finish_reason is None:
                    raise StreamCut
                break
            except (*self.retryable, StreamCut) as exc:
                failure = self.failure(exc)
                if acc.started:
                    raise Failure(
                        transient=False,
                        status=failure.status,
                        detail=f"the stream broke after output had started ({failure.detail})",
                    ).error(model=self.name, vendor=self.vendor, attempts=attempt + 1) from exc
            await self._backoff(failure, attempt)
            attempt += 1
        yield ResponseDone(acc.response())

    async def _backoff(self, failure: Failure, attempt: int) -> None:
        """Sleep before the next attempt, or raise the final `ModelError`."""
        if not failure.transient or attempt >= self.retry.max_retries:
            raise failure.error(
                model=self.name, vendor=self.vendor, attempts=attempt + 1, secrets=self.secrets()
            )
        await anyio.sleep(self.retry.delay(attempt, failure.retry_after))
