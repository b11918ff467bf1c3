"""`McpConnection`: one MCP server, kept connected while the connection is entered.

A task of the connection's own opens the session, keeps it and closes it (anyio needs a session's task
group entered and left in one task; opening in one run and closing in another is the "cancel scope in a
different task" error other clients hit). Runs only send requests through it. When the server goes away
(a stdio process exits, an HTTP session expires), the task starts it again with backoff, and the next call
waits for it; a call in flight when it went fails with a clear error. The tool list is fetched once per
session and again after the server says it changed (`notifications/tools/list_changed`).
"""

from __future__ import annotations

import logging
import math
import random
import shlex
from collections.abc import AsyncGenerator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any, Self, TextIO

import anyio
import anyio.abc
import mcp_types as types
from mcp import Client
from mcp.client._transport import TransportStreams
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, INVALID_REQUEST, REQUEST_TIMEOUT

from oxy._version import __version__
from oxy.errors import ServerUnavailable, ToolError
from oxy.tools.mcp_client._spec import ServerSpec

__all__ = ["McpConnection"]

log = logging.getLogger("oxy.mcp")

_PAGES = 100
"""At most this many pages of `tools/list` (a server whose cursor never ends cannot hang a run)."""
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 5.0
_RESTARTS_BEFORE_PAUSE = 8
"""After this many failed restarts in a row, wait until a run asks for the server again."""
_STABLE_S = 10.0
"""A session that lasted less than this counts as a failed start for the backoff."""
_LOG_KEEP = 1_000_000
"""A stdio server's log is emptied when it grows past this many bytes."""


