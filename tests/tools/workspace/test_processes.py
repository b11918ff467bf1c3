"""Shell commands and background tasks (`oxy.tools.workspace.processes`), run for real: exit codes,
output caps, a clean environment, and above all that no process is left behind, checked by pid."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

from oxy.errors import ToolError
from oxy.tools.workspace.processes import TaskManager, run_command

pytestmark = pytest.mark.anyio

PY = sys.executable
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}


def _alive(pid: int) -> bool:
    """Whether `pid` runs. A zombie does not: here nobody may reap orphans (PID 1 in a container)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: os.kill is all there is
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _assert_gone(*pids: int, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [pid for pid in pids if _alive(pid)] == []


async def _pids_in(path: Path, count: int) -> list[int]:
    """The pids a command wrote to `path`, one a line, once it has written `count` of them."""
    with anyio.fail_after(5):
        while True:
            lines = path.read_text().split() if path.exists() else []
            if len(lines) >= count:
                return [int(line) for line in lines]
            await anyio.sleep(0.02)


async def _wait_for(predicate: Callable[[], bool], *, within: float = 5.0) -> None:
    with anyio.fail_after(within):
        while not predicate():
            await anyio.sleep(0.02)


# --- run_command ----------------------------------------------------------------------------------------


async def test_exit_code_and_interleaved_output(tmp_path: Path) -> None:
    result = await run_command(
        "echo out; echo err >&2; echo again; exit 3", cwd=tmp_path, env=ENV, timeout=10, max_chars=1000
    )
    assert result.exit_code == 3
    assert result.output == "out\nerr\nagain\n"
    assert not result.truncated and not result.timed_out
    assert 0 < result.seconds < 5


async def test_cwd_stdin_and_undecodable_bytes(tmp_path: Path) -> None:
    # stdin is /dev/null: `cat` ends at once instead of waiting.
    result = await run_command(
        "pwd; cat; printf 'bad \\377 byte\\n'", cwd=tmp_path, env=ENV, timeout=10, max_chars=1000
    )
    assert result.exit_code == 0
    assert result.output == f"{tmp_path}\nbad \ufffd byte\n"


async def test_environment_is_exactly_the_one_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXY_SECRET_FROM_PARENT", "leaked")
    result = await run_command(
        "env", cwd=tmp_path, env={**ENV, "ONLY": "this one"}, timeout=10, max_chars=10_000
    )
    names = {line.split("=", 1)[0] for line in result.output.splitlines()}
    assert "ONLY=this one" in result.output.splitlines()
    # What bash itself sets (PWD, SHLVL, `_`) and nothing of oxy's.
    assert names - {"PWD", "OLDPWD", "SHLVL", "_"} == {"PATH", "LC_ALL", "ONLY"}


async def test_output_cap_keeps_head_and_tail(tmp_path: Path) -> None:
    result = await run_command("seq 1 200000", cwd=tmp_path, env=ENV, timeout=10, max_chars=1000)
    assert result.exit_code == 0 and result.truncated
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.endswith("199999\n200000\n")
    marker = re.search(r"\n\[… ([\d,]+) characters cut …\]\n", result.output)
    assert marker is not None
    full = sum(len(f"{i}\n") for i in range(1, 200001))
    kept = len(result.output) - len(marker.group(0)) + 1  # the newline before the marker is output's
    assert int(marker.group(1).replace(",", "")) == full - kept
    assert len(result.output) < 1100


async def test_gigabytes_of_output_cost_little(tmp_path: Path) -> None:
    # ~1 GB through the pipe: read as it comes (no deadlock), kept to the cap.
    result = await run_command(
        "head -c 1000000000 /dev/zero | tr '\\0' x; echo; echo done",
        cwd=tmp_path,
        env=ENV,
        timeout=30,
        max_chars=2000,
    )
    assert result.exit_code == 0 and result.truncated
    assert result.output.endswith("x\ndone\n")
    assert len(result.output) < 2100


async def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    result = await run_command(
        f"echo $$ > {pids}; sleep 30 & echo $! >> {pids}; echo started; sleep 30; wait",
        cwd=tmp_path,
        env=ENV,
        timeout=0.5,
        max_chars=1000,
    )
    assert result.timed_out and result.exit_code is None
    assert result.output == "started\n"
    assert result.seconds < 3
    _assert_gone(*await _pids_in(pids, 2))


async def test_timeout_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    result = await run_command(
        # An ignored signal stays ignored through exec: both shell and sleep shrug SIGTERM off.
        f"trap '' TERM; echo $$ > {pids}; sleep 30 & echo $! >> {pids}; sleep 30",
        cwd=tmp_path,
        env=ENV,
        timeout=0.3,
        max_chars=1000,
    )
    assert result.timed_out
    assert 1.0 < time.monotonic() - started < 4  # the 1 s grace, then SIGKILL
    _assert_gone(*await _pids_in(pids, 2))


async def test_cancellation_kills_the_whole_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = f"echo $$ > {pids}; sleep 30 & echo $! >> {pids}; sleep 30; wait"
    found: list[int] = []
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: run_command(command, cwd=tmp_path, env=ENV, timeout=60, max_chars=1000))
        found = await _pids_in(pids, 2)
        assert all(_alive(pid) for pid in found)
        group.cancel_scope.cancel()
    _assert_gone(*found)


