"""Stopping a statement that a worker thread is running: the seam between cancellation and drivers.

A run is cancelled (a timeout, a cancel request, a client gone, SIGTERM, Ctrl-C) on the event loop,
while its query blocks a worker thread inside the driver. The async side hands the thread a
`Statement`; the driver code `attach`es how to interrupt what it runs (DuckDB's `interrupt()`,
SQLite's `interrupt()`, PostgreSQL's cancel request, MySQL's `KILL QUERY`); `cancel()` calls it, at
once or as soon as it is attached. `Statements` tracks what a connector has running, so closing the
connector can interrupt them and wait for their threads before it frees the connection and its files.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager

from oxy.errors import RunCancelled

__all__ = ["Statement", "Statements"]

log = logging.getLogger(__name__)


class Statement:
    """One statement a worker thread runs; `cancel()` may come from any thread, before or during it.

    A driver's interrupt does nothing when no statement is running yet, so a cancel that lands between
    `attach` and the driver starting the statement would be lost: once cancelled, a daemon thread
    interrupts again every `RETRY_S` until the statement is detached. That thread, not the event loop or
    anyio's worker threads (a full pool would block it), also waits on network cancels."""

    RETRY_S = 0.05
    GIVE_UP_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._interrupt: Callable[[], None] | None = None
        self.cancelled = False
        self._interrupting = False

    def attach(self, interrupt: Callable[[], None]) -> None:
        """How to stop what is about to run; raises `RunCancelled` if the statement was cancelled already.
        Call `detach()` before the connection is handed to anyone else."""
        with self._lock:
            if self.cancelled:
                raise RunCancelled("The query was cancelled.")
            self._interrupt = interrupt

    def detach(self) -> None:
        """The statement ended: no interrupt reaches the connection after this returns (it waits for one
        in flight), so a pooled connection can serve the next query safely."""
        with self._lock:
            self._interrupt = None

    def check(self) -> None:
        """Raise `RunCancelled` if the statement was cancelled before it reached the database."""
        if self.cancelled:
            raise RunCancelled("The query was cancelled.")

    def cancel(self) -> None:
        """Mark it cancelled and interrupt it (in a daemon thread, again and again while it runs); returns at once."""
        with self._lock:
            self.cancelled = True
            if self._interrupting or self._interrupt is None:
                return
            self._interrupting = True
        threading.Thread(target=self._keep_interrupting, name="oxy-interrupt", daemon=True).start()

    def _keep_interrupting(self) -> None:
        deadline = time.monotonic() + self.GIVE_UP_S
        while time.monotonic() < deadline:
            with self._lock:  # held while interrupting: `detach` waits for it
                interrupt = self._interrupt
                if interrupt is None:
                    return
                _call(interrupt)
            time.sleep(self.RETRY_S)


class Statements:
    """The statements a connector is running, to interrupt them all and wait for them on close."""

    def __init__(self) -> None:
        self._running: set[Statement] = set()
        self._idle = threading.Condition()

    @contextmanager
    def running(self, statement: Statement | None) -> Generator[Statement]:
        statement = statement or Statement()
        with self._idle:
            self._running.add(statement)
        try:
            statement.check()
            yield statement
        finally:
            statement.detach()
            with self._idle:
                self._running.discard(statement)
                self._idle.notify_all()

    @property
    def running_count(self) -> int:
        with self._idle:
            return len(self._running)

    def cancel_all(self, *, wait_s: float = 5.0) -> bool:
        """Interrupt every running statement and wait up to `wait_s` for their threads; whether all ended."""
        with self._idle:
            running = list(self._running)
        for statement in running:
            statement.cancel()
        deadline = time.monotonic() + wait_s
        with self._idle:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True


def _call(interrupt: Callable[[], None]) -> None:
    try:
        interrupt()
    except Exception as exc:  # a driver that cannot interrupt now (the statement just ended): nothing to stop
        log.debug("interrupting a statement failed: %s", exc)
