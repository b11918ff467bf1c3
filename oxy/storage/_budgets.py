"""Budgets every process on one store shares: a token bucket per key, and leases on runs at once.

`oxy serve --workers N`, or N replicas sharing Postgres, keep one budget per API key this way rather
than one per process. A bucket is a row (`rate_buckets`: tokens, last refill) updated in the same
write transaction that reads it (`BEGIN IMMEDIATE` on SQLite, `SELECT ... FOR UPDATE` on Postgres).
A lease is a row per run (`run_leases`) naming the owner (the process) that holds it; leases of an
owner whose heartbeat has lapsed stop counting, so a killed process frees its runs' budget within
its lease (60 s), or at once for a process on this host that `mark_interrupted` finds gone.
"""

from __future__ import annotations

import math
import time

import sqlalchemy as sa

from oxy.storage._base import StoreBase
from oxy.storage._schema import owners, rate_buckets, run_leases, utcnow


class BudgetMethods(StoreBase):
    def take_token(self, key: str, *, rate: float, burst: int) -> float:
        """Take one token from `key`'s bucket (`burst` tokens, refilled at `rate` per second): 0.0 if
        one was there, else the seconds until one will be (nothing is taken then)."""
        now = time.time()
        with self._write() as connection:
            # The row, locked until commit. A new key's bucket is created full first (insert-if-missing,
            # then read again): two processes touching a new key at once can't both start from a full one.
            query = sa.select(rate_buckets.c.tokens, rate_buckets.c.updated).where(rate_buckets.c.key == key)
            row = connection.execute(query.with_for_update()).first()
            if row is None:
                missing = self._upsert(rate_buckets).values(key=key, tokens=float(burst), updated=now)
                connection.execute(missing.on_conflict_do_nothing(index_elements=[rate_buckets.c.key]))
                row = connection.execute(query.with_for_update()).one()
            tokens = min(float(burst), row.tokens + max(0.0, now - row.updated) * rate)
            if tokens < 1.0:
                return (1.0 - tokens) / rate if rate > 0 else math.inf
            # Never move `updated` back: a replica whose clock runs behind would refill tokens twice.
            connection.execute(
                rate_buckets.update()
                .where(rate_buckets.c.key == key)
                .values(tokens=tokens - 1.0, updated=max(now, row.updated))
            )
        return 0.0

    def acquire_lease(self, scope: str, *, cap: int, lease_id: str) -> int | None:
        """Hold one of `cap` leases on `scope` for this process: None when granted, else how many are
        held already (by live processes)."""
        now = utcnow()
        with self._write() as connection:
            if connection.dialect.name == "postgresql":  # one acquirer per scope at a time
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtext(:scope))"), {"scope": scope}
                )
            live = sa.exists().where(owners.c.id == run_leases.c.owner, owners.c.expires_at > now)
            held = connection.execute(
                sa.select(sa.func.count()).select_from(run_leases).where(run_leases.c.scope == scope, live)
            ).scalar_one()
            if held >= cap:
                return int(held)
            connection.execute(
                run_leases.insert().values(id=lease_id, scope=scope, owner=self._owner.id, acquired_at=now)
            )
        return None

    def release_lease(self, lease_id: str) -> None:
        with self._write() as connection:
            connection.execute(run_leases.delete().where(run_leases.c.id == lease_id))