async def test_what_a_command_leaves_running_is_killed(tmp_path: Path) -> None:
    # `server &` in the bash tool: the shell's exit ends the call (even though the background process
    # holds the output pipe) and the process goes with it.
    result = await run_command("sleep 30 & echo $!", cwd=tmp_path, env=ENV, timeout=10, max_chars=1000)
    assert result.exit_code == 0 and not result.timed_out
    assert result.seconds < 3
    _assert_gone(int(result.output))


async def test_a_folder_that_is_missing_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="cannot run a command in"):
        await run_command("true", cwd=tmp_path / "missing", env=ENV, timeout=5, max_chars=100)


# --- TaskManager ----------------------------------------------------------------------------------------

_SERVER = f"'{PY}' -m http.server 0 --bind 127.0.0.1 & echo child $!; wait"


async def test_a_dev_server_runs_answers_and_stops(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("hello from the task")
    async with TaskManager() as tasks:
        info = await tasks.start(
            _SERVER, cwd=tmp_path, env={**ENV, "PYTHONUNBUFFERED": "1"}, owner="thread-1"
        )
        assert info.id == "t1" and info.running and info.exit_code is None and info.owner == "thread-1"
        assert info.started_at.tzinfo is not None
        await _wait_for(lambda: "Serving HTTP" in tasks.output("t1"))
        shown = tasks.output("t1")
        assert shown.splitlines()[0].endswith("is running.")
        child = int(re.findall(r"child (\d+)", shown)[0])
        port = int(re.findall(r"port (\d+)", shown)[0])
        async with httpx.AsyncClient(trust_env=False) as http:
            response = await http.get(f"http://127.0.0.1:{port}/index.html")
        assert response.text == "hello from the task"
        await _wait_for(lambda: "GET /index.html" in tasks.output("t1"))  # its stderr, into the same lines
        assert _alive(info.pid) and _alive(child)

        stopped = await tasks.stop("t1", owner="thread-1")
        assert not stopped.running and stopped.exit_code is not None
        _assert_gone(info.pid, child)
        assert "t1" in tasks.output("t1") and "was stopped" in tasks.output("t1").splitlines()[0]
        assert await tasks.stop("t1") == stopped  # again: nothing to do


async def test_output_keeps_the_last_lines_each_cut(tmp_path: Path) -> None:
    script = "for i in $(seq 1 30); do echo line $i; done; printf '%0100d\\n' 7; printf 'partial'; exit 5"
    async with TaskManager(max_lines=10, max_line_chars=20) as tasks:
        await tasks.start(script, cwd=tmp_path, env=ENV, owner="a")
        await _wait_for(lambda: not tasks.list()[0].running)
        await anyio.sleep(0.1)
        shown = tasks.output("t1", lines=3).splitlines()
        assert shown[0].endswith("exited with exit code 5.")
        assert shown[1] == "Its last 3 of 32 lines:"
        assert shown[2:] == ["line 30", "0" * 20 + " [… 80 more characters cut]", "partial"]
        assert len(tasks.output("t1", lines=1000).splitlines()) == 2 + 10  # the ring holds 10


async def test_output_shows_a_line_being_written(tmp_path: Path) -> None:
    async with TaskManager() as tasks:
        await tasks.start("printf 'Password: '; sleep 30", cwd=tmp_path, env=ENV, owner="a")
        await _wait_for(lambda: tasks.output("t1").endswith("\nPassword: "))


async def test_progress_lines_keep_what_follows_the_last_carriage_return(tmp_path: Path) -> None:
    async with TaskManager() as tasks:
        await tasks.start("printf '10%%\\r50%%\\r100%%\\r\\n'", cwd=tmp_path, env=ENV, owner="a")
        await _wait_for(lambda: not tasks.list()[0].running)
        await anyio.sleep(0.1)
        assert tasks.output("t1").splitlines()[-1] == "100%"


async def test_stop_owner_stops_only_that_owners_tasks(tmp_path: Path) -> None:
    async with TaskManager() as tasks:
        a1 = await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="a")
        b1 = await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="b")
        a2 = await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="a")
        stopped = await tasks.stop_owner("a")
        assert sorted(info.id for info in stopped) == [a1.id, a2.id]
        assert all(not info.running for info in stopped)
        _assert_gone(a1.pid, a2.pid)
        assert [info.running for info in tasks.list("b")] == [True]
        assert _alive(b1.pid)
        assert [info.id for info in tasks.list()] == ["t1", "t2", "t3"]
    _assert_gone(b1.pid)


