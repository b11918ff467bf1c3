"""Runs, their events and their workflow task outputs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa

from oxy.events.types import Event, bounded_event, event_from_json
from oxy.storage._base import StoreBase
from oxy.storage._errors import NotFound
from oxy.storage._records import FAILED_STATES, FinalState, Run, RunEvent, RunKind, RunState, TaskOutput
from oxy.storage._schema import events, runs, task_outputs, threads, utcnow

_FINAL_STATES = ("ok", "error", "cancelled", "interrupted")
_KINDS = ("sql", "agent", "workflow")


def _run(row: sa.Row[Any]) -> Run:
    return Run(
        id=row.id,
        tenant=row.tenant,
        target=row.target,
        kind=cast(RunKind, row.kind),
        input=row.input,
        status=cast(RunState, row.status),
        error=row.error,
        output=row.output,
        started_at=row.started_at,
        finished_at=row.finished_at,
        thread_id=row.thread_id,
    )


def _task_output(row: sa.Row[Any]) -> TaskOutput:
    return TaskOutput(run_id=row.run_id, path=row.path, output=row.output, finished_at=row.finished_at)


def _run_columns() -> list[sa.Column[Any]]:
    return [column for column in runs.c if column.name != "owner"]


def _missing_run(run_id: str, tenant: str) -> NotFound:
    return NotFound(f"no run {run_id!r} for tenant {tenant!r}")


def _owned(connection: sa.Connection, run_id: str, tenant: str) -> None:
    """Raise `NotFound` unless `run_id` exists for `tenant`."""
    found = connection.execute(
        sa.select(runs.c.id).where(runs.c.id == run_id, runs.c.tenant == tenant)
    ).first()
    if found is None:
        raise _missing_run(run_id, tenant)


class RunMethods(StoreBase):
    def create_run(
        self,
        *,
        tenant: str,
        target: str,
        kind: RunKind,
        input: Any = None,
        thread_id: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """Record a run that starts now, `running` and owned by this process."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, not {kind!r}")
        run_id = run_id or uuid.uuid4().hex
        with self._write() as connection:
            if thread_id is not None:
                found = connection.execute(
                    sa.select(threads.c.id).where(threads.c.id == thread_id, threads.c.tenant == tenant)
                ).first()
                if found is None:
                    raise NotFound(f"no thread {thread_id!r} for tenant {tenant!r}")
            connection.execute(
                runs.insert().values(
                    id=run_id,
                    tenant=tenant,
                    target=target,
                    kind=kind,
                    input=input,
                    status="running",
                    started_at=utcnow(),
                    thread_id=thread_id,
                    owner=self._owner.id,
                )
            )
            return _run(connection.execute(sa.select(*_run_columns()).where(runs.c.id == run_id)).one())

    def finish_run(
        self,
        run_id: str,
        *,
        tenant: str,
        status: FinalState,
        output: Any = None,
        error: str | None = None,
    ) -> Run:
        """Record how a run ended; `error` is the one-line reason when it failed.

        A run another process marked `interrupted` (its owner looked dead) can still be finished by
        the process that ran it: the last word wins.
        """
        if status not in _FINAL_STATES:
            raise ValueError(f"a run finishes as one of {_FINAL_STATES}, not {status!r}")
        with self._write() as connection:
            result = connection.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.tenant == tenant)
                .values(status=status, output=output, error=error, finished_at=utcnow())
                .returning(*_run_columns())
            ).first()
            if result is None:
                raise _missing_run(run_id, tenant)
            return _run(result)

    def get_run(self, run_id: str, *, tenant: str) -> Run | None:
        with self._read() as connection:
            row = connection.execute(
                sa.select(*_run_columns()).where(runs.c.id == run_id, runs.c.tenant == tenant)
            ).first()
        return None if row is None else _run(row)

    def list_runs(
        self,
        *,
        tenant: str,
        target: str | None = None,
        status: RunState | None = None,
        thread_id: str | None = None,
        limit: int = 100,
    ) -> list[Run]:
        """The tenant's runs, newest first, optionally of one target, status or thread."""
        query = sa.select(*_run_columns()).where(runs.c.tenant == tenant)
        if target is not None:
            query = query.where(runs.c.target == target)
        if status is not None:
            query = query.where(runs.c.status == status)
        if thread_id is not None:
            query = query.where(runs.c.thread_id == thread_id)
        query = query.order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        with self._read() as connection:
            return [_run(row) for row in connection.execute(query)]

    def last_failed_run(self, target: str, *, tenant: str) -> Run | None:
        """The newest run of `target` that ended in error, was cancelled or was interrupted."""
        query = (
            sa.select(*_run_columns())
            .where(runs.c.tenant == tenant, runs.c.target == target, runs.c.status.in_(FAILED_STATES))
            .order_by(runs.c.started_at.desc(), runs.c.id.desc())
            .limit(1)
        )
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _run(row)

    def append_events(self, run_id: str, batch: Sequence[Event], *, tenant: str) -> int:
        """Append `batch` to the run's events in one transaction; returns the last `seq`.

        One writer per run (its `StoreSink`): sequence numbers continue from the stored ones.
        """
        with self._write() as connection:
            _owned(connection, run_id, tenant)
            last = connection.execute(
                sa.select(sa.func.coalesce(sa.func.max(events.c.seq), 0)).where(events.c.run_id == run_id)
            ).scalar_one()
            if batch:
                connection.execute(
                    events.insert(),
                    [
                        {
                            "run_id": run_id,
                            "seq": last + i,
                            "kind": event.kind,
                            "payload": bounded_event(event)[1],
                        }
                        for i, event in enumerate(batch, start=1)
                    ],
                )
            return last + len(batch)

    def events(self, run_id: str, *, tenant: str, after: int = 0) -> list[RunEvent]:
        """The run's events in order, those with `seq > after` (for a client resuming a stream)."""
        query = (
            sa.select(events.c.seq, events.c.payload)
            .join(runs, runs.c.id == events.c.run_id)
            .where(events.c.run_id == run_id, runs.c.tenant == tenant, events.c.seq > after)
            .order_by(events.c.seq)
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [RunEvent(run_id=run_id, seq=row.seq, event=event_from_json(row.payload)) for row in rows]

    def record_task_output(self, run_id: str, path: str, output: Any, *, tenant: str) -> TaskOutput:
        """Record that task `path` of a workflow run finished with `output` (replacing an earlier one)."""
        finished_at = utcnow()
        values = {"run_id": run_id, "path": path, "output": output, "finished_at": finished_at}
        with self._write() as connection:
            _owned(connection, run_id, tenant)
            insert = self._upsert(task_outputs)
            connection.execute(
                insert.values(values).on_conflict_do_update(
                    index_elements=["run_id", "path"], set_={"output": output, "finished_at": finished_at}
                )
            )
            row = connection.execute(
                sa.select(task_outputs).where(task_outputs.c.run_id == run_id, task_outputs.c.path == path)
            ).one()
        return _task_output(row)

    def task_outputs(self, run_id: str, *, tenant: str) -> dict[str, TaskOutput]:
        """The run's finished tasks by path, in the order they finished."""
        query = (
            sa.select(task_outputs)
            .join(runs, runs.c.id == task_outputs.c.run_id)
            .where(task_outputs.c.run_id == run_id, runs.c.tenant == tenant)
            .order_by(task_outputs.c.finished_at, task_outputs.c.path)
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        return {row.path: _task_output(row) for row in rows}
