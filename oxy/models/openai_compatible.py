"""Any OpenAI-compatible chat-completions server: vLLM, OpenAI, Azure, Ollama, llama.cpp's server."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from oxy.config.secrets import redact_url, url_secrets

from ._endpoints import Endpoint, current_loop, limiter_for, openai_client, queued_slot_for
from ._failures import RETRYABLE, openai_failure
from ._retrying import RetryingClient
from .retry import Failure, RetryPolicy

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAICompatibleClient"]


class OpenAICompatibleClient(RetryingClient):
    """Chat completions through a shared `openai.AsyncOpenAI`, with retries and an optional bound on
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
        self._client: AsyncOpenAI | None = None
        self._slot: AbstractAsyncContextManager[Any] | None = None

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient(name={self.name!r}, model={self.model!r}, endpoint={self.endpoint!r})"

    def _openai(self) -> AsyncOpenAI:
        if self._problem is not None:
            raise Failure(transient=False, detail=self._problem).error(
                model=self.name, vendor=self.vendor, attempts=1
            )
        loop = current_loop()
        client = self._client
        if client is None or loop is not self._loop or client.is_closed():
            client = self._client = openai_client(self.endpoint, loop)
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

    # Requests go through the client's own `post` (its transport, retries off, SSE decoding and
    # error types) rather than `client.chat.completions.create`: the first touch of `client.chat`
    # imports openai's whole resource tree (~0.4 s of a cold `oxy run`), and `create` re-validates a
    # body we already built to the wire format.

    async def complete(self, body: dict[str, Any]) -> Any:
        from openai.types.chat import ChatCompletion  # lazy: the openai SDK loads when the client is used

        payload, options = _split_extra_body(body)
        return await self._openai().post(
            "/chat/completions", body=payload, options=options, cast_to=ChatCompletion
        )

    @asynccontextmanager
    async def open_stream(self, body: dict[str, Any]) -> AsyncGenerator[AsyncIterable[Any], None]:
        from openai import AsyncStream  # lazy: the openai SDK loads when the client is used

        # lazy: the openai SDK loads when the client is used
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        payload, options = _split_extra_body(body)
        chunks = await self._openai().post(
            "/chat/completions",
            body=payload,
            options=options,
            cast_to=ChatCompletion,
            stream=True,
            stream_cls=AsyncStream[ChatCompletionChunk],
        )
        async with chunks:
            yield chunks

    def failure(self, exc: BaseException) -> Failure:
        return openai_failure(
            exc,
            url=redact_url(self.endpoint.base_url or "https://api.openai.com/v1"),
            model=self.model,
            key_var=self.key_var,
            timeout=self.endpoint.timeout,
        )

    def secrets(self) -> tuple[str, ...]:
        url = url_secrets(self.endpoint.base_url or "")
        return (self.endpoint.api_key, *(value for _, value in self.endpoint.headers), *url)


def _split_extra_body(body: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """`extra_body` (vLLM's `chat_template_kwargs`, ...) is merged into the JSON, as `create` does."""
    extra = body.get("extra_body")
    if not extra:
        return body, {}
    payload = {k: v for k, v in body.items() if k != "extra_body"}
    return payload, {"extra_json": dict(extra)}