async def test_unknown_or_foreign_task_is_a_tool_error(tmp_path: Path) -> None:
    async with TaskManager() as tasks:
        with pytest.raises(ToolError, match="no tasks have been started"):
            tasks.output("t1")
        await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="a")
        await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="b")
        with pytest.raises(ToolError, match=r"no task 't9'; the tasks are: t1 \(running\)$"):
            tasks.output("t9", owner="a")
        with pytest.raises(ToolError, match="no task 't2'"):  # another owner's: as if it did not exist
            tasks.output("t2", owner="a")
        with pytest.raises(ToolError, match="no task 't2'"):
            await tasks.stop("t2", owner="a")
        assert tasks.list("b")[0].running


async def test_too_many_tasks_is_a_tool_error(tmp_path: Path) -> None:
    async with TaskManager(max_tasks=2) as tasks:
        await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="a")
        await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="b")
        with pytest.raises(
            ToolError, match=r"most allowed \(2\); stop one with task_stop .*yours running: t1"
        ):
            await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="a")
        await tasks.stop("t1")
        assert (await tasks.start("sleep 30", cwd=tmp_path, env=ENV, owner="a")).id == "t3"


async def test_leaving_the_manager_stops_every_task(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    async with TaskManager() as tasks:
        for owner in ("a", "b"):
            await tasks.start(f"sleep 30 & echo $! >> {pids}; sleep 30", cwd=tmp_path, env=ENV, owner=owner)
        # One that shrugs SIGTERM off gets SIGKILL after the grace period.
        await tasks.start(
            f"trap '' TERM; sleep 30 & echo $! >> {pids}; wait", cwd=tmp_path, env=ENV, owner="c"
        )
        shells = [info.pid for info in tasks.list()]
        children = await _pids_in(pids, 3)
        assert all(_alive(pid) for pid in [*shells, *children])
    assert all(not info.running for info in tasks.list())
    _assert_gone(*shells, *children)
    with pytest.raises(RuntimeError, match="not open"):
        await tasks.start("true", cwd=tmp_path, env=ENV, owner="a")


def test_tasks_die_with_oxy_however_it_dies(tmp_path: Path) -> None:
    """SIGKILL the process that holds the manager: nothing it started survives (the watchdog)."""
    script = textwrap.dedent(
        f"""
        import sys, anyio
        from pathlib import Path
        from oxy.tools.workspace.processes import TaskManager, run_command

        async def main():
            async with TaskManager() as tasks:
                await tasks.start("sleep 60 & echo $! > {tmp_path}/task; wait", cwd=Path("."), env={ENV!r}, owner="a")
                await run_command("sleep 60 & echo $! > {tmp_path}/command; wait", cwd=Path("."), env={ENV!r}, timeout=60, max_chars=100)

        anyio.run(main)
        """
    )
    oxy = subprocess.Popen([PY, "-c", script], cwd=Path(__file__).resolve().parents[3])
    try:
        deadline = time.monotonic() + 10
        while not ((tmp_path / "task").exists() and (tmp_path / "command").exists()):
            assert oxy.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.1)
        children = [int((tmp_path / name).read_text()) for name in ("task", "command")]
        assert all(_alive(pid) for pid in children)
        os.kill(oxy.pid, signal.SIGKILL)
        oxy.wait()
        _assert_gone(*children)
    finally:
        if oxy.poll() is None:
            oxy.kill()
            oxy.wait()
