"""Helpers for tests that run MCP servers as processes.

`npm_bin` finds the Node MCP servers and the MCP Inspector CLI that `bash scripts/ci/mcp_servers.sh` installs
into .cache/mcp-npm/ (or skips the test, saying how to install them); `http_server` runs a server that
listens on a local port for the length of a `with` block; `free_port` picks the port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NPM_BIN = REPO_ROOT / ".cache" / "mcp-npm" / "node_modules" / ".bin"
INSTALL_HINT = "run `bash scripts/ci/mcp_servers.sh` to install it (needs Node.js and npm)"

START_TIMEOUT = 20.0
STOP_GRACE = 3.0


def npm_bin(name: str) -> Path:
    """The path of `.cache/mcp-npm/node_modules/.bin/<name>`, or a skip saying how to install it."""
    path = NPM_BIN / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"{name} is not installed in {NPM_BIN.relative_to(REPO_ROOT)}; {INSTALL_HINT}")
    if shutil.which("node") is None:
        pytest.skip(f"{name} is installed but `node` is not on PATH")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def http_server(
    argv: Sequence[str | os.PathLike[str]],
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = START_TIMEOUT,
    cwd: Path | None = None,
) -> Generator[subprocess.Popen[bytes]]:
    """Run `argv` until 127.0.0.1:`port` accepts connections; yield the process; stop it afterwards.

    `env` holds variables set over this process's environment. The server runs in its own process group
    (so a wrapper's children go with it), its stdout and stderr to a temporary file. It fails the test,
    with that output, when the process exits or `timeout` seconds pass before the port opens. Stopping
    signals the group by the process's id: SIGTERM, then SIGKILL after 3 s.
    """
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [os.fspath(arg) for arg in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env} if env is not None else None,
            start_new_session=True,
            cwd=cwd,
        )
        try:
            _wait_for_port(process, port, timeout, log)
            yield process
        finally:
            _stop(process)


def _wait_for_port(process: subprocess.Popen[bytes], port: int, timeout: float, log: IO[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"{_describe(process)} exited with status {process.returncode} before listening on "
                f"127.0.0.1:{port}; its output:\n{_output(log)}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"{_describe(process)} did not listen on 127.0.0.1:{port} within {timeout:g} s; "
                f"its output:\n{_output(log)}"
            )
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group (its id is the group's); SIGKILL what is left of it after 3 s."""
    _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        # Reap the leader first: a zombie still counts as a member of the group.
        if process.poll() is not None and not _signal_group(process, 0):
            return
        time.sleep(0.05)
    _signal_group(process, signal.SIGKILL)
    process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> bool:
    """Send `signum` to the process's group; False when the group has no members left."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _describe(process: subprocess.Popen[bytes]) -> str:
    args = process.args
    return " ".join(map(str, args)) if isinstance(args, list) else str(args)


def _output(log: IO[bytes], limit: int = 20_000) -> str:
    log.flush()
    log.seek(0)
    text = log.read().decode("utf-8", "replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]
