"""An endpoint's HTTP clients, in shards of a few connections each, so pool upkeep stays cheap.

httpcore's connection pool re-examines every connection each time a request is queued or released,
and its idle-connection check is quadratic in the pool's size (httpcore 1.0.9,
`AsyncConnectionPool._assign_requests_to_connections`). Measured at 64 concurrent agent runs: once
the pool held 64 connections it spent ~10 ms of CPU per run there (71 runs/s, against 265 when it held
14); a server with 1,000 live streams would spend all its CPU on it. `ShardedClient` hands each
request the client with the fewest requests in flight, opening another client when every shard has
`SHARD` in flight, so each pool stays small and keeps its connections alive.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["SHARD", "ShardedClient"]

SHARD = 16
"""Requests in flight per client (and connections per pool) before another client is opened."""


class _Shard:
    __slots__ = ("client", "in_flight")

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.in_flight = 0


class ShardedClient:
    """The clients of one endpoint, and the URL its chat completions go to."""

    def __init__(
        self,
        factory: Callable[[int], httpx.AsyncClient],
        *,
        chat_url: str,
        headers: dict[str, str],
        params: dict[str, str],
    ) -> None:
        self._factory = factory
        self._shards: list[_Shard] = []
        self._closed = False
        self.chat_url = chat_url
        self.headers = headers
        """What every request carries (the key among them): for tests and status pages."""
        self.params = params

    @property
    def shards(self) -> int:
        return len(self._shards)

    @contextmanager
    def lease(self) -> Generator[httpx.AsyncClient]:
        """A client for one request (streamed: for as long as its stream is read)."""
        best: _Shard | None = None
        for shard in self._shards:
            if best is None or shard.in_flight < best.in_flight:
                best = shard
                if not shard.in_flight:
                    break
        if best is None or best.in_flight >= SHARD:
            best = _Shard(self._factory(SHARD))
            self._shards.append(best)
        best.in_flight += 1
        try:
            yield best.client
        finally:
            best.in_flight -= 1

    def is_closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        self._closed = True
        shards, self._shards = self._shards, []
        for shard in shards:
            await shard.client.aclose()
