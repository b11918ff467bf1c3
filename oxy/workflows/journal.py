"""Recording finished task outputs, so a failed or crashed run can resume where it stopped.

`TaskOutputStore` is the seam: `JsonlTaskOutputStore` keeps runs under `.oxy/runs/` in the project
(one fsync'd line per finished task, so a crash loses nothing that finished); the project's run store
can stand in for it. A `Journal` is one run's view: it records each finished task by its path
(`schedules/0/metrics/1/report`) and hands back the outputs of the run being resumed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from oxy.workflows.codec import decode, encode

__all__ = ["Journal", "JsonlTaskOutputStore", "RunRecord", "TaskOutputStore"]

RESUMABLE = ("error", "cancelled", "running")
"""Statuses a run can be resumed from; `running` is a run whose process died before it ended."""


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


class JsonlTaskOutputStore:
    """Runs as JSON lines under `folder`: `index.jsonl` (runs and statuses) and `<run_id>.jsonl` (outputs)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    @classmethod
    def for_project(cls, root: Path) -> JsonlTaskOutputStore:
        return cls(root / ".oxy" / "runs")

    def begin(self, run_id: str, workflow: str, *, variables: Mapping[str, Any]) -> None:
        self._append(
            "index.jsonl",
            {
                "run_id": run_id,
                "workflow": workflow,
                "status": "running",
                "variables": encode(dict(variables)),
                "ts": time.time(),
            },
        )

    def record(self, run_id: str, workflow: str, task_path: str, output_json: Any) -> None:
        self._append(f"{run_id}.jsonl", {"task": task_path, "output": output_json})

    def mark(self, run_id: str, status: str) -> None:
        self._append("index.jsonl", {"run_id": run_id, "status": status, "ts": time.time()})

    def load(self, run_id: str) -> dict[str, Any]:
        return {line["task"]: line["output"] for line in self._read(f"{run_id}.jsonl")}

    def last_run(self, workflow: str) -> RunRecord | None:
        runs: dict[str, RunRecord] = {}
        for line in self._read("index.jsonl"):
            run_id = str(line.get("run_id", ""))
            if "workflow" in line:
                runs[run_id] = RunRecord(
                    run_id=run_id,
                    workflow=line["workflow"],
                    status=line.get("status", "running"),
                    variables=decode(line.get("variables") or {}),
                    started_at=line.get("ts", 0.0),
                )
            elif run_id in runs:
                old = runs.pop(run_id)  # re-insert: a later status keeps the start order
                runs[run_id] = RunRecord(
                    run_id=run_id,
                    workflow=old.workflow,
                    status=line["status"],
                    variables=old.variables,
                    started_at=old.started_at,
                )
        mine = [r for r in runs.values() if r.workflow == workflow]
        return max(mine, key=lambda r: r.started_at) if mine else None

    def last_failed(self, workflow: str) -> RunRecord | None:
        last = self.last_run(workflow)
        return last if last is not None and last.status in RESUMABLE else None

    def _append(self, name: str, obj: Mapping[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / name, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())

    def _read(self, name: str) -> list[dict[str, Any]]:
        try:
            text = (self.folder / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        lines: list[dict[str, Any]] = []
        for raw in text.splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:  # a line cut short by a crash: everything before it is intact
                continue
        return lines


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

    def record(self, task_path: str, output: Any) -> None:
        if self._store is not None:
            self._store.record(self.run_id, self.workflow, task_path, encode(output))
