"""Chat completions over plain httpx: a JSON body out, dicts back, SSE chunks decoded as they come.

Why not the `openai` SDK on this path: importing it costs 0.5–0.9 s of a cold `oxy run` (the whole
budget is 0.65 s), and a streamed answer through it builds a pydantic object per chunk — the largest
cost left in oxy's own loop and in `oxy serve` under load. The wire format is small and stable: POST
JSON, read JSON or `text/event-stream` whose `data:` lines are JSON chunks ending with `[DONE]`.
SSE framing is `httpx-sse`'s (already installed with `mcp`); JSON is the standard library's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from httpx_sse import EventSource

from ._retrying import StreamCut
from .retry import Failure, retry_after, status_failure

__all__ = ["BadAnswer", "HttpStatusError", "RETRYABLE", "http_failure", "open_sse", "post_json"]


class HttpStatusError(Exception):
    """The server answered with an error status (or an `error` object inside a stream)."""

    def __init__(self, status: int | None, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after(headers or {})

    @classmethod
    def of(cls, response: httpx.Response) -> HttpStatusError:
        return cls(response.status_code, _server_message(response.content), response.headers)


class BadAnswer(Exception):
    """The server's answer is not what an OpenAI-compatible server sends (not JSON, say)."""


RETRYABLE: tuple[type[BaseException], ...] = (HttpStatusError, BadAnswer, httpx.RequestError)
"""What `http_failure` reads; anything else is a bug and propagates."""

_JSON = {"content-type": "application/json"}


def _encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def post_json(
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any], *, read_timeout: float | None
) -> dict[str, Any]:
    """POST `body`; return the JSON answer, or raise `HttpStatusError` / `BadAnswer`. The answer comes
    whole, after the model has written all of it: it may take `read_timeout` (the call's deadline)."""
    timeout = client.timeout
    timeout = httpx.Timeout(
        connect=timeout.connect, read=read_timeout, write=timeout.write, pool=timeout.pool
    )
    response = await client.post(url, content=_encode(body), headers=_JSON, timeout=timeout)
    if response.status_code >= 400:
        raise HttpStatusError.of(response)
    try:
        answer = json.loads(response.content)
    except ValueError:
        raise BadAnswer(f"the answer is not JSON: {response.text[:200]!r}") from None
    if not isinstance(answer, dict):
        raise BadAnswer(f"the answer is not a JSON object: {response.text[:200]!r}")
    return cast("dict[str, Any]", answer)


@asynccontextmanager
async def open_sse(
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any]
) -> AsyncGenerator[AsyncIterator[dict[str, Any]], None]:
    """POST `body` for a streamed answer; yield its chunks as dicts. The response closes on exit."""
    async with client.stream("POST", url, content=_encode(body), headers=_JSON) as response:
        if response.status_code >= 400:
            await response.aread()
            raise HttpStatusError.of(response)
        kind = response.headers.get("content-type", "")
        if not kind.startswith("text/event-stream"):
            await response.aread()
            raise BadAnswer(
                f"a streamed request was answered with {kind or 'no content type'}, not text/event-stream: "
                f"{response.text[:200]!r}"
            )
        yield _chunks(EventSource(response))


async def _chunks(source: EventSource) -> AsyncIterator[dict[str, Any]]:
    async for event in source.aiter_sse():
        data = event.data
        if data.startswith("[DONE]"):
            return
        if not data:
            continue
        try:
            chunk = json.loads(data)
        except ValueError:
            raise BadAnswer(f"a streamed chunk is not JSON: {data[:200]!r}") from None
        if not isinstance(chunk, dict):
            raise BadAnswer(f"a streamed chunk is not a JSON object: {data[:200]!r}")
        chunk = cast("dict[str, Any]", chunk)
        if event.event == "error" or chunk.get("error"):
            # vLLM and OpenAI report a failure mid-stream as a chunk holding an `error` object.
            error = chunk.get("error", chunk)
            status = error.get("code") if isinstance(error, dict) else None
            status = status if isinstance(status, int) and 400 <= status < 600 else None
            raise HttpStatusError(status, _message_of(error) or data[:400])
        yield chunk


def http_failure(
    exc: BaseException, *, url: str, model: str, key_var: str | None, timeout: float | None
) -> Failure:
    """Describe one failed attempt (an exception from `RETRYABLE`) for the retry loop."""
    if isinstance(exc, HttpStatusError):
        return status_failure(
            exc.status, exc.message, retry_after=exc.retry_after, url=url, model=model, key_var=key_var
        )
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ConnectTimeout):
            return Failure(
                transient=True,
                detail=f"cannot reach {url} (connect timed out)",
                hint="is the server running?",
            )
        return Failure(transient=True, detail=f"no answer from {url} within {timeout} s")
    if isinstance(exc, httpx.ConnectError):
        return Failure(transient=True, detail=f"cannot reach {url}", hint="is the server running?")
    if isinstance(exc, httpx.TransportError):
        return Failure(transient=True, detail=f"the connection to {url} dropped ({type(exc).__name__})")
    if isinstance(exc, httpx.TooManyRedirects):
        return Failure(transient=False, detail=f"{url} redirects in a loop", hint="check api_url")
    if isinstance(exc, httpx.RequestError):  # an answer that can't be decoded, ...
        return Failure(transient=False, detail=f"the answer from {url} could not be read ({exc})")
    if isinstance(exc, StreamCut):
        return Failure(transient=True, detail="the stream ended before the model finished its turn")
    return Failure(transient=False, detail=str(exc))


def _server_message(content: bytes) -> str:
    """The message in an error body: OpenAI's `{"error": {"message"}}`, vLLM's `{"message"}`, else text."""
    try:
        body = json.loads(content)
    except ValueError:
        return content.decode(errors="replace")[:400]
    if isinstance(body, dict):
        body = cast("dict[str, Any]", body)
        message = _message_of(body.get("error")) or _message_of(body)
        if message:
            return message
    return content.decode(errors="replace")[:400]


def _message_of(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        value = cast("dict[str, Any]", value)
        for key in ("message", "detail"):
            message = value.get(key)
            if isinstance(message, str) and message:
                return message
    return ""
