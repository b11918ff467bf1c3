"""`LanguageServer`: a minimal async Language Server Protocol client for the `lsp` workspace tool.

One `LanguageServer` is one server process (`pyright-langserver --stdio`, `pylsp`, ...) for one workspace
root and one language, alive while it is entered (`async with`). It speaks JSON-RPC 2.0 with
`Content-Length` framing over the process's stdin and stdout, and offers four questions: `definition`,
`references`, `hover` and `workspace_symbols`.

Design:

- A task group owned by the server, entered in `__aenter__` and left in `__aexit__`, runs a reader task
  (every message on stdout) and a task that keeps the tail of stderr (for error messages). A request
  registers a `_Pending` slot under its id, writes the message and waits on the slot's `anyio.Event`,
  bounded by `timeout`; the reader fills the slot. When stdout ends (the process died), every pending
  request and every later one fails with an `LspError` saying so.
- The server's own requests are answered so it never waits on us: `workspace/configuration` with one
  `null` per item (the server's defaults), progress creation and capability (un)registration with
  `null` (and a few more with their obvious answer), anything else with -32601 (method not found).
  Notifications (diagnostics, progress) are ignored, but for one log line: pyright answers questions
  about the whole workspace (`references`, `workspace_symbols`) from the files it has found so far, so
  the first such question waits, bounded, for its "Found N source files" (see `_await_workspace`).
- Files are opened lazily with `textDocument/didOpen` before the first question about them and kept open.
  Before every question the file is read again and, when its text differs from what the server has, sent
  whole with `textDocument/didChange` under a new version (comparing the text, not the mtime: an edit
  within the filesystem's timestamp granularity that keeps the size would otherwise be missed).
- Positions are 1-based lines and character columns, as an editor shows them; LSP's are 0-based, with
  columns in UTF-16 code units (the default and only encoding this client offers), converted both ways
  against the line's text. Lines split on `\\n`, `\\r\\n` and `\\r` only, as LSP does.
- Answers become `Location`s relative to the root (absolute outside it) carrying the stripped source line,
  and `Symbol`s with the LSP `SymbolKind` as a word.
- Closing is shielded: `shutdown`, `exit`, up to two seconds for the process to leave, then SIGKILL to its
  whole process group (it is started in a session of its own, so wrappers such as pyright's Python
  launcher and the node process under it go together).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlparse

import anyio
import anyio.abc
import anyio.to_thread
from anyio.streams.buffered import BufferedByteReceiveStream

from oxy.errors import ToolError

__all__ = ["LanguageServer", "Location", "LspError", "Symbol"]

log = logging.getLogger("oxy.lsp")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""Line ends as LSP counts them (`str.splitlines` also splits on form feeds, U+2028, ...)."""
_HEADER_MAX = 64 * 1024
_STDERR_KEEP = 4096
_CLOSE_GRACE_S = 2.0
"""How long `shutdown` + `exit` may take before the process group is killed."""
_WORKSPACE_WAIT_S = 10.0
"""How long `references` and `workspace_symbols` wait, once, for pyright to have found the workspace's files."""
_PYRIGHT_STARTING = re.compile(r"pyright language server", re.IGNORECASE)
"""pyright's (and basedpyright's) first log line, e.g. "Pyright language server 1.1.414 starting"."""
_FILES_FOUND = re.compile(r"Found \d+ source files?|No source files found\.")
"""pyright's log line when it has listed the workspace's files (its `SourceEnumerator` finished)."""
_METHOD_NOT_FOUND = -32601
_SERVER_REQUESTS_ANSWERED_NULL = frozenset(
    {
        "window/workDoneProgress/create",
        "client/registerCapability",
        "client/unregisterCapability",
        "window/showMessageRequest",
        "workspace/codeLens/refresh",
        "workspace/diagnostic/refresh",
        "workspace/inlayHint/refresh",
        "workspace/inlineValue/refresh",
        "workspace/semanticTokens/refresh",
    }
)
"""Server requests for which `null` is a correct answer (progress tokens, registrations, refreshes)."""
_INSTALL_HINTS = {
    "pyright-langserver": "install pyright (`pip install pyright`)",
    "pylsp": "install python-lsp-server (`pip install python-lsp-server`)",
}
_SYMBOL_KINDS = (
    "file",
    "module",
    "namespace",
    "package",
    "class",
    "method",
    "property",
    "field",
    "constructor",
    "enum",
    "interface",
    "function",
    "variable",
    "constant",
    "string",
    "number",
    "boolean",
    "array",
    "object",
    "key",
    "null",
    "enum_member",
    "struct",
    "event",
    "operator",
    "type_parameter",
)
"""LSP `SymbolKind` 1..26, in order."""


