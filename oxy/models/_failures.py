"""Read an `openai` SDK exception (litellm's subclass them) as a `Failure`."""

from __future__ import annotations

from typing import Any, cast

import httpx
import openai

from ._retrying import StreamCut
from .retry import Failure, retry_after, status_failure

__all__ = ["RETRYABLE", "openai_failure"]

RETRYABLE: tuple[type[BaseException], ...] = (openai.APIError, httpx.TransportError)


def openai_failure(
    exc: BaseException, *, url: str, model: str, key_var: str | None, timeout: float | None
) -> Failure:
    if isinstance(exc, openai.APIStatusError):
        return status_failure(
            exc.status_code,
            _server_message(exc),
            retry_after=retry_after(exc.response.headers),
            url=url,
            model=model,
            key_var=key_var,
        )
    if isinstance(exc, openai.APITimeoutError):
        return Failure(transient=True, detail=f"no answer from {url} within {timeout} s")
    if isinstance(exc, openai.APIConnectionError):
        why = "" if exc.message == "Connection error." else f" ({exc.message})"  # litellm says more
        return Failure(transient=True, detail=f"cannot reach {url}{why}", hint="is the server running?")
    if isinstance(exc, httpx.TransportError):
        return Failure(transient=True, detail=f"the connection to {url} dropped ({type(exc).__name__})")
    if isinstance(exc, StreamCut):
        return Failure(transient=True, detail="the stream ended before the model finished its turn")
    message = exc.message if isinstance(exc, openai.APIError) else str(exc)
    return Failure(transient=False, detail=message)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = cast("dict[str, Any]", body).get("message")
        if isinstance(message, str):
            return message
    try:
        return exc.response.text[:400]
    except httpx.ResponseNotRead:
        return ""
