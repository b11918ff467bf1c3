"""Shell commands for an agent's `bash` tool, and background tasks (dev servers) for `task_start`,
`task_output` and `task_stop`.

Every command runs as `bash -c COMMAND` (`/bin/sh` where there is no bash) in the folder and with exactly
the environment it is given (nothing inherited from oxy), stdin from /dev/null, stdout and stderr in one
pipe, in a process group of its own (`start_new_session`). The group is what gets stopped, so whatever the
command started goes with it: SIGTERM to the group, a grace period, then SIGKILL to the group.

- `run_command` waits for the shell, reading its output concurrently (a full pipe never blocks it) into a
  bounded buffer: the first half of `max_chars` and a ring of the last half, with the cut marked in the
  middle, so gigabytes of output cost kilobytes. When the shell exits, what it left running in its group
  (`server &`) is killed: long-running processes belong in background tasks. On timeout the group is
  stopped; on cancellation (a cancel scope, Ctrl-C) it is killed, shielded, before the cancellation goes on.
- `TaskManager` keeps background tasks apart from any one conversation turn: an anyio task group of its own
  reads each task's output into a ring of lines; `stop`, `stop_owner` and `stop_all` end groups, and leaving
  the manager (`async with`) stops every task. Nothing global is registered: whoever owns the manager
  closes it.

Tasks never outlive oxy, however it dies. anyio's `open_process` takes no `preexec_fn` (anyio 4.x), so
the child cannot ask for a parent-death signal (`prctl(PR_SET_PDEATHSIG)`) before it runs, and that
signal would reach only the shell anyway, not the servers it starts. Instead each command starts through
a few lines of shell (`_LAUNCHER`) that leave a watchdog in the command's process group: a subshell
blocked reading a pipe whose only write end oxy holds. The kernel closes that end when oxy exits, by any
means (SIGKILL, OOM, a crash); the read then returns and the watchdog SIGKILLs its group, command and
children included. The launcher then `exec`s the command's own shell, so the pid oxy knows is the
command's `$$` and the group's id. A process that leaves the group on purpose (`setsid`) escapes all of
this, as it would escape a terminal's job control.
"""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio
import anyio.abc

from oxy.errors import ToolError

__all__ = ["CommandResult", "TaskInfo", "TaskManager", "run_command"]

_SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"

# Run as `SHELL -c _LAUNCHER SHELL COMMAND` with stdin the read end of the lifeline pipe. It moves the
# lifeline to fd 3 and stdin to /dev/null, starts the watchdog (twice forked, so the command has no
# unknown child to wait for, and with no copy of the output pipe), closes its own fd 3 and becomes the
# command's shell, same pid. POSIX sh throughout.
_LAUNCHER = (
    "exec 3<&0 0</dev/null; "
    "( (read _ <&3; kill -9 0) </dev/null >/dev/null 2>&1 & ); "
    "exec 3<&-; "
    'exec "$0" -c "$1"'
)

_TIMEOUT_GRACE_S = 1.0  # run_command: SIGTERM, this long, SIGKILL
_STOP_GRACE_S = 2.0  # a task: SIGTERM, this long, SIGKILL
_DRAIN_S = 1.0  # after the group is gone: how long to wait for the last output (a process that escaped it)
_REAP_S = 5.0  # after SIGKILL: how long to wait for the shell's exit status
_KEEP_EXITED = 50  # exited tasks remembered for `output`; older ones are forgotten


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandResult:
    """How a command ended, and what it wrote."""

    exit_code: int | None  # the shell's status (negative: the signal that ended it); None: timed out
    output: str  # stdout and stderr as written, utf-8 (undecodable bytes replaced), the cut marked
    truncated: bool  # `output` was cut: its head and tail kept, the middle marked
    timed_out: bool  # the command ran past its timeout and was stopped
    seconds: float


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskInfo:
    """A background task, as it was when asked."""

    id: str  # "t1", "t2"... unique in its manager
    command: str
    owner: str  # who started it: a thread or run id
    pid: int  # the shell's pid, also its process group's id
    started_at: datetime  # UTC
    exit_code: int | None  # None while running
    running: bool