class LspError(ToolError):
    """The language server could not be started, died, timed out or answered with an error."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    """A place in a file, as an editor shows it."""

    path: str
    """Relative to the workspace root, posix; the absolute path for a file outside the root."""
    line: int
    """1-based."""
    column: int
    """1-based, in characters."""
    text: str
    """That line of the file, stripped; "" when the file cannot be read."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Symbol:
    """A named thing the server knows about in the workspace."""

    name: str
    kind: str
    """LSP `SymbolKind` as a lowercase word: "class", "function", "method", "variable", ..."""
    location: Location
    container: str | None = None


@dataclass(slots=True)
class _Pending:
    """A request in flight: the reader sets `result` or `error` (a sentence), then `done`."""

    method: str
    done: anyio.Event = field(default_factory=anyio.Event)
    result: Any = None
    error: str | None = None


@dataclass(slots=True)
class _Document:
    """A file the server has open: the text it has and its version."""

    version: int
    text: str


class _ProtocolError(Exception):
    """The server wrote something that is not an LSP message."""


class LanguageServer:
    """One language server process for one workspace root and language."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        root: Path,
        language_id: str,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`command` runs the server speaking LSP on stdio; `env` is added to this process's environment;
        `timeout` bounds each request, in seconds."""
        if not command:
            raise LspError("The language server command is empty; set the command that starts it.")
        self.command = tuple(command)
        self.root = Path(os.path.abspath(root))
        self.language_id = language_id
        self.timeout = timeout
        self._env = dict(env) if env is not None else None
        self._display = shlex.join(self.command)
        self._process: anyio.abc.Process | None = None
        self._stack: AsyncExitStack | None = None
        self._tasks: anyio.abc.TaskGroup | None = None
        self._task_scopes: set[anyio.CancelScope] = set()
        self._closed = False
        self._send_lock = anyio.Lock()
        self._sync_lock = anyio.Lock()
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._documents: dict[Path, _Document] = {}
        self._initialized = False
        self._dead: str | None = None
        """Why no more requests can be sent (the process exited, closed its output, was closed)."""
        self._stderr_tail = b""
        self._stderr_done = anyio.Event()
        self._says_pyright = False
        self._workspace_found = anyio.Event()
        """Set once the server knows every file of the workspace (see `_await_workspace`)."""

    @property
    def pid(self) -> int | None:
        """The server process's id once started (kept after it exits); None before."""
        return None if self._process is None else self._process.pid

    @property
    def alive(self) -> bool:
        """Whether it can still answer: started, not exited, not closed."""
        return self._initialized and self._dead is None and not self._closed

    # -- lifecycle ------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        stack = AsyncExitStack()
        self._stack = stack
        try:
            process = await self._start()
            self._process = process
            await stack.enter_async_context(process)
            self._tasks = await stack.enter_async_context(anyio.create_task_group())
            assert process.stdout is not None and process.stderr is not None
            self._start_task(self._read_messages, process, process.stdout)
            self._start_task(self._keep_stderr, process.stderr)
            await self._initialize()
        except BaseException as error:
            await self.__aexit__(type(error), error, error.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            if self._initialized and self._dead is None:
                with anyio.move_on_after(_CLOSE_GRACE_S):
                    await self._close_politely()
            self._kill_group()
            self._dead = f"The language server `{self._display}` was closed."
            self._workspace_found.set()
        # The task group's cancel scope was entered before the shield above: it is left outside it. Its
        # tasks end at once (cancelled here), and the process, killed already, is reaped by its `aclose`.
        self._closed = True
        for scope in self._task_scopes:
            scope.cancel()
        if self._tasks is not None:
            self._tasks.cancel_scope.cancel()
        stack, self._stack, self._tasks = self._stack, None, None
        if stack is not None:
            await stack.__aexit__(None, None, None)

    def _start_task(self, function: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run `function(*args)` in the server's task group, shielded from the caller's cancellation.

        The reader must outlive a cancelled caller: `async with` left by a cancelled scope still closes
        politely, and the answer to `shutdown` comes through the reader. `__aexit__` cancels these itself.
        """

        async def shielded() -> None:
            with anyio.CancelScope(shield=True) as scope:
                if self._closed:
                    return
                self._task_scopes.add(scope)
                try:
                    await function(*args)
                finally:
                    self._task_scopes.discard(scope)

        assert self._tasks is not None
        self._tasks.start_soon(shielded)

    async def _start(self) -> anyio.abc.Process:
        if not await anyio.Path(self.root).is_dir():
            raise LspError(f"The workspace root {self.root} is not a folder; the language server needs one.")
        env = None if self._env is None else {**os.environ, **self._env}
        try:
            return await anyio.open_process(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.root,
                env=env,
                start_new_session=True,
            )
        except OSError as error:
            name = Path(self.command[0]).name
            hint = _INSTALL_HINTS.get(name, f"install `{name}`")
            reason = error.strerror or str(error)
            raise LspError(
                f"Cannot start the language server `{self._display}` ({reason}); {hint} or set the command that starts it."
            ) from None

    async def _initialize(self) -> None:
        root_uri = self.root.as_uri()
        await self._request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "oxy"},
                "rootUri": root_uri,
                "rootPath": str(self.root),
                "workspaceFolders": [{"uri": root_uri, "name": self.root.name or str(self.root)}],
                "capabilities": _CLIENT_CAPABILITIES,
            },
        )
        await self._notify("initialized", {})
        self._initialized = True
        if not (self._says_pyright or "pyright" in Path(self.command[0]).name.lower()):
            self._workspace_found.set()

    async def _close_politely(self) -> None:
        try:
            await self._request("shutdown", None)
        except LspError as error:
            log.debug("%s", error)
        try:
            await self._notify("exit", None)
        except LspError as error:
            log.debug("%s", error)
        if self._process is not None:
            await self._process.wait()

    def _kill_group(self) -> None:
        """SIGKILL the process's whole group (its session), whether or not the leader is still there."""
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    # -- questions ------------------------------------------------------------------------------------

    async def definition(self, path: Path, line: int, column: int) -> list[Location]:
        """Where the symbol at `line`:`column` (1-based) of `path` is defined."""
        result = await self._position_request("textDocument/definition", path, line, column, {})
        return await anyio.to_thread.run_sync(_locations, result, self.root)

    async def references(self, path: Path, line: int, column: int) -> list[Location]:
        """Every use of the symbol at `line`:`column` of `path`, its declaration included, sorted."""
        context = {"context": {"includeDeclaration": True}}
        await self._await_workspace()
        result = await self._position_request("textDocument/references", path, line, column, context)
        locations = await anyio.to_thread.run_sync(_locations, result, self.root)
        return sorted(set(locations), key=lambda where: (where.path, where.line, where.column))

    async def hover(self, path: Path, line: int, column: int) -> str:
        """The server's hover text at `line`:`column` of `path` (signature, docs) as plain text; "" if none."""
        result = await self._position_request("textDocument/hover", path, line, column, {})
        return _hover_text(result)

    async def workspace_symbols(self, query: str) -> list[Symbol]:
        """Symbols in the workspace whose names match `query` (the server decides how: pyright fuzzily)."""
        await self._await_workspace()
        result = await self._request("workspace/symbol", {"query": query})
        return await anyio.to_thread.run_sync(_symbols, result, self.root)

    async def _await_workspace(self) -> None:
        """Before the first question about the whole workspace, wait until pyright has found its files.

        Measured with pyright 1.1.414 on a three-file package: it answers `initialize` in 0.3 s, then asks
        for its configuration, runs the Python interpreter for its search paths and lists the workspace's
        files in time slices, logging "Found 3 source files" 0.6 to 1.2 s later (longer on a big tree).
        Until then `workspace/symbol` answers `[]` at once (it skips a workspace not yet set up rather than
        waiting), and `references` answers from the open file and what it imports only: asked on the
        definition of a method in a file nobody opened imports, it found the definition alone, then all
        three uses 0.2 s later. Definition and hover start from the open file and are complete from the
        first. pyright reports no progress (`$/progress`) for this setup, only per reference search, and
        no `serverInfo`; its log line is the one signal. So for pyright (its "Pyright language server ...
        starting" log line, or the command's name) the first `references` or `workspace_symbols` waits for
        that line, at most `_WORKSPACE_WAIT_S` within `timeout`: a pyright that words it differently costs
        one wait, not a wrong answer. Other servers are not waited on.
        """
        self._check_alive()
        if self._workspace_found.is_set():
            return
        with anyio.move_on_after(min(self.timeout, _WORKSPACE_WAIT_S)):
            await self._workspace_found.wait()
        if not self._workspace_found.is_set():
            log.debug("%s did not say it found the workspace's files; asking anyway", self._display)
            self._workspace_found.set()

    async def _position_request(
        self, method: str, path: Path, line: int, column: int, extra: Mapping[str, Any]
    ) -> Any:
        if line < 1 or column < 1:
            raise LspError(f"Lines and columns count from 1; got line {line}, column {column}.")
        path = Path(os.path.abspath(path))
        text = await self._sync(path)
        params = {
            "textDocument": {"uri": path.as_uri()},
            "position": _lsp_position(text, line, column),
            **extra,
        }
        return await self._request(method, params)

    async def _sync(self, path: Path) -> str:
        """Make the server's copy of `path` the text on disk (open it, or send the change); returns the text."""
        try:
            text = await anyio.Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise LspError(f"Cannot read {path}: {error.strerror or error}.") from None
        async with self._sync_lock:
            document = self._documents.get(path)
            if document is None:
                document = self._documents[path] = _Document(version=1, text=text)
                item = {"uri": path.as_uri(), "languageId": self.language_id, "version": 1, "text": text}
                await self._notify("textDocument/didOpen", {"textDocument": item})
            elif document.text != text:
                document.version += 1
                document.text = text
                await self._notify(
                    "textDocument/didChange",
                    {
                        "textDocument": {"uri": path.as_uri(), "version": document.version},
                        "contentChanges": [{"text": text}],
                    },
                )
        return text

    # -- JSON-RPC -------------------------------------------------------------------------------------

    async def _request(self, method: str, params: Any) -> Any:
        self._check_alive()
        self._next_id += 1
        request_id = self._next_id
        pending = self._pending[request_id] = _Pending(method)
        try:
            with anyio.fail_after(self.timeout):
                await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
                await pending.done.wait()
        except TimeoutError:
            with anyio.move_on_after(1):
                await self._cancel(request_id)
            raise LspError(
                f"The language server `{self._display}` did not answer {method} within {self.timeout:g} s."
            ) from None
        finally:
            del self._pending[request_id]
        if pending.error is not None:
            raise LspError(pending.error)
        return pending.result

    async def _cancel(self, request_id: int) -> None:
        try:
            await self._notify("$/cancelRequest", {"id": request_id})
        except LspError:
            pass

    async def _notify(self, method: str, params: Any) -> None:
        self._check_alive()
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def _send(self, message: dict[str, Any]) -> None:
        # ASCII JSON: a lone surrogate (an odd file name, a query) is escaped instead of failing to encode.
        body = json.dumps(message, separators=(",", ":")).encode()
        process = self._process
        assert process is not None and process.stdin is not None
        async with self._send_lock:
            try:
                await process.stdin.send(b"Content-Length: %d\r\n\r\n%b" % (len(body), body))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                raise LspError(self._dead or self._exit_message(process)) from None

    def _check_alive(self) -> None:
        if self._dead is not None:
            raise LspError(self._dead)

    async def _read_messages(self, process: anyio.abc.Process, stdout: anyio.abc.ByteReceiveStream) -> None:
        """The reader task: resolve responses, answer the server's requests, until the output ends."""
        stream = BufferedByteReceiveStream(stdout)
        reason: str | None = None
        try:
            while True:
                self._dispatch(await _read_message(stream))
        except (
            anyio.EndOfStream,
            anyio.IncompleteRead,
            anyio.ClosedResourceError,
            anyio.BrokenResourceError,
        ):
            pass
        except _ProtocolError as error:
            reason = f"The language server `{self._display}` broke the protocol ({error})."
        with anyio.move_on_after(1):
            await process.wait()
            await self._stderr_done.wait()  # its last words, for the message
        self._dead = self._dead or reason or self._exit_message(process)
        self._workspace_found.set()  # nothing to wait for: the questions fail at once
        for pending in self._pending.values():
            pending.error = self._dead
            pending.done.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if isinstance(method, str):
            if "id" in message:
                self._start_task(self._answer, message["id"], method, message.get("params"))
            elif method == "window/logMessage":
                self._note_log(message.get("params"))
            return
        request_id = message.get("id")
        pending = self._pending.get(request_id) if isinstance(request_id, int) else None
        if pending is None:
            return
        error = message.get("error")
        if error is not None:
            said = error.get("message") or error if isinstance(error, dict) else error
            pending.error = (
                f"The language server answered {pending.method} with an error: {_one_line(str(said))}"
            )
        else:
            pending.result = message.get("result")
        pending.done.set()

    def _note_log(self, params: Any) -> None:
        """Watch pyright's log for the line saying it has found the workspace's files."""
        said = params.get("message") if isinstance(params, dict) else None
        if not isinstance(said, str):
            return
        if _PYRIGHT_STARTING.search(said):
            self._says_pyright = True
        elif _FILES_FOUND.fullmatch(said.strip()):
            self._workspace_found.set()

    async def _answer(self, request_id: Any, method: str, params: Any) -> None:
        """Answer one of the server's requests (a task of its own: the reader never waits on a write)."""
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        if method == "workspace/configuration":
            # One `null` per item asked for: "no settings", so the server keeps its defaults.
            items = params.get("items") if isinstance(params, dict) else None
            reply["result"] = [None] * (len(items) if isinstance(items, list) else 0)
        elif method == "workspace/workspaceFolders":
            reply["result"] = [{"uri": self.root.as_uri(), "name": self.root.name or str(self.root)}]
        elif method == "workspace/applyEdit":
            reply["result"] = {"applied": False, "failureReason": "this client does not edit files"}
        elif method in _SERVER_REQUESTS_ANSWERED_NULL:
            reply["result"] = None
        else:
            reply["error"] = {"code": _METHOD_NOT_FOUND, "message": f"oxy does not handle {method}"}
        try:
            self._check_alive()
            await self._send(reply)
        except LspError as error:
            log.debug("could not answer %s: %s", method, error)

    async def _keep_stderr(self, stderr: anyio.abc.ByteReceiveStream) -> None:
        try:
            async for chunk in stderr:
                self._stderr_tail = (self._stderr_tail + chunk)[-_STDERR_KEEP:]
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass
        finally:
            self._stderr_done.set()

    def _exit_message(self, process: anyio.abc.Process) -> str:
        code = process.returncode
        how = "stopped answering" if code is None else f"exited with code {code}"
        lines = self._stderr_tail.decode(errors="replace").strip().splitlines()
        said = f" ({_one_line(lines[-1])})" if lines else ""
        return f"The language server `{self._display}` {how}{said}; check that it runs on its own, or set another command."


_CLIENT_CAPABILITIES: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "synchronization": {"dynamicRegistration": False, "didSave": False, "willSave": False},
        "definition": {"dynamicRegistration": False, "linkSupport": True},
        "references": {"dynamicRegistration": False},
        "hover": {"dynamicRegistration": False, "contentFormat": ["plaintext", "markdown"]},
    },
    "workspace": {
        "symbol": {"dynamicRegistration": False, "symbolKind": {"valueSet": list(range(1, 27))}},
        "workspaceFolders": True,
        "configuration": True,
    },
    "window": {"workDoneProgress": True},
}


