"""Which failures are worth another try, and how long to wait before it."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

from oxy.errors import ModelError

__all__ = ["Failure", "RetryPolicy", "retry_after", "status_failure"]

TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt `n` waits a random time in `[0, min(cap, base·2ⁿ)]`."""

    max_retries: int = 3
    backoff: float = 0.5
    max_delay: float = 8.0
    first_token_timeout: float | None = None
    """Seconds a streamed answer may take to start; `None` waits as long as the transport does."""
    chunk_timeout: float | None = None
    """Seconds a streamed answer may pause between chunks."""
    deadline: float | None = None
    """Seconds one call may take in all, every attempt and back-off included."""

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1`; a server's `Retry-After` wins if smaller than the cap."""
        if retry_after is not None and 0 <= retry_after <= self.max_delay:
            return retry_after
        ceiling = min(self.max_delay, self.backoff * (2**attempt))
        return random.uniform(0, ceiling)


@dataclass(frozen=True, kw_only=True, slots=True)
class Failure:
    """One failed attempt, described for the retry loop and the final error."""

    transient: bool
    status: int | None = None
    detail: str = ""
    retry_after: float | None = None
    hint: str = ""

    def error(self, *, model: str, vendor: str, attempts: int, secrets: tuple[str, ...] = ()) -> ModelError:
        """The `ModelError` to raise when this failure is final."""
        parts = [f"Model {model!r} ({vendor}): "]
        if self.status is not None:
            try:
                phrase = HTTPStatus(self.status).phrase
            except ValueError:
                phrase = ""
            parts.append(f"HTTP {self.status} {phrase}".rstrip())
        else:
            parts.append("request failed")
        if attempts > 1:
            parts.append(f" after {attempts} attempts")
        detail = self.detail
        for secret in secrets:
            if secret and len(secret) >= 4:
                detail = detail.replace(secret, "***")
        if detail:
            parts.append(f": {detail[:400]}")
        if self.hint:
            parts.append(f" — {self.hint}")
        return ModelError("".join(parts), model=model, status=self.status)


def status_failure(
    status: int | None,
    detail: str,
    *,
    retry_after: float | None,
    url: str,
    model: str,
    key_var: str | None,
) -> Failure:
    """An error status from the server: transient or not by its code, with a hint for the usual fixes."""
    hint = ""
    if status in (401, 403):
        hint = f"check {key_var}" if key_var else "check the API key"
    elif status == 404:
        hint = f"check model_ref {model!r} and api_url {url!r}"
    return Failure(
        transient=status in TRANSIENT_STATUSES,
        status=status,
        detail=detail,
        retry_after=retry_after,
        hint=hint,
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait (`retry-after-ms`, else `retry-after` in seconds)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) * scale
            except ValueError:
                return None
    return None
