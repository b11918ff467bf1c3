"""Who is asking: API keys checked on every protected request, each key's tenant, its rate limit.

With no key ever created the server is in local mode: every request is the `local` tenant (and
`oxy serve` binds only to loopback unless `--insecure`), and only requests naming a loopback host
(`localhost`, `127.0.0.1`, `[::1]`, or one given with `--allowed-host`) are answered: a web page
whose name an attacker rebinds to 127.0.0.1 sends its own name in `Host:` and gets 403 (DNS rebinding). Once a key exists, every route but
`/health` and the static chat page needs `Authorization: Bearer <key>`, even after every key is
revoked (revoking the last key locks the server rather than opening it). Lookups are cached for
`ttl_s` seconds, so a revoked key stops working within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from oxy.errors import OxyError
from oxy.serve._errors import error_response
from oxy.serve._limits import RateLimiter
from oxy.storage import LOCAL_TENANT, KeyStore

PROTECTED_PREFIXES = ("/api/", "/v1/", "/mcp", "/ready", "/openapi.json", "/docs", "/redoc")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    tenant: str
    key_id: str | None = None


LOCAL = Principal(tenant=LOCAL_TENANT)


class Authenticator:
    def __init__(self, keys: KeyStore, *, ttl_s: float = 5.0) -> None:
        self._keys = keys
        self._ttl_s = ttl_s
        self._required: tuple[float, bool] = (-1.0, False)
        self._tokens: dict[str, tuple[float, Principal | None]] = {}

    async def required(self) -> bool:
        checked, required = self._required
        if time.monotonic() - checked > self._ttl_s:
            required = await anyio.to_thread.run_sync(self._keys.configured)
            self._required = (time.monotonic(), required)
        return required

    async def principal(self, token: str) -> Principal | None:
        cached = self._tokens.get(token)
        if cached is not None and time.monotonic() - cached[0] <= self._ttl_s:
            return cached[1]
        key = await anyio.to_thread.run_sync(partial(self._keys.verify, token))
        principal = None if key is None else Principal(tenant=key.tenant, key_id=key.id)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[token] = (time.monotonic(), principal)
        return principal


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _host(scope: Scope) -> str:
    """The host name the request was sent to (`Host:` without its port), lower case."""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):  # [::1]:3000
                end = host.find("]")
                rest = host[end + 1 :] if end > 0 else "?"
                return host[1:end] if rest == "" or (rest.startswith(":") and rest[1:].isdigit()) else host
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    server = scope.get("server")
    return str(server[0]).lower() if server else ""


class AuthGuard:
    """Sets `scope["state"]["principal"]`; answers 401 and 429 itself, as JSON."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        guards: Callable[[], tuple[Authenticator, RateLimiter]],
        allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self._guards = guards
        self._hosts = LOOPBACK_HOSTS | {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        principal = LOCAL
        auth, limiter = self._guards()
        required = await auth.required()
        if not required:
            host = _host(scope)
            if host not in self._hosts and not host.endswith(".localhost"):
                message = (
                    f"Host {host!r} is not allowed: with no API keys, oxy serve answers only requests for "
                    "localhost, 127.0.0.1 or [::1]; pass --allowed-host NAME to serve another name, or "
                    "create an API key (oxy keys create)."
                )
                await error_response(403, message)(scope, receive, send)
                return
        if path.startswith(PROTECTED_PREFIXES) and required:
            token = _bearer(scope)
            found = None if token is None else await auth.principal(token)
            if found is None:
                message = (
                    "This server needs an API key: send `Authorization: Bearer <key>`."
                    if token is None
                    else "The API key is not valid (unknown or revoked)."
                )
                headers = {"WWW-Authenticate": "Bearer"}
                await error_response(401, message, headers=headers)(scope, receive, send)
                return
            principal = found
            try:
                wait = await limiter.acquire(found.key_id or found.tenant)
            except OxyError as exc:  # the run store, which keeps the buckets, is away
                message = (
                    f"The server cannot check this key's rate limit just now ({exc}); try again shortly."
                )
                await error_response(503, message, headers={"Retry-After": "1"})(scope, receive, send)
                return
            if wait > 0:
                retry = str(max(1, int(wait + 0.999)))
                message = (
                    f"Too many requests for this API key (limit {limiter.rate:g}/s, "
                    f"burst {limiter.burst}); retry after {retry} s."
                )
                await error_response(429, message, headers={"Retry-After": retry})(scope, receive, send)
                return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
