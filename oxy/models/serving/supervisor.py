"""`ModelServer`: one model's server process, supervised the way vLLM's own test harness does it.

The process runs in its own process group, its output read line by line (kept, and passed on with the
model's name in front). It is ready when `/health` answers 200 and `/v1/models` lists the model; only
then does traffic go to it. If it dies, it is started again with backoff, a bounded number of times.
Stopping sends SIGTERM to the whole group, then SIGKILL: no process is left behind. A server that fails
to start is explained in one line from its own log (out of GPU memory, unknown model, port taken, no
weights offline, a file llama.cpp cannot load), not as a timeout.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Literal, Self

import anyio
import anyio.abc
import httpx
from anyio.streams.text import TextReceiveStream

from oxy.errors import OxyError

from .plan import ServerPlan
from .status import served_ids

__all__ = ["ModelServer", "ModelServerError", "State", "explain_failure"]

log = logging.getLogger("oxy.models")

State = Literal["starting", "ready", "restarting", "failed", "stopped"]

_POLL_S = 0.25
_STOP_GRACE_S = 10.0
_TAIL = 200


class ModelServerError(OxyError):
    """A model's server did not start, or died for good; the message says why, in one line."""


_CAUSES: tuple[tuple[str, str], ...] = (
    (
        r"CUDA out of memory|OutOfMemoryError|out of memory|No available memory for the cache blocks",
        "ran out of GPU memory: lower serve.args.gpu_memory_utilization or max_model_len, or serve a smaller "
        "model",
    ),
    (r"[Aa]ddress already in use|Errno 98", "could not listen: port {port} is taken by another process"),
    (
        r"LocalEntryNotFoundError|offline mode|HF_HUB_OFFLINE|outgoing traffic has been disabled|"
        r"couldn't connect to 'https://huggingface.co'|Cannot find an appropriate cached snapshot",
        "found no weights for {model_ref!r} in the local cache, and cannot download them here: download them "
        "where there is a network (huggingface-cli download), or point model_ref at a local folder",
    ),
    (
        r"is not a valid model identifier|Repository Not Found|RepositoryNotFoundError|"
        r"does not appear to have a file named config.json|Invalid repository ID",
        "does not know the model {model_ref!r}: check model_ref (a Hugging Face id or a local folder)",
    ),
    (
        r"Failed to load model|Model path does not exist|failed to load model|gguf_init",
        "could not load the model file: is model_ref a valid GGUF file?",
    ),
    (
        r"No module named 'llama_cpp\.server'|No module named 'starlette_context'|"
        r"No module named 'sse_starlette'|No module named 'pydantic_settings'",
        "needs llama-cpp-python's server: run oxy models install-local",
    ),
    (r"No module named 'vllm'|vllm: command not found", "needs vLLM: pip install vllm (on a GPU host)"),
    (
        r"^oxy: '(?P<program>.*)' was not found",
        "cannot start: {program!r} was not found (install it, or set serve.command)",
    ),
    (
        r"^oxy: '(?P<program>.*)' is not executable",
        "cannot start: {program!r} is not executable (fix serve.command)",
    ),
    (
        r"invalid tool call parser|is not a registered tool parser|invalid choice: '[a-z0-9_]+' \(choose from",
        "does not know the tool-call parser {parser!r}: upgrade vLLM, or set serve.tool_call_parser",
    ),
)


def explain_failure(
    plan: ServerPlan, lines: list[str], status: int | None, *, waited: float | None = None
) -> str:
    """One line: which model's server, and why it stopped (or was not ready after `waited` seconds), from
    the last lines of its own log."""
    text = "\n".join(lines)
    for pattern, cause in _CAUSES:
        found = re.search(pattern, text, re.MULTILINE)
        if found:
            reason = cause.format(
                port=plan.port, model_ref=plan.model_ref, parser=plan.parser, **found.groupdict()
            )
            break
    else:
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        if waited is not None:
            exited = f"was not ready after {waited:g} s (startup_timeout)"
        else:
            exited = f"exited with status {status}" if status is not None else "stopped"
        reason = f"{exited}; its last words: {last[:300]}" if last else f"{exited} without a word"
    return f"the {plan.engine} server of model {plan.model!r} ({plan.api_url}) {reason}"


