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
    """One statement a worker thread runs; `cancel()` may come from any thread, before or during it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._interrupt: Callable[[], None] | None = None
        self.cancelled = False

    def attach(self, interrupt: Callable[[], None]) -> None:
        """How to stop what runs now; called by the driver code once it has a cursor or connection."""
        with self._lock:
            self._interrupt = interrupt
            cancelled = self.cancelled
        if cancelled:
            _call(interrupt)

    def detach(self) -> None:
        with self._lock:
            self._interrupt = None

    def check(self) -> None:
        """Raise `RunCancelled` if the statement was cancelled before it reached the database."""
        if self.cancelled:
            raise RunCancelled("The query was cancelled.")

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            interrupt = self._interrupt
        if interrupt is not None:
            _call(interrupt)


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
