"""Server-sent events: a response that notices a client going away even while nothing is sent.

Starlette's `StreamingResponse` only learns of a disconnect when a write fails; a run waiting on a
slow model writes nothing for seconds. `EventStream` listens for `http.disconnect` while it streams
and calls `on_disconnect` at once, so a run whose client left is cancelled within a second.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing

import anyio
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

PING = b": ping\n\n"


def sse_message(data: str, *, event: str | None = None, id: int | None = None) -> bytes:
    """One SSE message; `data` must be one line (JSON is)."""
    head = "" if event is None else f"event: {event}\n"
    if id is not None:
        head += f"id: {id}\n"
    return f"{head}data: {data}\n\n".encode()


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        messages: AsyncGenerator[bytes],
        *,
        headers: Mapping[str, str] | None = None,
        on_disconnect: Callable[[], None] | None = None,
    ) -> None:
        # Not Response.__init__: it would send `content-length: 0` for the empty initial body.
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no", **(headers or {})})
        self._messages = messages
        self._on_disconnect = on_disconnect
        self.disconnected = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as tg:

            async def listen() -> None:
                while True:
                    message: Message = await receive()
                    if message["type"] == "http.disconnect":
                        self._gone()
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(listen)
            try:
                await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
                async with aclosing(self._messages) as messages:
                    async for chunk in messages:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:  # the socket went away under a write
                self._gone()
            tg.cancel_scope.cancel()

    def _gone(self) -> None:
        if not self.disconnected:
            self.disconnected = True
            if self._on_disconnect is not None:
                self._on_disconnect()
