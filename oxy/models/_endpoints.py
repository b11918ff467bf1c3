"""One pooled HTTP client per endpoint and event loop, and one concurrency limiter per endpoint.

A client's connection pool is what makes keep-alive work, so clients are shared by every run in the
process. An httpx pool belongs to the event loop that opened
its connections, hence one client per loop (tests start a loop per test; a server has one).
`aclose_clients()` closes the current loop's clients; call it before that loop ends.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

import anyio

from oxy.errors import ModelBusy

from ._shards import ShardedClient

__all__ = [
    "Endpoint",
    "QueuedSlot",
    "aclose_clients",
    "limiter_for",
    "limiter_for_existing",
    "http_client",
    "keep_client",
    "queued_slot_for",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Endpoint:
    """Everything that tells one HTTP client from another. The key never shows in `repr`."""

    base_url: str | None
    api_key: str = field(repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    timeout: float | None = None
    connect_timeout: float | None = None
    azure_api_version: str | None = None
    azure_deployment: str | None = None


class _NoLoop:
    """Stands in for the event loop outside asyncio (e.g. trio)."""


_NO_LOOP = _NoLoop()
_clients: WeakKeyDictionary[object, dict[tuple[Endpoint, str | None], ShardedClient]] = WeakKeyDictionary()
_limiters: dict[object, anyio.CapacityLimiter] = {}
_others: WeakKeyDictionary[object, list[Any]] = WeakKeyDictionary()


def current_loop() -> object:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return _NO_LOOP


_OPENAI_URL = "https://api.openai.com/v1"


def _build(endpoint: Endpoint, model: str) -> ShardedClient:
    import httpx  # lazy: loaded when a client first connects

    from oxy._version import __version__

    headers = {"user-agent": f"oxy/{__version__}", "accept": "application/json"}
    params: dict[str, str] = {}
    if endpoint.azure_api_version is not None:
        root = (endpoint.base_url or "").rstrip("/")
        # As the openai SDK does: without a deployment id, the model name is the deployment.
        url = f"{root}/openai/deployments/{endpoint.azure_deployment or model}/chat/completions"
        params["api-version"] = endpoint.azure_api_version
        headers["api-key"] = endpoint.api_key
    else:
        root = (endpoint.base_url or os.environ.get("OPENAI_BASE_URL") or _OPENAI_URL).rstrip("/")
        url = f"{root}/chat/completions"
        headers["authorization"] = f"Bearer {endpoint.api_key}"
        if endpoint.base_url is None:  # OpenAI itself: the SDK's organization and project variables
            for variable, header in (
                ("OPENAI_ORG_ID", "openai-organization"),
                ("OPENAI_PROJECT_ID", "openai-project"),
            ):
                if value := os.environ.get(variable):
                    headers[header] = value
    headers.update((name.lower(), value) for name, value in endpoint.headers)
    connect = endpoint.connect_timeout if endpoint.connect_timeout is not None else endpoint.timeout
    timeout = httpx.Timeout(endpoint.timeout, connect=connect)
    tls: list[ssl.SSLContext] = []  # one for every shard: loading the CA bundle costs ~20 ms

    def client(connections: int) -> httpx.AsyncClient:
        if not tls:
            tls.append(httpx.create_ssl_context())
        return httpx.AsyncClient(
            verify=tls[0],
            headers=headers,
            params=params,
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            follow_redirects=True,
            trust_env=True,
        )

    return ShardedClient(client, chat_url=url, headers=headers, params=params)


def http_client(endpoint: Endpoint, model: str, loop: object) -> ShardedClient:
    """The shared client for `endpoint` (and, on Azure, `model`'s deployment) on `loop`
    (from `current_loop()`), built on first use."""
    clients = _clients.get(loop)
    if clients is None:
        clients = _clients[loop] = {}
    key = (endpoint, model if endpoint.azure_api_version is not None else None)
    client = clients.get(key)
    if client is None:
        client = clients[key] = _build(endpoint, model)
    return client


async def aclose_clients() -> None:
    """Close the current event loop's shared HTTP clients (their kept-alive connections)."""
    loop = current_loop()
    clients = _clients.pop(loop, {})
    for client in clients.values():
        await client.aclose()
    for other in _others.pop(loop, []):
        await other.aclose()


def keep_client(client: Any) -> None:
    """Close `client` (an `httpx.AsyncClient` of another kind: embeddings) with the loop's others."""
    _others.setdefault(current_loop(), []).append(client)


def limiter_for(key: object, total: int) -> anyio.CapacityLimiter:
    """The process-wide limiter for one endpoint; when configs disagree, the smallest bound wins."""
    limiter = _limiters.get(key)
    if limiter is None:
        limiter = _limiters[key] = anyio.CapacityLimiter(total)
    elif total < limiter.total_tokens:
        limiter.total_tokens = total
    return limiter


def limiter_for_existing(key: object) -> anyio.CapacityLimiter | None:
    """The limiter for `key` if a request made one (for status pages), else None."""
    return _limiters.get(key)


class QueuedSlot:
    """One endpoint's `max_concurrency` slots, with backpressure: at most `max_queue` requests wait for a
    slot, each at most `queue_timeout` seconds; past either, `ModelBusy` at once rather than a pile-up on
    a saturated server. Shared by every client of the endpoint in the process, like its limiter."""

    def __init__(
        self,
        limiter: anyio.CapacityLimiter,
        *,
        model: str,
        max_queue: int | None,
        queue_timeout: float | None,
    ) -> None:
        self.limiter = limiter
        self.model = model
        self.max_queue = max_queue
        self.queue_timeout = queue_timeout
        self.waiting = 0

    async def __aenter__(self) -> None:
        limiter = self.limiter
        if limiter.available_tokens > 0 and self.waiting == 0:
            await limiter.acquire()
            return
        if self.max_queue is not None and self.waiting >= self.max_queue:
            raise ModelBusy(
                f"model {self.model!r} is busy: {int(limiter.borrowed_tokens)} requests running "
                f"(max_concurrency) and {self.waiting} waiting (max_queue {self.max_queue}); try again shortly",
                model=self.model,
                status=429,
            )
        self.waiting += 1
        try:
            with anyio.fail_after(self.queue_timeout):
                await limiter.acquire()
        except TimeoutError:
            raise ModelBusy(
                f"model {self.model!r} is busy: no free slot within {self.queue_timeout:g} s (queue_timeout); "
                "try again shortly",
                model=self.model,
                status=429,
            ) from None
        finally:
            self.waiting -= 1

    async def __aexit__(self, *exc: object) -> None:
        self.limiter.release()


_slots: dict[object, QueuedSlot] = {}


def queued_slot_for(
    key: object, total: int, *, model: str, max_queue: int | None, queue_timeout: float | None
) -> QueuedSlot:
    """The process-wide queued slot for one endpoint (over its `limiter_for` limiter)."""
    slot = _slots.get(key)
    if slot is None:
        slot = _slots[key] = QueuedSlot(
            limiter_for(key, total), model=model, max_queue=max_queue, queue_timeout=queue_timeout
        )
    return slot
