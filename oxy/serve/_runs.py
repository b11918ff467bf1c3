"""`RunManager`: starts runs in the server's task group, bounds them, records them and their threads.

At most `max_concurrent_runs` execute at once; up to `max_queued_runs` more wait for a slot, and a
run past both is refused with 503 before anything starts. Each run's events go to the run store
(through `StoreSink`, committed before clients see them) and to its `RunHandle`, which every client
following the run reads. A run outlives the request that started it: it stops when it ends, when
its timeout passes, or when `RunHandle.cancel` is called (a cancel request, a streaming client that
went away without asking for `background`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from oxy.errors import OxyError
from oxy.execution.events import ErrorEvent, Event, RunFinished, RunStarted, StepStarted
from oxy.execution.run import new_run_id
from oxy.execution.sinks import EventSink
from oxy.models.messages import AssistantMessage, Message, UserMessage
from oxy.runtime import Runtime
from oxy.serve._catalog import Entry
from oxy.serve._errors import ApiError
from oxy.serve._handle import HandleSink, RunHandle
from oxy.serve._settings import ServeSettings
from oxy.serve._transcript import agent_messages
from oxy.storage import AsyncStore, StoreSink

log = logging.getLogger("oxy.serve")


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """What to run, for whom. Agents take `prompt` (and `history`); workflows take `variables`."""

    tenant: str
    entry: Entry
    prompt: str | None = None
    variables: dict[str, Any] = field(default_factory=dict[str, Any])
    thread_id: str | None = None
    """Continue this thread (agents); `None` starts a new one unless `record_thread` is False."""
    history: Sequence[Message] = ()
    """Earlier messages given by the caller (the OpenAI endpoint), used when there is no thread."""
    record_thread: bool = True
    background: bool = False


class RunManager:
    def __init__(
        self, *, runtime: Runtime, store: AsyncStore, settings: ServeSettings, task_group: TaskGroup
    ) -> None:
        self.runtime = runtime
        self.store = store
        self._settings = settings
        self._tg = task_group
        self._slots = anyio.CapacityLimiter(settings.max_concurrent_runs)
        self._admitted = 0
        self.active: dict[str, RunHandle] = {}
        self._busy_threads: set[str] = set()

    @property
    def running(self) -> int:
        return int(self._slots.borrowed_tokens)

    @property
    def queued(self) -> int:
        return self._admitted - self.running

    def get(self, run_id: str, *, tenant: str) -> RunHandle | None:
        handle = self.active.get(run_id)
        return handle if handle is not None and handle.tenant == tenant else None

    async def start(self, request: RunRequest) -> RunHandle:
        """Admit the run, prepare its thread, and start it; it runs on after the caller returns."""
        settings = self._settings
        if self._admitted >= settings.max_concurrent_runs + settings.max_queued_runs:
            raise ApiError(
                503,
                f"The server is at capacity: {self.running} runs executing and {self.queued} queued "
                f"(--max-concurrent-runs {settings.max_concurrent_runs}, --max-queued-runs "
                f"{settings.max_queued_runs}); try again shortly.",
                headers={"Retry-After": "1"},
            )
        entry = request.entry
        if entry.error is not None:
            raise ApiError(422, f"{entry.kind.capitalize()} {entry.name!r} does not load: {entry.error}")
        if request.thread_id is not None and request.thread_id in self._busy_threads:
            raise ApiError(409, f"Thread {request.thread_id!r} already has a run going; wait for it to end.")
        self._admitted += 1
        try:
            handle = RunHandle(
                run_id=new_run_id(),
                tenant=request.tenant,
                target=entry.path,
                kind=entry.kind,
                background=request.background,
            )
            history = await self._prepare_thread(handle, request)
        except BaseException:
            self._admitted -= 1
            raise
        if handle.thread_id is not None:
            self._busy_threads.add(handle.thread_id)
        self.active[handle.run_id] = handle
        self._tg.start_soon(self._drive, handle, request, history)
        return handle

    async def _prepare_thread(self, handle: RunHandle, request: RunRequest) -> Sequence[Message]:
        if request.entry.kind != "agent":
            return ()
        prompt = request.prompt or ""
        history: Sequence[Message] = request.history
        if request.thread_id is not None:
            thread = await self.store.get_thread(request.thread_id, tenant=request.tenant)
            if thread is None:
                raise ApiError(404, f"There is no thread {request.thread_id!r}.")
            stored = await self.store.thread_messages(thread.id, tenant=request.tenant)
            history = [m.to_message() for m in stored]
            handle.thread_id = thread.id
        elif request.record_thread:
            title = prompt if len(prompt) <= 80 else prompt[:79] + "…"
            thread = await self.store.create_thread(
                tenant=request.tenant, agent=request.entry.path, title=title
            )
            handle.thread_id = thread.id
        if handle.thread_id is not None:
            await self.store.add_messages(
                handle.thread_id, [UserMessage(content=prompt)], tenant=request.tenant
            )
        return history

    async def _drive(self, handle: RunHandle, request: RunRequest, history: Sequence[Message]) -> None:
        try:
            with handle.scope:
                async with self._slots:
                    handle.status = "running"
                    handle.timeout_s = self._settings.run_timeout_s
                    handle.scope.deadline = anyio.current_time() + handle.timeout_s
                    await self._execute(handle, request, history)
            if handle.finished is None:  # cancelled before the run began, or before run_executable's try
                await self._record_abandoned(handle)
        except OxyError as exc:  # the store failed under the run: clients still hear how it ended
            log.warning("run %s: %s", handle.run_id, exc)
            if handle.finished is None:
                _close_without_store(handle, exc)
        finally:
            self._admitted -= 1
            if handle.thread_id is not None:
                self._busy_threads.discard(handle.thread_id)
            self.active.pop(handle.run_id, None)
            handle.close()

    async def _execute(self, handle: RunHandle, request: RunRequest, history: Sequence[Message]) -> None:
        from oxy.runner import run_agent_file
        from oxy.serve._task_outputs import TenantTaskOutputs
        from oxy.workflows.run import run_workflow_file

        store_sink = StoreSink(self.store, tenant=handle.tenant, kind=handle.kind, thread_id=handle.thread_id)
        sink = HandleSink(handle, store_sink)
        path = self.runtime.root / handle.target
        try:
            if handle.kind == "agent":
                result = await run_agent_file(
                    path,
                    runtime=self.runtime,
                    prompt=request.prompt,
                    history=history,
                    sink=sink,
                    run_id=handle.run_id,
                )
            else:
                outputs = TenantTaskOutputs(self.store.sync, tenant=handle.tenant)
                result = await run_workflow_file(
                    path,
                    runtime=self.runtime,
                    variables=request.variables,
                    sink=sink,
                    run_id=handle.run_id,
                    store=outputs,
                )
        except OxyError as exc:
            if not handle.events:  # failed before it started (a bad file, bad variables)
                await _fail_unstarted(sink, handle, exc)
                return
            raise
        if result.status == "ok" and handle.kind == "agent" and handle.thread_id is not None:
            await self._append_answer(handle, result.output)

    async def _append_answer(self, handle: RunHandle, output: Any) -> None:
        events = [p.event for p in handle.events]
        step = next((e for e in events if isinstance(e, StepStarted) and len(e.source) == 1), None)
        new = agent_messages(events, source=step.source) if step is not None else []
        answer = "" if output is None else str(output)
        last = new[-1] if new else None
        if not (isinstance(last, AssistantMessage) and last.content == answer and not last.tool_calls):
            new.append(AssistantMessage(content=answer))
        assert handle.thread_id is not None
        await self.store.add_messages(handle.thread_id, new, tenant=handle.tenant)

    async def _record_abandoned(self, handle: RunHandle) -> None:
        """A run stopped before its `run_finished`: stored as cancelled, and its followers told so."""
        reason = handle.cancel_reason or "The run was cancelled before it started."
        finished = RunFinished(run_id=handle.run_id, status="cancelled", error=reason)
        with anyio.CancelScope(shield=True):
            if await self.store.get_run(handle.run_id, tenant=handle.tenant) is None:
                sink = StoreSink(
                    self.store, tenant=handle.tenant, kind=handle.kind, thread_id=handle.thread_id
                )
                for event in _started_and_finished(handle, status="cancelled", error=reason):
                    await sink.emit(event)
                    if not (handle.events and isinstance(event, RunStarted)):
                        handle.publish(event)
                return
            await self.store.append_events(handle.run_id, [finished], tenant=handle.tenant)
            await self.store.finish_run(handle.run_id, tenant=handle.tenant, status="cancelled", error=reason)
            handle.publish(finished)

    async def shutdown(self) -> None:
        """Cancel every run and wait until each has recorded how it ended."""
        for handle in list(self.active.values()):
            handle.cancel("The server shut down before the run finished.")
        for handle in list(self.active.values()):
            await handle.done.wait()


def _started_and_finished(
    handle: RunHandle, *, status: Any, error: str, prefix: Sequence[Event] = ()
) -> list[Event]:
    started = RunStarted(run_id=handle.run_id, target=handle.target)
    return [started, *prefix, RunFinished(run_id=handle.run_id, status=status, error=error)]


async def _fail_unstarted(sink: EventSink, handle: RunHandle, exc: OxyError) -> None:
    error = ErrorEvent(error_type=type(exc).__name__, message=str(exc))
    for event in _started_and_finished(handle, status="error", error=str(exc), prefix=[error]):
        await sink.emit(event)


def _close_without_store(handle: RunHandle, exc: OxyError) -> None:
    error = ErrorEvent(error_type=type(exc).__name__, message=str(exc))
    if not handle.events:
        handle.publish(RunStarted(run_id=handle.run_id, target=handle.target))
    handle.publish(error)
    handle.publish(RunFinished(run_id=handle.run_id, status="error", error=str(exc)))