async def _read_message(stream: BufferedByteReceiveStream) -> dict[str, Any]:
    """One framed message: headers up to a blank line, then `Content-Length` bytes of JSON."""
    try:
        headers = await stream.receive_until(b"\r\n\r\n", _HEADER_MAX)
    except anyio.DelimiterNotFound:
        raise _ProtocolError("a header longer than 64 KiB") from None
    length: int | None = None
    for header in headers.split(b"\r\n"):
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value)
            except ValueError:
                raise _ProtocolError(f"Content-Length {value.strip()!r}") from None
    if length is None:
        raise _ProtocolError(f"no Content-Length in {headers[:200]!r}")
    body = await stream.receive_exactly(length)
    try:
        message = json.loads(body)
    except ValueError as error:
        raise _ProtocolError(f"not JSON: {error}") from None
    if not isinstance(message, dict):
        raise _ProtocolError("a message that is not a JSON object")
    return message  # type: ignore[return-value]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- positions and paths ------------------------------------------------------------------------------


def _lsp_position(text: str, line: int, column: int) -> dict[str, int]:
    """1-based line and character column -> LSP's 0-based line and UTF-16 character."""
    lines = _LINE_BREAK.split(text)
    line_text = lines[line - 1] if line <= len(lines) else ""
    before = line_text[: column - 1]
    units = _utf16_length(before) + max(0, column - 1 - len(line_text))
    return {"line": line - 1, "character": units}


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _column(line_text: str, units: int) -> int:
    """LSP's UTF-16 character offset on `line_text` -> a 1-based character column."""
    count = 0
    for index, char in enumerate(line_text):
        if count >= units:
            return index + 1
        count += 2 if ord(char) > 0xFFFF else 1
    return len(line_text) + max(0, units - count) + 1