class ModelServer:
    """`async with ModelServer(plan):` starts the server and returns once it is ready; leaving stops it.

    `on_line` receives every line the server writes, prefixed with `[model] `. While entered, a server
    that dies is started again (`max_restarts` times at most, backoff doubling from 1 s to 30 s)."""

    def __init__(self, plan: ServerPlan, *, on_line: Callable[[str], None] | None = None) -> None:
        self.plan = plan
        self.state: State = "stopped"
        self.restarts = 0
        self.error: str | None = None
        self._on_line = on_line
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
        self._process: anyio.abc.Process | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self._stopping = False
        self._read_done = anyio.Event()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def __aenter__(self) -> Self:
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        try:
            await self._start()
        except BaseException:
            await self._shutdown()
            raise
        group.start_soon(self._watch)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._stopping = True
        with anyio.CancelScope(shield=True):
            await self._stop_process()
        group, self._group = self._group, None
        if group is not None:
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)
        with anyio.CancelScope(shield=True):  # a restart that raced the stop started one more process
            await self._stop_process()
        self.state = "stopped"

    async def _start(self) -> None:
        """Start the process and wait until it is ready; a `ModelServerError` if it is not."""
        assert self._group is not None
        self.state = "starting"
        self._tail.clear()
        self._read_done = anyio.Event()
        try:
            process = await anyio.open_process(
                # Through a tiny exec wrapper that makes the server die with oxy, however oxy dies.
                [sys.executable, "-m", "oxy.models.serving._exec", *self.plan.argv],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.plan.env,
                start_new_session=True,  # its own process group: stopped whole, children included
            )
        except OSError as exc:
            raise ModelServerError(
                f"the {self.plan.engine} server of model {self.plan.model!r} cannot start: {exc}"
            ) from None
        self._process = process
        self._group.start_soon(self._read, process, self._read_done)
        log.info("[%s] started: %s (pid %d)", self.plan.model, _shown(self.plan.argv), process.pid)
        try:
            await self._wait_ready(process)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stop_process()  # not ready: nothing of it stays
            raise
        self.state, self.error = "ready", None

    async def _read(self, process: anyio.abc.Process, done: anyio.Event) -> None:
        assert process.stdout is not None
        buffer = ""
        try:
            async for chunk in TextReceiveStream(process.stdout, errors="replace"):
                buffer += chunk
                *lines, buffer = buffer.split("\n")
                for line in lines:
                    self._line(line.rstrip("\r"))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass
        finally:
            if buffer:
                self._line(buffer)
            done.set()

    async def _last_words(self) -> list[str]:
        """The server's lines, once it has written its last (or after 2 s)."""
        with anyio.move_on_after(2):
            await self._read_done.wait()
        return list(self._tail)

    def _line(self, line: str) -> None:
        self._tail.append(line)
        if self._on_line is not None:
            self._on_line(f"[{self.plan.model}] {line}")

    async def _wait_ready(self, process: anyio.abc.Process) -> None:
        deadline = anyio.current_time() + self.plan.startup_timeout
        async with httpx.AsyncClient(timeout=2.0, trust_env=False, headers=self.plan.probe_headers) as http:
            while True:
                if process.returncode is not None:
                    raise ModelServerError(
                        explain_failure(self.plan, await self._last_words(), process.returncode)
                    )
                if await self._ready(http):
                    if process.returncode is not None:  # what answered is not our server
                        continue
                    return
                if anyio.current_time() > deadline:
                    raise ModelServerError(
                        explain_failure(self.plan, list(self._tail), None, waited=self.plan.startup_timeout)
                    )
                await anyio.sleep(_POLL_S)

    async def _ready(self, http: httpx.AsyncClient) -> bool:
        """`/health` is 200 (or absent, as in llama.cpp's server) and `/v1/models` lists the model."""
        try:
            health = await http.get(f"{self.plan.root_url}/health")
            if health.status_code not in (200, 404):
                return False
            ids = await served_ids(http, self.plan.api_url)
        except httpx.HTTPError:
            return False
        return ids is not None and self.plan.model_ref in ids

    async def _watch(self) -> None:
        """Start the server again when it dies (with backoff, `max_restarts` times at most)."""
        while not self._stopping:
            process = self._process
            if process is None:
                return
            status = await process.wait()
            if self._stopping:
                return
            reason = explain_failure(self.plan, await self._last_words(), status)
            await self._stop_process()  # its children go too
            while True:  # start it again, until it is ready or the restarts are spent
                if self.restarts >= self.plan.max_restarts:
                    self.state, self.error = "failed", f"{reason}; gave up after {self.restarts} restarts"
                    log.error("[%s] %s", self.plan.model, self.error)
                    return
                self.restarts += 1
                self.state, self.error = "restarting", reason
                delay = min(30.0, 2.0 ** (self.restarts - 1))
                log.warning("[%s] %s; starting it again in %g s", self.plan.model, reason, delay)
                await anyio.sleep(delay)
                if self._stopping:
                    return
                try:
                    await self._start()  # a start that fails stops what it started
                    break
                except ModelServerError as exc:
                    reason = str(exc)
                    log.warning("[%s] %s", self.plan.model, exc)

    async def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)
            with anyio.move_on_after(_STOP_GRACE_S):
                await process.wait()
        _signal_group(process.pid, signal.SIGKILL)  # whatever of its group is left, children included
        if process.returncode is None:
            with anyio.move_on_after(2):
                await process.wait()
        await process.aclose()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


_SECRET_FLAG = re.compile(r"key|token|secret|password", re.IGNORECASE)


def _shown(argv: tuple[str, ...]) -> str:
    """The command line for a log, the value after a flag named like a secret left out."""
    shown: list[str] = []
    hide = False
    for arg in argv:
        shown.append("***" if hide else arg)
        hide = arg.startswith("--") and "=" not in arg and bool(_SECRET_FLAG.search(arg))
    return " ".join(shown)
