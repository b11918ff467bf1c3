"""uvicorn's h11 protocol with a deadline for a request's headers (slowloris).

uvicorn closes a kept-alive connection that stays idle, but a connection that has started a request
and sends its headers a byte at a time is kept open forever: a few hundred of them exhaust the
process's file descriptors. Here every request's headers must arrive within `HEADER_TIMEOUT_S` of the
connection opening (or of the previous response), else the connection is closed without a word.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT_ENV", "HeaderTimeoutProtocol"]

HEADER_TIMEOUT_ENV = "OXY_SERVE_HEADER_TIMEOUT_S"
DEFAULT_HEADER_TIMEOUT_S = 10.0


class HeaderTimeoutProtocol(H11Protocol):
    """`H11Protocol`, closing a connection whose request headers do not arrive in time."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap = self.config.limit_concurrency
        if cap is not None and len(self.connections) > cap:
            # Past the cap before a byte is read: uvicorn's own check waits for the headers (and logs each).
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_request():  # the headers are in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this kept-alive connection gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        seconds = float(os.environ.get(HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT_S))
        self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self._in_request():
            self.transport.close()

    def _in_request(self) -> bool:
        cycle: Any = self.cycle  # uvicorn sets it to None between requests, whatever its annotation says
        return cycle is not None and not cycle.response_complete
