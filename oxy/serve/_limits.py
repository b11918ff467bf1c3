"""Request bounds: a per-key token bucket (shared through the run store), and a cap on request body size."""

from __future__ import annotations

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oxy.serve._errors import error_response
from oxy.storage import AsyncStore


class RateLimiter:
    """A token bucket per API key: `burst` requests at once, refilled at `rate` per second. The buckets
    live in the run store, so every worker and every replica sharing the store draws on the same one."""

    def __init__(self, store: AsyncStore, *, rate: float, burst: int) -> None:
        self.store = store
        self.rate = rate
        self.burst = burst

    async def acquire(self, key: str) -> float:
        """Take a token for `key`: 0.0 if allowed, else the seconds until one is available."""
        return await self.store.take_token(f"rate:{key}", rate=self.rate, burst=self.burst)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the server's limit of {limit} bytes.")


class BodyTooSlow(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            408, f"The request body stopped arriving for {seconds:g} s; send it whole, promptly."
        )


class BodyLimit:
    """Answers 413 to a body over `limit` bytes (by its Content-Length, or as it arrives) and 408 to one
    that pauses longer than `timeout_s` between two pieces (a slowloris body)."""

    def __init__(self, app: ASGIApp, *, limit: int, timeout_s: float = 30.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.limit:
                    too_large = BodyTooLarge(self.limit)
                    await error_response(413, str(too_large.detail))(scope, receive, send)
                    return
        received = 0
        complete = False

        async def limited() -> Message:
            nonlocal received, complete
            if complete:  # past the body, receive() waits for the client to go: no deadline
                return await receive()
            try:
                with anyio.fail_after(self.timeout_s):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow(self.timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited, send)
