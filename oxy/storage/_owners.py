"""Which process owns a `running` run, and whether that process is still alive.

Every open `Store` registers one row in `owners` (host, pid, `expires_at`) and a daemon thread
pushes `expires_at` forward every `lease_s / 3` seconds; `close()` deletes the row. A run records
the owner that started it. An owner is dead when its row is gone (closed), its lease has expired
(the process stopped heartbeating: killed, frozen, or its host is down), or it ran on this host
and its pid no longer exists (the fast path that lets `oxy run` right after a kill see it at once).
`mark_interrupted` turns the `running` runs of dead owners into `interrupted`; a live server sharing
Postgres keeps its runs because its lease stays fresh.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from oxy.storage._engine import writing
from oxy.storage._errors import StoreError
from oxy.storage._schema import owners, run_leases, runs, utcnow

log = logging.getLogger("oxy.storage")

INTERRUPTED_ERROR = "The process running it stopped before the run finished."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@dataclass(frozen=True, kw_only=True, slots=True)
class Owner:
    id: str
    host: str
    pid: int

    @classmethod
    def of_this_process(cls) -> Owner:
        return cls(id=uuid.uuid4().hex, host=socket.gethostname(), pid=os.getpid())

    def is_alive(self, row: sa.Row[Any], now: datetime) -> bool:
        """Whether the owner described by `row` (another Store) may still be running its runs."""
        if row.id == self.id:
            return True
        if row.expires_at < now:
            return False
        if row.host == self.host and os.name == "posix":  # os.kill(pid, 0) means something else on Windows
            return _pid_alive(row.pid)
        return True


def register(engine: sa.Engine, owner: Owner, lease: timedelta) -> None:
    now = utcnow()
    with writing(engine) as connection:
        updated = connection.execute(
            owners.update().where(owners.c.id == owner.id).values(expires_at=now + lease)
        )
        if updated.rowcount == 0:  # first time, or another process judged us dead and removed the row
            connection.execute(
                owners.insert().values(
                    id=owner.id, host=owner.host, pid=owner.pid, started_at=now, expires_at=now + lease
                )
            )


def unregister(engine: sa.Engine, owner: Owner) -> None:
    with writing(engine) as connection:
        connection.execute(run_leases.delete().where(run_leases.c.owner == owner.id))
        connection.execute(owners.delete().where(owners.c.id == owner.id))


def mark_interrupted(engine: sa.Engine, owner: Owner) -> int:
    """Remove dead owners, then mark `running` runs without a live owner `interrupted`; returns how many.

    The run update asks `owners` again in the same statement, rather than trusting the list read
    just before, so a process that registered and started a run in between is never swept up.
    """
    now = utcnow()
    with writing(engine) as connection:
        rows = connection.execute(sa.select(owners)).all()
        dead = [row.id for row in rows if not owner.is_alive(row, now)]
        if dead:
            connection.execute(run_leases.delete().where(run_leases.c.owner.in_(dead)))
            connection.execute(owners.delete().where(owners.c.id.in_(dead)))
        has_owner = sa.exists().where(owners.c.id == runs.c.owner)
        result = connection.execute(
            runs.update()
            .where(runs.c.status == "running", ~has_owner)
            .values(status="interrupted", error=INTERRUPTED_ERROR, finished_at=now)
        )
        return result.rowcount


class Heartbeat:
    """A daemon thread that keeps this process's owner row alive until `stop()`."""

    def __init__(self, engine: sa.Engine, owner: Owner, lease: timedelta) -> None:
        self._engine = engine
        self._owner = owner
        self._lease = lease
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="oxy-store-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = self._lease.total_seconds() / 3
        while not self._stopped.wait(interval):
            try:
                register(self._engine, self._owner, self._lease)
            except StoreError as error:  # the database is away; the next beat tries again
                log.warning("run store heartbeat failed: %s", error)