async def run_command(
    command: str, *, cwd: Path, env: Mapping[str, str], timeout: float, max_chars: int
) -> CommandResult:
    """Run `command` in a shell and wait for it, at most `timeout` seconds; its output capped at about
    `max_chars` characters (head and tail kept). Its whole process group is gone when this returns or
    raises, cancellation included. A folder or shell that cannot be used is a `ToolError`."""
    started = time.monotonic()
    text = _CappedText(max_chars)
    drained = anyio.Event()
    timed_out = False
    child = await _spawn(command, cwd=cwd, env=env)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_pump, child.stdout, text.feed, drained)
            with anyio.move_on_after(timeout) as waiting:
                await child.process.wait()
            timed_out = waiting.cancelled_caught
            # Timed out: the group gets a grace period. Exited: what it left in the background is killed.
            await _end_group(child, grace=_TIMEOUT_GRACE_S if timed_out else 0.0, drained=drained)
            with anyio.move_on_after(_DRAIN_S):
                await drained.wait()
            group.cancel_scope.cancel()
    finally:
        await _dispose(child)
    output, truncated = text.finish()
    return CommandResult(
        exit_code=None if timed_out else child.process.returncode,
        output=output,
        truncated=truncated,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
    )


class TaskManager:
    """Background processes started by agents, kept separate from any one conversation turn."""

    def __init__(self, *, max_lines: int = 1000, max_line_chars: int = 2000, max_tasks: int = 20) -> None:
        self._max_lines = max(1, max_lines)
        self._max_line_chars = max(1, max_line_chars)
        self._max_tasks = max_tasks
        self._tasks: dict[str, _Task] = {}
        self._count = 0
        self._starting = 0
        self._group: anyio.abc.TaskGroup | None = None
        self._closing = False

    async def __aenter__(self) -> Self:
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing = True
        group, self._group = self._group, None
        try:
            with anyio.CancelScope(shield=True):
                await self.stop_all()
        finally:
            if group is not None:
                group.cancel_scope.cancel()
                await group.__aexit__(None, None, None)

    async def start(self, command: str, *, cwd: Path, env: Mapping[str, str], owner: str) -> TaskInfo:
        """Start `command` in the background; its output is kept for `output`. A `ToolError` when
        `max_tasks` tasks are running already, or the folder or shell cannot be used."""
        group = self._group
        if group is None or self._closing:
            raise RuntimeError("the TaskManager is not open: use it in `async with`")
        running = [task for task in self._tasks.values() if task.exit_code is None]
        if len(running) + self._starting >= self._max_tasks:
            yours = ", ".join(task.id for task in running if task.owner == owner) or "none"
            raise ToolError(
                f"{len(running)} background tasks are running, the most allowed ({self._max_tasks}); "
                f"stop one with task_stop before starting another (yours running: {yours})"
            )
        self._starting += 1
        try:
            child = await _spawn(command, cwd=cwd, env=env)
        finally:
            self._starting -= 1
        self._count += 1
        task = _Task(
            id=f"t{self._count}",
            command=command,
            owner=owner,
            child=child,
            started_at=datetime.now(UTC),
            lines=_LineRing(max_lines=self._max_lines, max_line_chars=self._max_line_chars),
        )
        self._tasks[task.id] = task
        group.start_soon(self._watch, task)
        self._forget_old()
        return task.info()

    def output(self, task_id: str, *, lines: int = 50, owner: str | None = None) -> str:
        """The task's last `lines` lines, under a line saying whether it is running or how it ended."""
        task = self._get(task_id, owner)
        shown = task.lines.last(max(1, lines))
        total = task.lines.total
        if not shown:
            body = "No output yet." if task.exit_code is None else "It wrote no output."
        elif len(shown) < total:
            body = f"Its last {len(shown)} of {total:,} lines:\n" + "\n".join(shown)
        else:
            body = "Its output:\n" + "\n".join(shown)
        return f"{_status(task)}\n{body}"

    async def stop(self, task_id: str, *, owner: str | None = None) -> TaskInfo:
        """Stop a task and everything it started: SIGTERM its group, up to 2 s, SIGKILL. A task that has
        exited already is left as it is."""
        task = self._get(task_id, owner)
        await self._stop(task)
        return task.info()

    async def stop_owner(self, owner: str) -> list[TaskInfo]:
        """Stop every running task of `owner` (its thread closed); the tasks stopped."""
        tasks = [task for task in self._tasks.values() if task.owner == owner and task.exit_code is None]
        await self._stop_many(tasks)
        return [task.info() for task in tasks]

    async def stop_all(self) -> None:
        """Stop every task."""
        await self._stop_many(list(self._tasks.values()))

    def list(self, owner: str | None = None) -> list[TaskInfo]:
        """The tasks remembered (of `owner`, when given), oldest first."""
        return [task.info() for task in self._tasks.values() if owner is None or task.owner == owner]

    async def _stop_many(self, tasks: list[_Task]) -> None:
        async with anyio.create_task_group() as group:
            for task in tasks:
                group.start_soon(self._stop, task)

    async def _stop(self, task: _Task) -> None:
        if task.exit_code is None:
            task.stopping = True
            await _end_group(task.child, grace=_STOP_GRACE_S, drained=task.drained)
        with anyio.move_on_after(_REAP_S + _DRAIN_S):  # its watcher reaps it and reads its last words
            await task.done.wait()

    async def _watch(self, task: _Task) -> None:
        """Read the task's output until its shell exits and the output ends; then nothing of it is left."""
        child = task.child
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_pump, child.stdout, task.lines.feed, task.drained)
                task.exit_code = await child.process.wait()
                # Exited by itself: what it left in the background is killed. Being stopped: `_stop` has
                # the group, so wait as long as it may take.
                if not task.stopping:
                    child.signal(signal.SIGKILL)
                with anyio.move_on_after(_DRAIN_S + (_STOP_GRACE_S if task.stopping else 0.0)):
                    await task.drained.wait()
                group.cancel_scope.cancel()
        finally:
            await _dispose(child)
            task.lines.close()
            task.done.set()

    def _get(self, task_id: str, owner: str | None) -> _Task:
        task = self._tasks.get(task_id)
        if task is not None and (owner is None or task.owner == owner):
            return task
        known = [task for task in self._tasks.values() if owner is None or task.owner == owner]
        if not known:
            raise ToolError(f"there is no task {task_id!r}, and no tasks have been started")
        listed = ", ".join(
            f"{task.id} ({'running' if task.exit_code is None else 'exited'})" for task in known
        )
        raise ToolError(f"there is no task {task_id!r}; the tasks are: {listed}")

    def _forget_old(self) -> None:
        exited = [task for task in self._tasks.values() if task.done.is_set()]
        for task in exited[: max(0, len(exited) - _KEEP_EXITED)]:
            del self._tasks[task.id]


