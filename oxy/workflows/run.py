"""Running a workflow file as a whole run, recorded so that it can be resumed.

`run_workflow_file(path, runtime=, variables=)` runs every task and records each finished task's
output (in the project's run store, `oxy.storage`, unless another store is given). With `retry=True`
it resumes the workflow's last failed run: finished tasks are replayed from the record, the failed
one and those after it run. `retry_from="task"` re-runs the last run from that top-level task on.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from oxy.errors import ConfigError
from oxy.events.sinks import EventSink
from oxy.execution.context import Caller
from oxy.execution.input import InputChannel
from oxy.execution.run import RunResult, new_run_id, run_executable
from oxy.execution.runtime import RuntimeHandle
from oxy.workflows._registry import AgentFactory
from oxy.workflows.builder import build_workflow
from oxy.workflows.journal import Journal, RunRecord, StoreTaskOutputs, TaskOutputStore

if TYPE_CHECKING:
    from oxy.storage import Store

__all__ = ["run_workflow_file"]


async def run_workflow_file(
    path: Path | str,
    *,
    runtime: RuntimeHandle,
    agents: AgentFactory,
    variables: Mapping[str, Any] | None = None,
    sink: EventSink | None = None,
    run_id: str | None = None,
    retry: bool = False,
    retry_from: str | None = None,
    store: TaskOutputStore | None = None,
    caller: Caller | None = None,
    input_channel: InputChannel | None = None,
) -> RunResult[dict[str, Any]]:
    """Run the workflow at `path` (absolute, or relative to the project root); see the module doc."""
    opened: Store | None = None
    if store is None:
        from oxy.storage import Store  # lazy: SQLAlchemy loads only for runs that record

        # Opening the store may migrate it, and every store call below commits: all in worker threads.
        opened = await anyio.to_thread.run_sync(functools.partial(Store.open, project_root=runtime.root))
        store = StoreTaskOutputs(opened)
    try:
        return await _run(
            path,
            runtime=runtime,
            agents=agents,
            variables=variables,
            sink=sink,
            run_id=run_id,
            retry=retry,
            retry_from=retry_from,
            store=store,
            caller=caller,
            input_channel=input_channel,
        )
    finally:
        if opened is not None:
            with anyio.CancelScope(shield=True):  # a cancelled run still closes its store
                await anyio.to_thread.run_sync(opened.close)


async def _run(
    path: Path | str,
    *,
    runtime: RuntimeHandle,
    agents: AgentFactory,
    variables: Mapping[str, Any] | None,
    sink: EventSink | None,
    run_id: str | None,
    retry: bool,
    retry_from: str | None,
    store: TaskOutputStore,
    caller: Caller | None,
    input_channel: InputChannel | None = None,
) -> RunResult[dict[str, Any]]:
    project = runtime.project
    rel = project.relative(path)
    config = project.workflow(rel)
    given = dict(variables or {})
    replay: dict[str, Any] = {}
    if retry or retry_from is not None:
        previous = await anyio.to_thread.run_sync(
            functools.partial(_previous_run, store, rel, retry_from=retry_from)
        )
        given = {**previous.variables, **given}
        replay = await anyio.to_thread.run_sync(store.load, previous.run_id)
        if retry_from is not None:
            replay = _before(replay, [task.name for task in config.tasks], retry_from, file=rel)
    run_id = run_id or new_run_id()
    journal = Journal(run_id=run_id, workflow=rel, store=store, replay=replay)
    executable = build_workflow(config, file=rel, runtime=runtime, agents=agents, journal=journal)
    await anyio.to_thread.run_sync(functools.partial(store.begin, run_id, rel, variables=given))
    try:
        result = await run_executable(
            executable,
            given,
            target=rel,
            sink=sink,
            runtime=runtime,
            caller=caller,
            run_id=run_id,
            input_channel=input_channel,
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(store.mark, run_id, "cancelled")
        raise
    await anyio.to_thread.run_sync(store.mark, run_id, result.status)
    return result


def _previous_run(store: TaskOutputStore, workflow: str, *, retry_from: str | None) -> RunRecord:
    if retry_from is not None:
        found = store.last_run(workflow)
        if found is None:
            raise ConfigError(f"--retry-from: {workflow} has not been run yet; run it first", file=workflow)
        return found
    found = store.last_failed(workflow)
    if found is None:
        last = store.last_run(workflow)
        why = (
            " has not been run yet"
            if last is None
            else f"'s last run ({last.run_id}) finished with status {last.status!r}"
        )
        raise ConfigError(
            f"--retry: {workflow}{why}; nothing to resume (use --retry-from TASK to re-run part of it)"
        )
    return found


def _before(replay: Mapping[str, Any], tasks: list[str], task: str, *, file: str) -> dict[str, Any]:
    """The recorded outputs of the tasks before `task` (and everything inside them)."""
    if task not in tasks:
        close = difflib.get_close_matches(task, tasks, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else f"; its tasks: {', '.join(tasks)}"
        raise ConfigError(f"--retry-from: the workflow has no top-level task {task!r}{hint}", file=file)
    keep = set(tasks[: tasks.index(task)])
    return {path: output for path, output in replay.items() if path.split("/", 1)[0] in keep}
