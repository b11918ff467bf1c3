"""Workflow task outputs of server runs, kept in the run store under the run's tenant.

`run_workflow_file` records each finished task through a `TaskOutputStore`. Here the run itself is
created and finished by the run's `StoreSink`, so this store only records task outputs, queued with
the run's other writes (`RunWrites`); the server does not resume runs (`oxy run --retry` does, from
the same store).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oxy.storage import RunWrites, Store
from oxy.workflows.journal import RunRecord


class TenantTaskOutputs:
    def __init__(self, store: Store, writes: RunWrites, *, tenant: str) -> None:
        self._store = store
        self._writes = writes
        self._tenant = tenant

    def begin(self, run_id: str, workflow: str, *, variables: Mapping[str, Any]) -> None:
        return None  # the StoreSink creates the run at its run_started

    def record(self, run_id: str, workflow: str, task_path: str, output_json: Any) -> None:
        self._writes.record_task_output(run_id, task_path, output_json)

    def mark(self, run_id: str, status: str) -> None:
        return None  # the StoreSink finishes the run at its run_finished

    def load(self, run_id: str) -> dict[str, Any]:
        return {
            path: row.output for path, row in self._store.task_outputs(run_id, tenant=self._tenant).items()
        }

    def last_run(self, workflow: str) -> RunRecord | None:
        return None

    def last_failed(self, workflow: str) -> RunRecord | None:
        return None