# --- processes ------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Child:
    """A started shell: its process (also its group's id) and the write end of its watchdog's lifeline."""

    process: anyio.abc.Process
    lifeline: int  # -1 once closed
    ended: bool = False  # the group was SIGKILLed after the shell exited: its id may be reused, leave it

    @property
    def stdout(self) -> anyio.abc.ByteReceiveStream:
        assert self.process.stdout is not None
        return self.process.stdout

    def signal(self, sig: signal.Signals) -> None:
        if self.ended:
            return
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        if sig == signal.SIGKILL and self.process.returncode is not None:
            self.ended = True

    def cut_lifeline(self) -> None:
        if self.lifeline >= 0:
            os.close(self.lifeline)
            self.lifeline = -1


async def _spawn(command: str, *, cwd: Path, env: Mapping[str, str]) -> _Child:
    read_end, write_end = os.pipe()  # both not inheritable: only the launcher's stdin gets the read end
    started = False
    try:
        process = await anyio.open_process(
            [_SHELL, "-c", _LAUNCHER, _SHELL, command],
            stdin=read_end,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
        started = True
    except OSError as exc:
        raise ToolError(f"cannot run a command in {cwd}: {exc.strerror or exc}") from None
    finally:
        os.close(read_end)
        if not started:  # cancelled while starting: cutting the lifeline kills whatever did start
            os.close(write_end)
    return _Child(process=process, lifeline=write_end)


async def _end_group(child: _Child, *, grace: float, drained: anyio.Event) -> None:
    """SIGTERM the group and give it `grace` seconds (until the shell has exited and no process holds the
    output pipe), then SIGKILL whatever is left. A zombie does not hold the pipe, so this does not wait
    on processes nobody reaps."""
    if grace > 0:
        child.signal(signal.SIGTERM)
        with anyio.move_on_after(grace):
            await child.process.wait()
            await drained.wait()
    child.signal(signal.SIGKILL)


async def _dispose(child: _Child) -> None:
    """However we got here (cancellation included): the group killed, the shell reaped, the pipes closed."""
    with anyio.CancelScope(shield=True):
        child.signal(signal.SIGKILL)
        with anyio.move_on_after(_REAP_S):
            await child.process.wait()
        child.ended = True
        child.cut_lifeline()
        with anyio.move_on_after(_REAP_S):
            await child.process.aclose()


async def _pump(
    stream: anyio.abc.ByteReceiveStream, sink: Callable[[bytes], None], done: anyio.Event
) -> None:
    """Everything from `stream` into `sink`, until it ends; then `done`."""
    try:
        async for chunk in stream:
            sink(chunk)
    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
        pass
    finally:
        done.set()


# --- output ---------------------------------------------------------------------------------------------


class _CappedText:
    """Decoded text, of which the first half of `max_chars` and the last half are kept."""

    def __init__(self, max_chars: int) -> None:
        self._head_room = max(0, max_chars) // 2
        self._tail_room = max(0, max_chars) - self._head_room
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._head: list[str] = []
        self._head_len = 0
        self._tail: deque[str] = deque()
        self._tail_len = 0
        self._cut = 0

    def feed(self, data: bytes) -> None:
        self._add(self._decoder.decode(data))

    def finish(self) -> tuple[str, bool]:
        """The text, and whether its middle was cut."""
        self._add(self._decoder.decode(b"", final=True))
        tail = "".join(self._tail)
        extra = len(tail) - self._tail_room
        if extra > 0:
            tail = tail[extra:]
            self._cut += extra
        head = "".join(self._head)
        if not self._cut:
            return head + tail, False
        # Cut at line ends where one is near, so no half line stands beside the marker.
        end = head.rfind("\n", len(head) * 3 // 4) + 1
        start = tail.find("\n", 0, len(tail) // 4 + 1) + 1
        self._cut += len(head) - end if end else 0
        self._cut += start
        head = head[:end] if end else head + "\n"
        return f"{head}[… {self._cut:,} characters cut …]\n{tail[start:]}", True

    def _add(self, text: str) -> None:
        room = self._head_room - self._head_len
        if room > 0 and text:
            kept = text[:room]
            self._head.append(kept)
            self._head_len += len(kept)
            text = text[room:]
        if not text:
            return
        self._tail.append(text)
        self._tail_len += len(text)
        while self._tail and self._tail_len - len(self._tail[0]) >= self._tail_room:
            dropped = self._tail.popleft()
            self._tail_len -= len(dropped)
            self._cut += len(dropped)


class _LineRing:
    """The last `max_lines` lines of decoded output, each cut at `max_line_chars` (the cut marked)."""

    def __init__(self, *, max_lines: int, max_line_chars: int) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._max_line_chars = max_line_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""  # the line being written, its first `max_line_chars` characters
        self._partial_cut = 0  # how many more it has
        self.total = 0  # complete lines seen

    def feed(self, data: bytes) -> None:
        *complete, rest = self._decoder.decode(data).split("\n")
        for piece in complete:
            self._extend(piece)
            self._lines.append(self._take())
            self.total += 1
        self._extend(rest)

    def close(self) -> None:
        """The output ended: a last line without a newline counts as a line."""
        self._extend(self._decoder.decode(b"", final=True))
        if self._partial or self._partial_cut:
            self._lines.append(self._take())
            self.total += 1

    def last(self, count: int) -> list[str]:
        """The last `count` lines, the one being written included."""
        lines = list(self._lines)
        if self._partial or self._partial_cut:
            lines.append(_shown_line(self._partial, self._partial_cut))
        return lines[-count:]

    def _extend(self, piece: str) -> None:
        room = self._max_line_chars - len(self._partial)
        if room > 0:
            self._partial += piece[:room]
        self._partial_cut += max(0, len(piece) - max(0, room))

    def _take(self) -> str:
        line = _shown_line(self._partial, self._partial_cut)
        self._partial, self._partial_cut = "", 0
        return line


def _shown_line(text: str, cut: int) -> str:
    """A line as a terminal would leave it: what follows its last carriage return; the cut marked."""
    text = text.rstrip("\r")
    text = text[text.rfind("\r") + 1 :]
    return f"{text} [… {cut:,} more characters cut]" if cut else text


# --- tasks ----------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Task:
    id: str
    command: str
    owner: str
    child: _Child
    started_at: datetime
    lines: _LineRing
    exit_code: int | None = None
    stopping: bool = False  # `stop` ended it
    drained: anyio.Event = field(default_factory=anyio.Event)  # its output pipe reached its end
    done: anyio.Event = field(default_factory=anyio.Event)  # nothing of it is left

    def info(self) -> TaskInfo:
        return TaskInfo(
            id=self.id,
            command=self.command,
            owner=self.owner,
            pid=self.child.process.pid,
            started_at=self.started_at,
            exit_code=self.exit_code,
            running=self.exit_code is None,
        )


def _status(task: _Task) -> str:
    where = f"Task {task.id} (`{task.command}`, pid {task.child.process.pid})"
    code = task.exit_code
    if code is None:
        return f"{where} is running."
    how = "was stopped" if task.stopping else "exited"
    if code >= 0:
        return f"{where} {how} with exit code {code}."
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"{where} {how}: killed by {name}."
