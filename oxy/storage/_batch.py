"""`Store.commit_writes`: many runs' queued writes in one transaction (what `StoreWriter` commits).

One transaction costs far more than one row (BEGIN IMMEDIATE, commit, a pooled connection, a worker
thread), so the writer gathers every pending thread, message, run, event and task output of the
whole process and writes them table by table, each table as one `executemany`.

The writes trust their caller on tenancy (the server checked the thread and the run are the
tenant's before queueing); foreign keys still refuse a message for a missing thread or an event for
a missing run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from oxy.storage._base import StoreBase
from oxy.storage._schema import events, messages, runs, task_outputs, threads

_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class NewThread:
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewMessages:
    """Messages appended to a thread; their `seq` continues from the stored ones when committed."""

    thread_id: str
    rows: list[dict[str, Any]]
    at: datetime


@dataclass(frozen=True, slots=True)
class NewRun:
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewEvents:
    """Event rows with their `seq` already set (the run's one `StoreSink` counts them)."""

    rows: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class FinishRun:
    run_id: str
    tenant: str
    status: str
    output: Any
    error: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class NewTaskOutput:
    run_id: str
    path: str
    output: Any
    at: datetime


Write = NewThread | NewMessages | NewRun | NewEvents | FinishRun | NewTaskOutput


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


class BatchMethods(StoreBase):
    def commit_writes(self, writes: Sequence[Write]) -> None:
        """Apply `writes` in one transaction: threads, runs, messages, events, finishes, task outputs.

        Within each table the order of `writes` is kept; across tables, parents come first, so a run
        created and finished in the same batch ends finished.
        """
        new_threads = [w.row for w in writes if isinstance(w, NewThread)]
        new_runs = [{**w.row, "owner": self._owner.id} for w in writes if isinstance(w, NewRun)]
        new_messages = [w for w in writes if isinstance(w, NewMessages)]
        new_events = [row for w in writes if isinstance(w, NewEvents) for row in w.rows]
        finishes = [w for w in writes if isinstance(w, FinishRun)]
        outputs = [w for w in writes if isinstance(w, NewTaskOutput)]
        with self._write() as connection:
            if new_threads:
                connection.execute(threads.insert(), new_threads)
            if new_runs:
                connection.execute(runs.insert(), new_runs)
            if new_messages:
                self._insert_messages(connection, new_messages)
            if new_events:
                connection.execute(events.insert(), new_events)
            if finishes:
                connection.execute(
                    runs.update()
                    .where(runs.c.id == sa.bindparam("b_id"), runs.c.tenant == sa.bindparam("b_tenant"))
                    .values(
                        status=sa.bindparam("b_status"),
                        output=sa.bindparam("b_output", type_=runs.c.output.type),
                        error=sa.bindparam("b_error"),
                        finished_at=sa.bindparam("b_at", type_=runs.c.finished_at.type),
                    ),
                    [
                        {
                            "b_id": f.run_id,
                            "b_tenant": f.tenant,
                            "b_status": f.status,
                            "b_output": f.output,
                            "b_error": f.error,
                            "b_at": f.at,
                        }
                        for f in finishes
                    ],
                )
            for out in outputs:
                insert = self._upsert(task_outputs)
                values = {"run_id": out.run_id, "path": out.path, "output": out.output, "finished_at": out.at}
                connection.execute(
                    insert.values(values).on_conflict_do_update(
                        index_elements=["run_id", "path"], set_={"output": out.output, "finished_at": out.at}
                    )
                )

    def _insert_messages(self, connection: sa.Connection, batches: list[NewMessages]) -> None:
        ids = list(dict.fromkeys(b.thread_id for b in batches))
        last: dict[str, int] = {}
        for chunk in _chunks(ids):
            query = (
                sa.select(messages.c.thread_id, sa.func.max(messages.c.seq))
                .where(messages.c.thread_id.in_(chunk))
                .group_by(messages.c.thread_id)
            )
            last.update({row[0]: row[1] for row in connection.execute(query)})
        rows: list[dict[str, Any]] = []
        touched: dict[str, datetime] = {}
        for batch in batches:
            seq = last.get(batch.thread_id, 0)
            for row in batch.rows:
                seq += 1
                rows.append({**row, "thread_id": batch.thread_id, "seq": seq, "created_at": batch.at})
            last[batch.thread_id] = seq
            touched[batch.thread_id] = batch.at
        if rows:
            connection.execute(messages.insert(), rows)
        connection.execute(
            threads.update()
            .where(threads.c.id == sa.bindparam("b_id"))
            .values(updated_at=sa.bindparam("b_at", type_=threads.c.updated_at.type)),
            [{"b_id": thread_id, "b_at": at} for thread_id, at in touched.items()],
        )