class McpConnection:
    """One server for as long as the connection is entered (`async with`); share it between runs."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self._client: Client | None = None
        self._changed = anyio.Event()
        """Set (and replaced) whenever the state moves: connected, an attempt failed, a session lost."""
        self._lost = anyio.Event()
        self._wake = anyio.Event()
        self._closing = False
        self._failure: str | None = None
        self._attempts = 0
        """Connection attempts finished (each either connected or failed)."""
        self._tools: list[types.Tool] | None = None
        self._tools_version = 0
        """Bumped by each `tools/list_changed`: a listing that raced one is not kept."""
        self._list_lock = anyio.Lock()
        self._limiter = anyio.CapacityLimiter(spec.max_concurrency) if spec.max_concurrency else None
        self._group: anyio.abc.TaskGroup | None = None
        self.starts = 0
        """How many sessions were opened (1 + restarts)."""

    # -- lifetime -----------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        group = anyio.create_task_group()
        await group.__aenter__()
        try:
            await group.start(self._supervise)
        except BaseException:
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)  # the supervisor has ended: nothing left to raise
            raise
        self._group = group
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing = True
        self._client = None
        self._notify()
        group, self._group = self._group, None
        if group is not None:
            # Cancelled wherever it is (connecting, backing off, holding a session): the SDK shields
            # stopping a stdio server, so its process is still stopped.
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)

    def _notify(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def _supervise(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """Open a session, hold it until it is lost, open another; the first failure is the caller's.
        A session that did not last `_STABLE_S` counts as a failure, so a server that dies right after
        its handshake backs off like one that cannot start."""
        failures = 0
        while not self._closing:
            opened = anyio.current_time()
            try:
                await self._session(on_ready=task_status.started if self.starts == 0 else None)
                stable = anyio.current_time() - opened >= _STABLE_S
                failures = 0 if stable else failures + 1
            except ServerUnavailable as exc:
                if self.starts == 0:
                    raise
                failures += 1
                self._failure = str(exc)
                log.warning("%s", exc)
                self._attempts += 1
                self._notify()
            if self._closing:
                return
            self._wake = wake = anyio.Event()
            if failures >= _RESTARTS_BEFORE_PAUSE:
                await wake.wait()  # until a run needs the server again
                failures = _RESTARTS_BEFORE_PAUSE - 1  # one try, then the pause again if it fails
                continue
            delay = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2**failures) * random.uniform(0.5, 1.0)
            await anyio.sleep(delay)

    async def _session(self, *, on_ready: Any) -> None:
        """One session: connect, publish the client, wait until it is lost, close it."""
        self._lost = lost = anyio.Event()
        connect = anyio.CancelScope(deadline=anyio.current_time() + self.spec.connect_timeout)
        try:
            with connect:
                async with AsyncExitStack() as stack:
                    errlog = stack.enter_context(self._errlog())
                    transport = _watched(self._transport(errlog), lost.set)
                    client = Client(
                        transport,  # pyright: ignore[reportArgumentType]
                        # The initialize handshake: every server speaks it, and on it a server's
                        # `tools/list_changed` arrives as a notification (2026-07-28 servers send it only on
                        # a `subscriptions/listen` stream).
                        mode="legacy",
                        cache=None,
                        message_handler=self._on_message,
                        client_info=types.Implementation(name="oxy", version=__version__),
                    )
                    await stack.enter_async_context(client)
                    connect.deadline = math.inf
                    self.starts += 1
                    self._attempts += 1
                    self._tools = None
                    self._client, self._failure = client, None
                    self._notify()
                    if on_ready is not None:
                        on_ready()
                    log.info("%s: connected", self.spec.describe())
                    await lost.wait()
                    if self._client is client:
                        self._client = None
                        self._notify()
        except ServerUnavailable:
            raise
        except Exception as exc:
            raise ServerUnavailable(self._explain(exc)) from None
        finally:
            self._client = None
        if connect.cancelled_caught:
            raise ServerUnavailable(
                self._explain(
                    None, f"did not answer within {self.spec.connect_timeout:g} s (connect_timeout)"
                )
            )

    def _transport(self, errlog: TextIO) -> Any:
        spec = self.spec
        if spec.command is not None:
            params = StdioServerParameters(
                command=spec.command, args=list(spec.args), env=dict(spec.env), cwd=spec.cwd
            )
            return stdio_client(params, errlog=errlog)
        assert spec.url is not None
        http = create_mcp_http_client(headers=dict(spec.headers) or None)
        return _with_http_client(streamable_http_client(spec.url, http_client=http), http)

    def _errlog(self) -> Any:
        """The file a stdio server's stderr goes to (its log under .oxy/mcp/), or a null sink."""
        path = self.spec.log_path
        if path is None:
            return open(_devnull(), "w", encoding="utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = "w" if path.exists() and path.stat().st_size > _LOG_KEEP else "a"
            handle = open(path, mode, encoding="utf-8")
            handle.write(f"--- oxy starts {shlex.join([self.spec.command or '', *self.spec.args])}\n")
            handle.flush()
            return handle
        except OSError:
            return open(_devnull(), "w", encoding="utf-8")

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._tools = None  # listed again when a run next asks
            self._tools_version += 1
        await anyio.lowlevel.checkpoint()

    # -- what runs use ------------------------------------------------------------------------------

    async def client(self) -> Client:
        """The connected client. While the server restarts, waits for the next attempt (up to
        `connect_timeout`) and raises its failure at once if it fails."""
        deadline = anyio.current_time() + self.spec.connect_timeout
        attempts = self._attempts
        self._wake.set()  # a supervisor pausing after many failures tries again now
        while True:
            client = self._client
            if client is not None:
                return client
            if self._closing:
                raise ServerUnavailable(f"{self.spec.describe()} is closed")
            if self._attempts > attempts and self._failure is not None:
                raise ServerUnavailable(self._failure)
            changed = self._changed
            with anyio.move_on_after(deadline - anyio.current_time()):
                await changed.wait()
                continue
            reason = self._failure or f"did not come back within {self.spec.connect_timeout:g} s"
            raise ServerUnavailable(
                reason if reason.startswith("MCP server") else self._explain(None, reason)
            )

    async def list_tools(self) -> list[types.Tool]:
        """The server's tools (listed once per session, again after it says they changed)."""
        tools = self._tools
        if tools is not None:
            return tools
        async with self._list_lock:
            if self._tools is not None:
                return self._tools
            client = await self.client()
            version = self._tools_version
            found: list[types.Tool] = []
            cursor: str | None = None
            try:
                with anyio.fail_after(self.spec.list_timeout):
                    for _ in range(_PAGES):
                        page = await client.list_tools(cursor=cursor)
                        found.extend(page.tools)
                        cursor = page.next_cursor
                        if not cursor:
                            break
            except TimeoutError:
                raise ServerUnavailable(
                    self._explain(
                        None, f"did not list its tools within {self.spec.list_timeout:g} s (list_timeout)"
                    )
                ) from None
            except MCPError as exc:
                self._check_lost(client, exc)
                raise ServerUnavailable(
                    self._explain(None, f"tools/list failed: {exc.error.message}")
                ) from None
            except Exception as exc:  # a listing the SDK cannot read: the run says so, it does not crash
                raise ServerUnavailable(
                    self._explain(None, f"sent a tools/list oxy cannot read: {_short(exc)}")
                ) from None
            if self._client is client and self._tools_version == version:
                self._tools = found
            return found

    async def call_tool(
        self, name: str, arguments: dict[str, Any], *, timeout: float, label: str | None = None
    ) -> types.CallToolResult:
        """Call `name`; a protocol error, a timeout, a result oxy cannot read or a lost server is a
        `ToolError` the model reads, naming the tool `label` (the name the model knows; default `name`).
        Waiting for a free slot (`max_concurrency`) counts in `timeout`."""
        label = label or name
        try:
            with anyio.fail_after(timeout + 1):  # the SDK's own timeout cancels on the server; a backstop
                if self._limiter is None:
                    return await self._call(name, arguments, timeout, label)
                async with self._limiter:
                    return await self._call(name, arguments, timeout, label)
        except TimeoutError:
            raise ToolError(f"{label} took longer than {timeout:g} s (timeout) and was cancelled") from None

    async def _call(
        self, name: str, arguments: dict[str, Any], timeout: float, label: str
    ) -> types.CallToolResult:
        for attempt in (1, 2):
            client = await self.client()
            try:
                return await client.call_tool(name, arguments, read_timeout_seconds=timeout)
            except MCPError as exc:
                if attempt == 1 and self._session_expired(exc):
                    self._drop(client)  # the server did not run it: send it again on a new session
                    continue
                if self._check_lost(client, exc):
                    raise ToolError(
                        f"MCP server {self.spec.name!r} went away during the call ({exc.error.message}); "
                        "oxy is starting it again, so the call may be retried"
                    ) from None
                if exc.error.code == REQUEST_TIMEOUT:
                    raise TimeoutError from None
                raise ToolError(f"{label}: {self.spec.redact(exc.error.message)}") from None
            except (ToolError, ServerUnavailable, TimeoutError):
                raise
            except Exception as exc:  # a result the SDK rejects (bad structured content, unparsable)
                raise ToolError(
                    f"{label}: the server's answer could not be read: {self.spec.redact(_short(exc))}"
                ) from None
        raise AssertionError("unreachable")

    def _check_lost(self, client: Client, exc: MCPError) -> bool:
        """Whether `exc` says the session is gone; if so, start another."""
        if exc.error.code == CONNECTION_CLOSED or self._session_expired(exc):
            self._drop(client)
            return True
        return False

    def _drop(self, client: Client) -> None:
        """Give up `client`'s session: the supervisor closes it and opens another."""
        if self._client is client:
            self._client = None
            self._notify()
            self._lost.set()

    def _session_expired(self, exc: MCPError) -> bool:
        """An HTTP server that no longer knows the session (it restarted, or let it expire): a 404 the SDK
        reports as "Session terminated", or the server's own error saying so ("Session not found")."""
        return (
            self.spec.url is not None
            and exc.error.code == INVALID_REQUEST
            and exc.error.message in ("Session terminated", "Session not found")
        )

    # -- messages -----------------------------------------------------------------------------------

    def _explain(self, exc: BaseException | None, reason: str | None = None) -> str:
        """One line: which server, what happened, and the last words of its log."""
        if reason is None:
            reason = _reason(exc)
        message = f"{self.spec.describe()} {reason}"
        tail = self._log_tail()
        if tail:
            message += f"; its last words: {tail}"
        if self.spec.log_path is not None:
            message += f" (log: .oxy/mcp/{self.spec.log_path.name})"
        return self.spec.redact(message)

    def _log_tail(self) -> str:
        path = self.spec.log_path
        if path is None:
            return ""
        try:
            with open(path, "rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - 4000))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return ""
        text = text.rsplit("--- oxy starts", 1)[-1].split("\n", 1)[-1]
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            return ""
        last = lines[-1]
        return last if len(last) <= 300 else last[:297] + "..."


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "failed"
    if isinstance(exc, FileNotFoundError):
        return f"could not start: {exc.filename or 'the command'} was not found; install it or fix `command:`"
    if isinstance(exc, PermissionError):
        return f"could not start: {exc.filename or 'the command'} is not executable"
    if isinstance(exc, MCPError):
        if exc.error.code == CONNECTION_CLOSED:
            return "closed the connection while starting"
        return f"refused the connection: {exc.error.message}"
    if isinstance(exc, BaseExceptionGroup):
        inner: list[BaseException] = list(exc.exceptions)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        return _reason(inner[0]) if inner else "failed"
    text = str(exc).strip() or type(exc).__name__
    name = type(exc).__name__
    if "connect" in name.lower() or "ConnectError" in name:
        return f"could not be reached: {text}"
    return f"failed: {text}"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


@asynccontextmanager
async def _watched(transport: Any, lost: Callable[[], None]) -> AsyncGenerator[TransportStreams]:
    """`transport`'s streams, with `lost()` called when the server's side ends (the process exited, the
    stream closed): the supervisor restarts it before a run finds out by failing a call."""
    async with transport as (read, write):
        yield _EndWatch(read, lost), write


class _EndWatch:
    """A read stream that calls `lost()` when it ends; every item passes straight through (no task, no
    copy: the dispatcher reads it as it would the transport's own stream)."""

    def __init__(self, stream: Any, lost: Callable[[], None]) -> None:
        self._stream = stream
        self._lost = lost

    def __getattr__(self, name: str) -> Any:  # `last_context` and whatever else a reader looks for
        return getattr(self._stream, name)

    async def receive(self) -> Any:
        try:
            return await self._stream.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._lost()
            raise

    def __aiter__(self) -> _EndWatch:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> _EndWatch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@asynccontextmanager
async def _with_http_client(transport: Any, http: Any) -> AsyncGenerator[TransportStreams]:
    async with http, transport as streams:
        yield streams


def _devnull() -> str:
    import os  # lazy: only for a server without a log file

    return os.devnull