def _uri_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def _display_path(path: Path, root: Path) -> str:
    for base in (root, root.resolve()):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.as_posix()


class _Lines:
    """Files' lines, each file read once per answer."""

    def __init__(self) -> None:
        self._files: dict[Path, list[str] | None] = {}

    def line(self, path: Path, index: int) -> str | None:
        if path not in self._files:
            try:
                self._files[path] = _LINE_BREAK.split(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                self._files[path] = None
        lines = self._files[path]
        if lines is None or not 0 <= index < len(lines):
            return None
        return lines[index]


def _location(uri: Any, start: Any, root: Path, lines: _Lines) -> Location | None:
    """A `Location` from an LSP uri and a range's start (`{"line", "character"}`), or None if unusable."""
    if not isinstance(uri, str) or not isinstance(start, dict):
        return None
    line, character = start.get("line"), start.get("character")
    if not isinstance(line, int) or not isinstance(character, int):
        return None
    path = _uri_path(uri)
    if path is None:
        return Location(path=uri, line=line + 1, column=character + 1, text="")
    shown = _display_path(path, root)
    if Path(shown).is_absolute():  # outside the workspace: where it is, never what it says
        return Location(path=shown, line=line + 1, column=character + 1, text="")
    text = lines.line(path, line)
    column = character + 1 if text is None else _column(text, character)
    return Location(path=shown, line=line + 1, column=column, text=(text or "").strip())


def _range_start(value: Any) -> Any:
    return value.get("start") if isinstance(value, dict) else None


def _locations(result: Any, root: Path) -> list[Location]:
    """`Location | Location[] | LocationLink[] | null` -> locations (reads the files: run in a thread)."""
    items: list[Any] = result if isinstance(result, list) else [result] if isinstance(result, dict) else []
    lines = _Lines()
    found: list[Location] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "targetUri" in item:
            span = item.get("targetSelectionRange") or item.get("targetRange")
            location = _location(item.get("targetUri"), _range_start(span), root, lines)
        else:
            location = _location(item.get("uri"), _range_start(item.get("range")), root, lines)
        if location is not None:
            found.append(location)
    return found


def _symbols(result: Any, root: Path) -> list[Symbol]:
    """`SymbolInformation[] | WorkspaceSymbol[] | null` -> symbols (reads the files: run in a thread)."""
    lines = _Lines()
    symbols: list[Symbol] = []
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        where = item.get("location")
        if not isinstance(where, dict):
            continue
        # A WorkspaceSymbol may come without a range (to be resolved): its file's first line then.
        start = _range_start(where.get("range")) or {"line": 0, "character": 0}
        location = _location(where.get("uri"), start, root, lines)
        if location is None:
            continue
        kind = item.get("kind")
        container = item.get("containerName")
        symbols.append(
            Symbol(
                name=item["name"],
                kind=_SYMBOL_KINDS[kind - 1] if isinstance(kind, int) and 1 <= kind <= 26 else "symbol",
                location=location,
                container=container if isinstance(container, str) and container else None,
            )
        )
    return symbols


def _hover_text(result: Any) -> str:
    """A `Hover`'s contents (`MarkupContent | MarkedString | MarkedString[]`) as plain text."""
    if not isinstance(result, dict):
        return ""
    return _markup_text(result.get("contents")).strip()


def _markup_text(contents: Any) -> str:
    if isinstance(contents, str):
        return contents
    if isinstance(contents, list):
        return "\n\n".join(text for text in map(_markup_text, contents) if text.strip())
    if isinstance(contents, dict) and isinstance(contents.get("value"), str):
        value: str = contents["value"]
        if contents.get("kind") == "markdown":
            # Code fences only frame the signature; drop their lines and keep what they hold.
            return "\n".join(line for line in value.splitlines() if not line.lstrip().startswith("```"))
        return value
    return ""
