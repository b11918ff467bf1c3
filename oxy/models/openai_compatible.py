"""Any OpenAI-compatible chat-completions server: vLLM, OpenAI, Azure, Ollama, llama.cpp's server."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from oxy.config.secrets import redact_url, url_secrets

from ._endpoints import Endpoint, current_loop, http_client, limiter_for, queued_slot_for
from ._openai_format import json_chunk_deltas, response_from_json
from ._retrying import RetryingClient
from ._shards import ShardedClient
from ._wire import RETRYABLE, BadAnswer, http_failure, open_sse, post_json
from .accumulator import ResponseAccumulator
from .messages import ModelDelta, ModelResponse
from .retry import Failure, RetryPolicy

__all__ = ["OpenAICompatibleClient"]


class OpenAICompatibleClient(RetryingClient):
    """Chat completions over a shared pooled HTTP client (`_wire`: no SDK objects), with retries and an optional bound on
    requests in flight shared by every client of the same endpoint and model."""

    retryable = RETRYABLE

    def __init__(
        self,
        *,
        name: str,
        model: str,
        endpoint: Endpoint,
        vendor: str = "openai",
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        max_queue: int | None = None,
        queue_timeout: float | None = None,
        key_var: str | None = None,
        problem: str | None = None,
    ) -> None:
        super().__init__(name=name, vendor=vendor, model=model, retry=retry)
        self.endpoint = endpoint
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.queue_timeout = queue_timeout
        self.key_var = key_var
        self._problem = problem  # a missing key or header variable, raised on first use
        self._loop: object = None
        self._client: ShardedClient | None = None
        self._slot: AbstractAsyncContextManager[Any] | None = None

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient(name={self.name!r}, model={self.model!r}, endpoint={self.endpoint!r})"

    def _wire(self) -> ShardedClient:
        if self._problem is not None:
            raise Failure(transient=False, detail=self._problem).error(
                model=self.name, vendor=self.vendor, attempts=1
            )
        loop = current_loop()
        client = self._client
        if client is None or loop is not self._loop or client.is_closed():
            client = self._client = http_client(self.endpoint, self.model, loop)
            self._loop = loop
        return client

    def slot(self) -> AbstractAsyncContextManager[Any]:
        if self.max_concurrency is None:
            return super().slot()
        if self._slot is None:
            key = (self.endpoint.base_url, self.model)
            if self.max_queue is None and self.queue_timeout is None:
                self._slot = limiter_for(key, self.max_concurrency)
            else:
                self._slot = queued_slot_for(
                    key,
                    self.max_concurrency,
                    model=self.name,
                    max_queue=self.max_queue,
                    queue_timeout=self.queue_timeout,
                )
        return self._slot

    async def complete(self, body: dict[str, Any]) -> Any:
        wire = self._wire()
        with wire.lease() as http:
            # A whole answer arrives when the model has finished it: its read may take the call's
            # deadline (which `request` enforces), not `timeout`, the wait for one read of a stream.
            return await post_json(http, wire.chat_url, _merged(body), read_timeout=self.retry.deadline)

    @asynccontextmanager
    async def open_stream(self, body: dict[str, Any]) -> AsyncGenerator[AsyncIterable[Any], None]:
        wire = self._wire()
        with wire.lease() as http:
            async with open_sse(http, wire.chat_url, _merged(body)) as chunks:
                yield chunks

    def deltas(self, chunk: Any, acc: ResponseAccumulator) -> list[ModelDelta]:
        try:
            return json_chunk_deltas(chunk, acc)
        except (AttributeError, KeyError, TypeError, IndexError, ValueError) as exc:
            raise BadAnswer(
                f"a streamed chunk is not shaped like a chat completion chunk: {str(chunk)[:200]}"
            ) from exc

    def answer(self, completion: Any) -> ModelResponse:
        try:
            return response_from_json(completion)
        except (AttributeError, KeyError, TypeError, IndexError, ValueError) as exc:
            raise BadAnswer(
                f"the answer is not shaped like a chat completion: {str(completion)[:200]}"
            ) from exc

    def failure(self, exc: BaseException) -> Failure:
        return http_failure(
            exc,
            url=redact_url(self.endpoint.base_url or "https://api.openai.com/v1"),
            model=self.model,
            key_var=self.key_var,
            timeout=self.endpoint.timeout,
        )

    def secrets(self) -> tuple[str, ...]:
        url = url_secrets(self.endpoint.base_url or "")
        return (self.endpoint.api_key, *(value for _, value in self.endpoint.headers), *url)


def _merged(body: dict[str, Any]) -> dict[str, Any]:
    """`extra_body` (vLLM's `chat_template_kwargs`, ...) is merged into the JSON, as the SDK's `create` does."""
    extra = body.get("extra_body")
    if not extra:
        return body
    payload = {k: v for k, v in body.items() if k != "extra_body"}
    payload.update(extra)
    return payload
