"""Recording finished task outputs, so a failed or crashed run can resume where it stopped.

`TaskOutputStore` is the seam; `StoreTaskOutputs` keeps runs in the project's run store
(`oxy.storage`, `.oxy/oxy.db` by default), one committed row per finished task. A `Journal` is one run's view: it records each finished task by its path
(`schedules/0/metrics/1/report`) and hands back the outputs of the run being resumed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from oxy.workflows.codec import decode, encode

if TYPE_CHECKING:
    from oxy.storage import FinalState, Store

__all__ = ["Journal", "RunRecord", "StoreTaskOutputs", "TaskOutputStore"]

RESUMABLE = ("error", "cancelled", "interrupted", "running")
"""Statuses a run can be resumed from: `interrupted` (or still `running`) is a run whose process died."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    run_id: str
    workflow: str
    status: str
    variables: Mapping[str, Any] = field(default_factory=dict[str, Any])
    started_at: float = 0.0


class TaskOutputStore(Protocol):
    """Where runs and their finished task outputs (JSON-ready objects) are kept."""

    def begin(self, run_id: str, workflow: str, *, variables: Mapping[str, Any]) -> None: ...

    def record(self, run_id: str, workflow: str, task_path: str, output_json: Any) -> None: ...

    def mark(self, run_id: str, status: str) -> None: ...

    def load(self, run_id: str) -> dict[str, Any]:
        """Every recorded output of the run, by task path."""
        ...

    def last_run(self, workflow: str) -> RunRecord | None: ...

    def last_failed(self, workflow: str) -> RunRecord | None:
        """The latest run of `workflow` if it did not finish (error, cancelled or crashed), else None."""
        ...


class StoreTaskOutputs:
    """`TaskOutputStore` over the project's run store (`oxy.storage`): the run, its variables and each
    finished task's output are rows there, committed as they happen, so a crash loses nothing that
    finished; a run whose process died is marked `interrupted` the next time the store opens."""

    def __init__(self, store: Store, *, tenant: str | None = None) -> None:
        from oxy.storage import LOCAL_TENANT  # lazy: SQLAlchemy loads only for runs that record

        self.store = store
        self.tenant = tenant or LOCAL_TENANT

    def begin(self, run_id: str, workflow: str, *, variables: Mapping[str, Any]) -> None:
        self.store.create_run(
            tenant=self.tenant, target=workflow, kind="workflow", input=encode(dict(variables)), run_id=run_id
        )

    def record(self, run_id: str, workflow: str, task_path: str, output_json: Any) -> None:
        self.store.record_task_output(run_id, task_path, output_json, tenant=self.tenant)

    def mark(self, run_id: str, status: str) -> None:
        final: FinalState = "ok" if status == "ok" else "cancelled" if status == "cancelled" else "error"
        self.store.finish_run(run_id, tenant=self.tenant, status=final)

    def load(self, run_id: str) -> dict[str, Any]:
        outputs = self.store.task_outputs(run_id, tenant=self.tenant)
        return {path: row.output for path, row in outputs.items()}

    def last_run(self, workflow: str) -> RunRecord | None:
        runs = self.store.list_runs(tenant=self.tenant, target=workflow, limit=1)
        if not runs:
            return None
        run = runs[0]
        return RunRecord(
            run_id=run.id,
            workflow=run.target,
            status=run.status,
            variables=decode(run.input or {}),
            started_at=run.started_at.timestamp(),
        )

    def last_failed(self, workflow: str) -> RunRecord | None:
        last = self.last_run(workflow)
        return last if last is not None and last.status in RESUMABLE else None


class Journal:
    """One run's record of finished tasks, and the outputs of the run it resumes (by task path)."""

    def __init__(
        self,
        *,
        run_id: str,
        workflow: str,
        store: TaskOutputStore | None = None,
        replay: Mapping[str, Any] | None = None,
    ) -> None:
        self.run_id = run_id
        self.workflow = workflow
        self._store = store
        self._replay = dict(replay or {})

    def replayed(self, task_path: str) -> tuple[bool, Any]:
        """`(True, output)` when the resumed run finished this task."""
        if task_path in self._replay:
            return True, decode(self._replay[task_path])
        return False, None

    async def record(self, task_path: str, output: Any) -> None:
        """Commit a finished task's output, in a worker thread: a commit waits on the disk."""
        if self._store is not None:
            record = functools.partial(
                self._store.record, self.run_id, self.workflow, task_path, encode(output)
            )
            await anyio.to_thread.run_sync(record)
