"""`RunManager`: starts runs in the server's task group, bounds them, records them and their threads.

At most `max_concurrent_runs` execute at once; up to `max_queued_runs` more wait for a slot, and a
run past both is refused with 503 before anything starts. A run is accepted with its `run_started`
published at once (a queued run's client hears of it before it gets a slot), and its thread, user
message and run row queued for the store. Each run's events go to the run store through its
`StoreSink` on the process's `StoreWriter` (group commit: queued, committed within 50 ms with every
other run's writes; an `error` and the `run_finished` are committed before clients see them) and to
its `RunHandle`, which every client following the run reads. A run outlives the request that
started it: it stops when it ends, when its timeout passes, or when `RunHandle.cancel` is called (a
cancel request, a streaming client that went away without asking for `background`). Its writes are
all committed before its handle closes: before a non-streaming response returns, and before its
thread takes another run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from oxy.application.runner import agent_prompt_info, run_file
from oxy.application.runtime import Runtime
from oxy.errors import OxyError
from oxy.events.sinks import EventSink
from oxy.events.types import ErrorEvent, RunFinished, RunStarted, ToolResultEvent
from oxy.execution.agent_io import AgentRequest
from oxy.execution.context import Caller
from oxy.execution.input import InputAnswer, grant_key
from oxy.execution.run import new_run_id
from oxy.models.messages import AssistantMessage, Message, ToolMessage, UserMessage
from oxy.serve._catalog import Catalog, Entry
from oxy.serve._errors import ApiError
from oxy.serve._handle import HandleSink, RunHandle
from oxy.serve._input import Deadline, GivenAnswer, ServeInput, Waiters, answer_json
from oxy.serve._settings import ServeSettings
from oxy.serve._task_outputs import TenantTaskOutputs
from oxy.storage import AsyncStore, InputRequestRecord, RunWrites, StoreSink, StoreWriter
from oxy.storage._schema import utcnow

if TYPE_CHECKING:
    from oxy.events.otel import Tracing

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
    stream: bool = True
    """Whether the client reads the run's events as they come (SSE); a background run counts as read,
    since anyone may follow it. Otherwise its models answer whole, which is cheaper."""
    user: str | None = None
    """Who asked, as the request names them (the OpenAI endpoint's `user`), for the run's caller."""
    budget: str | None = None
    """Whose budget of runs at once it counts against (the API key's id); `None`: the tenant's."""
    resume: Sequence[Message] | None = None
    """A paused run resumed: what its agent did after the thread's last question (whose answer it
    goes on to write); the question is not recorded again."""
    answered: Mapping[str, GivenAnswer] = field(default_factory=dict[str, GivenAnswer])
    """A resumed run's answers, by the tool call that asked."""
    variant: str | None = None
    """Run this A/B variant of the agent (a resumed run: the one it paused in)."""
    can_answer: bool = True
    """Whether the client can answer the run's requests for a person (the OpenAI endpoint cannot:
    what would be asked is refused at once, saying how to allow it)."""


class RunManager:
    def __init__(
        self,
        *,
        runtime: Runtime,
        store: AsyncStore,
        writer: StoreWriter,
        settings: ServeSettings,
        task_group: TaskGroup,
        tracing: Tracing | None = None,
    ) -> None:
        self.runtime = runtime
        self._tracing = tracing
        self.store = store
        self.writer = writer
        self._settings = settings
        self._tg = task_group
        self._slots = anyio.CapacityLimiter(settings.max_concurrent_runs)
        self._admitted = 0
        self.active: dict[str, RunHandle] = {}
        self._busy_threads: dict[str, str] = {}
        """Threads with a run going, and whose they are (their tenant)."""
        self._closing: str | None = None
        self.waiters = Waiters()

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
        if request.thread_id is not None:
            await self._ending(request.thread_id, tenant=request.tenant)
        settings = self._settings
        if self._closing is not None:
            raise ApiError(503, "The server is shutting down; try again on another one or shortly.")
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
        busy_for = self._busy_threads.get(request.thread_id) if request.thread_id is not None else None
        if busy_for is not None:
            # Another tenant's thread reads exactly like a missing one: 404, never 409.
            if busy_for != request.tenant:
                raise ApiError(404, f"There is no thread {request.thread_id!r}.")
            raise ApiError(409, f"Thread {request.thread_id!r} already has a run going; wait for it to end.")
        lease = None if self._settings.max_runs_per_key is None else new_run_id()
        self._admitted += 1  # before any await: the capacity check above must count this run
        try:
            if lease is not None:
                await self._lease(request, lease)
            handle = RunHandle(
                run_id=new_run_id(),
                tenant=request.tenant,
                target=entry.path,
                kind=entry.kind,
                background=request.background,
            )
            history = await self._read_thread(handle, request)
            writes = self.writer.run_writes()
            self._record_thread(handle, request, writes)
            store = StoreSink(writes, tenant=handle.tenant, kind=handle.kind, thread_id=handle.thread_id)
            trace = (
                None
                if self._tracing is None
                else self._tracing.sink(conversation_id=handle.thread_id or handle.run_id)
            )
            sink = HandleSink(handle, store, streams_text=request.stream or request.background, trace=trace)
            prompt = self._prompt(handle, request.variant)
            handle.variant = prompt.get("variant") if prompt is not None else None
            started = RunStarted(
                run_id=handle.run_id, target=handle.target, input=_input(request, history), prompt=prompt
            )
            await sink.emit(started)  # queued for the store, published at once
        except BaseException:
            self._admitted -= 1
            if lease is not None:
                await self._release(lease, why="its run did not start")
            raise
        if handle.thread_id is not None:
            self._busy_threads[handle.thread_id] = handle.tenant
        self.active[handle.run_id] = handle
        self._tg.start_soon(self._drive, handle, request, history, sink, writes, lease)
        return handle

    def _prompt(self, handle: RunHandle, variant: str | None = None) -> dict[str, Any] | None:
        """The prompt an agent run uses, its A/B variant picked by the thread (sticky) or at random;
        None for workflows, and where the agent does not load (the run reports why)."""
        if handle.kind != "agent":
            return None
        try:
            return agent_prompt_info(
                self.runtime.root / handle.target, runtime=self.runtime, key=handle.thread_id, variant=variant
            )
        except OxyError:
            return None

    async def _lease(self, request: RunRequest, lease: str) -> None:
        """Take `lease` on one of the key's `max_runs_per_key` runs, in the store every process shares."""
        cap = self._settings.max_runs_per_key
        assert cap is not None
        held = await self.store.acquire_lease(
            f"runs:{request.budget or request.tenant}", cap=cap, lease_id=lease
        )
        if held is not None:
            raise ApiError(
                429,
                f"This API key has {held} runs going, its limit (--max-runs-per-key {cap}); "
                "wait for one to finish and try again.",
                headers={"Retry-After": "1"},
            )

    async def _release(self, lease: str, *, why: str) -> None:
        """Give `lease` back (a no-op when it was never taken); a store that is away only logs."""
        with anyio.CancelScope(shield=True):
            try:
                await self.store.release_lease(lease)
            except OxyError as exc:  # it lapses with this process's heartbeat
                log.warning("a run budget lease (%s) stays until it lapses: %s", why, exc)

    async def _read_thread(self, handle: RunHandle, request: RunRequest) -> Sequence[Message]:
        """The history of the thread the run continues (checked to be the tenant's), else the caller's."""
        if request.entry.kind != "agent" or request.thread_id is None:
            return request.history
        thread = await self.store.get_thread(request.thread_id, tenant=request.tenant)
        if thread is None:
            raise ApiError(404, f"There is no thread {request.thread_id!r}.")
        stored = await self.store.thread_messages(thread.id, tenant=request.tenant)
        handle.thread_id = thread.id
        history = [m.to_message() for m in stored]
        if request.resume is not None:  # the question the paused run answers is the thread's last
            last = max((i for i, m in enumerate(history) if isinstance(m, UserMessage)), default=len(history))
            history = history[:last]
        return history

    def _record_thread(self, handle: RunHandle, request: RunRequest, writes: RunWrites) -> None:
        """Queue a new thread (unless the run continues one, or records none) and the user's message."""
        if request.entry.kind != "agent":
            return
        prompt = request.prompt or ""
        if handle.thread_id is None and request.record_thread:
            title = prompt if len(prompt) <= 80 else prompt[:79] + "…"
            thread = writes.create_thread(tenant=request.tenant, agent=request.entry.path, title=title)
            handle.thread_id = thread.id
        if handle.thread_id is not None and request.resume is None:
            writes.add_messages(handle.thread_id, [UserMessage(content=prompt)])

    async def _drive(
        self,
        handle: RunHandle,
        request: RunRequest,
        history: Sequence[Message],
        sink: HandleSink,
        writes: RunWrites,
        lease: str | None,
    ) -> None:
        try:
            with handle.scope:
                async with self._slots:
                    handle.status = "running"
                    handle.timeout_s = self._settings.run_timeout_s
                    handle.scope.deadline = anyio.current_time() + handle.timeout_s
                    await self._execute(handle, request, history, sink, writes)
            with anyio.CancelScope(shield=True):
                if handle.finished is None:  # cancelled before the run began, or before run_executable's try
                    await _record_abandoned(handle, sink.store)
                await writes.commit()
        except OxyError as exc:  # the store failed under the run: clients still hear how it ended
            log.warning("run %s: %s", handle.run_id, exc)
            if handle.finished is None:
                _close_without_store(handle, exc)
        finally:
            if lease is not None:
                await self._release(lease, why=f"run {handle.run_id} ended")
            self._admitted -= 1
            if handle.thread_id is not None:
                self._busy_threads.pop(handle.thread_id, None)
            self.active.pop(handle.run_id, None)
            handle.close()

    async def _execute(
        self,
        handle: RunHandle,
        request: RunRequest,
        history: Sequence[Message],
        sink: HandleSink,
        writes: RunWrites,
    ) -> None:

        path = self.runtime.root / handle.target
        caller = Caller(tenant=handle.tenant, user=request.user, thread_id=handle.thread_id)
        try:
            result = await run_file(
                path,
                runtime=self.runtime,
                prompt=request.prompt,
                history=history,
                variables=request.variables,
                sink=sink,
                run_id=handle.run_id,
                caller=caller,
                variant=handle.variant,
                input_channel=self._input_channel(handle, request),
                resume=request.resume or (),
                task_outputs=(
                    TenantTaskOutputs(self.store.sync, writes, tenant=handle.tenant)
                    if handle.kind == "workflow"
                    else None
                ),
            )
        except OxyError as exc:
            if not sink.engine_started:  # failed before it started (a bad file, bad variables)
                await _fail_unstarted(sink, handle, exc)
                return
            raise
        except Exception as exc:  # a bug (in oxy, in a plugin's tool): this run fails, the server goes on
            log.exception("run %s failed with an unexpected error", handle.run_id)
            message = f"The run failed with an unexpected error ({type(exc).__name__}: {exc}); the server log has the details."
            await sink.emit(ErrorEvent(error_type="InternalError", message=message))
            await sink.emit(RunFinished(run_id=handle.run_id, status="error", error=message))
            return
        if result.answer is not None and handle.thread_id is not None:
            # The thread continues from what the agent returned, not from the order its events came in.
            writes.add_messages(handle.thread_id, list(result.answer.new_messages))

    async def answer_input(
        self, run_id: str, request_id: str, answer: InputAnswer, *, tenant: str, catalog: Catalog
    ) -> tuple[str, bool]:
        """Answer a run's request for input: the waiting run goes on (in this process or another), or,
        when no process runs it any more (the server restarted), it is resumed as a new run. Returns
        the id of the run that goes on and whether it was resumed."""
        stored = await self._pending_request(run_id, request_id, answer, tenant=tenant)
        if run_id in self.active or await self._running_elsewhere(run_id, tenant=tenant):
            await self._close_answered(stored, answer)
            self.waiters.deliver(request_id, answer)  # else another worker's run finds it in the store
            return run_id, False
        resumed = await self._with_finished_calls(stored, self._resumption(stored, catalog=catalog))
        await self._check_thread(stored, resumed)
        await self._close_answered(
            stored, answer, others_note="the run was resumed by another answer, and asks again"
        )
        try:
            handle = await self.start(
                dataclasses.replace(
                    resumed,
                    answered={
                        stored.call_id: GivenAnswer(tool=stored.tool, subject=stored.subject, answer=answer)
                    }
                    if stored.call_id is not None
                    else {},
                )
            )
        except BaseException:
            with anyio.CancelScope(shield=True):  # not acted on: it can be answered again
                await self.store.reopen_input_request(request_id, tenant=tenant)
            raise
        log.info("run %s resumed as run %s after request %s was answered", run_id, handle.run_id, request_id)
        return handle.run_id, True

    async def _pending_request(
        self, run_id: str, request_id: str, answer: InputAnswer, *, tenant: str
    ) -> InputRequestRecord:
        """The request, checked to be the run's, still pending, and answered the way its kind takes."""
        stored = await self.store.get_input_request(request_id, tenant=tenant)
        if stored is None or stored.run_id != run_id:
            raise ApiError(404, f"Run {run_id!r} has no request for input {request_id!r}.")
        if stored.status != "pending":
            code = 410 if stored.status == "expired" else 409
            raise ApiError(code, f"Request {request_id!r} is {stored.status} already.")
        if stored.expires_at is not None and stored.expires_at < utcnow():
            await self.store.close_input_request(
                request_id, tenant=tenant, status="expired", answer={"approved": False, "note": "expired"}
            )
            raise ApiError(410, f"Request {request_id!r} expired at {stored.expires_at.isoformat()}.")
        if stored.kind == "question" and answer.text is None:
            raise ApiError(422, "A question is answered with `answer`: the text of the answer.")
        if stored.kind == "permission" and answer.text is not None:
            raise ApiError(
                422, "A tool call is approved or refused with `approve` (true or false), not `answer`."
            )
        return stored

    async def _close_answered(
        self, stored: InputRequestRecord, answer: InputAnswer, *, others_note: str | None = None
    ) -> None:
        grant = (
            grant_key(stored.tool, stored.subject)
            if answer.always and answer.approved and stored.kind == "permission"
            else None
        )
        closed = await self.store.close_input_request(
            stored.id,
            tenant=stored.tenant,
            status="answered",
            answer=answer_json(answer),
            grant_key=grant,
            others_note=others_note,
        )
        if not closed:
            raise ApiError(409, f"Request {stored.id!r} was answered (or expired) just now.")

    async def _running_elsewhere(self, run_id: str, *, tenant: str) -> bool:
        """Whether another live server process runs it (one that died has its runs marked first)."""
        await self.store.mark_interrupted()
        run = await self.store.get_run(run_id, tenant=tenant)
        return run is not None and run.status == "running"

    def _resumption(self, stored: InputRequestRecord, *, catalog: Catalog) -> RunRequest:
        """The run that goes on from where `stored` paused, or an `ApiError` saying why there is none."""
        transcript = list(stored.transcript)
        last = max((i for i, m in enumerate(transcript) if isinstance(m, UserMessage)), default=None)
        if last is None:
            raise ApiError(
                409,
                f"Run {stored.run_id!r} is no longer going and cannot be resumed from request {stored.id!r} "
                "(it was asked inside a nested agent or a workflow); run it again.",
            )
        question = transcript[last]
        assert isinstance(question, UserMessage)
        return RunRequest(
            tenant=stored.tenant,
            entry=catalog.agent(stored.target),
            prompt=question.content,
            thread_id=stored.thread_id,
            history=transcript[1:last],
            record_thread=stored.thread_id is not None,
            background=True,
            user=stored.user,
            resume=transcript[last + 1 :],
            variant=stored.variant,
        )

    async def _with_finished_calls(self, stored: InputRequestRecord, resumed: RunRequest) -> RunRequest:
        """`resumed`, with the results of the paused turn's calls that finished before the server
        stopped (the run's stored `tool_result` events): the resumed run does not run them again."""
        turn = next((m for m in reversed(resumed.resume or ()) if isinstance(m, AssistantMessage)), None)
        if turn is None:
            return resumed
        calls = {call.id for call in turn.tool_calls} - {stored.call_id}
        have = {m.tool_call_id for m in resumed.resume or () if isinstance(m, ToolMessage)}
        finished: list[Message] = []
        for item in await self.store.events(stored.run_id, tenant=stored.tenant):
            event = item.event
            if (
                isinstance(event, ToolResultEvent)
                and len(event.source) <= 1  # the run's own agent, not one it called
                and event.call_id in calls - have
            ):
                have.add(event.call_id)
                finished.append(
                    ToolMessage(
                        tool_call_id=event.call_id,
                        content=event.content,
                        name=event.name,
                        is_error=event.is_error,
                    )
                )
        return (
            dataclasses.replace(resumed, resume=[*(resumed.resume or ()), *finished]) if finished else resumed
        )

    async def _check_thread(self, stored: InputRequestRecord, resumed: RunRequest) -> None:
        """The paused question must still be the thread's last message: a conversation that went on
        since cannot take the old turn's answer."""
        if stored.thread_id is None:
            return
        if stored.thread_id in self._busy_threads:
            raise ApiError(409, f"Thread {stored.thread_id!r} already has a run going; wait for it to end.")
        messages = await self.store.thread_messages(stored.thread_id, tenant=stored.tenant)
        last = messages[-1].to_message() if messages else None
        if not isinstance(last, UserMessage) or last.content != resumed.prompt:
            raise ApiError(
                409,
                f"Thread {stored.thread_id!r} went on since run {stored.run_id!r} paused; the request "
                f"{stored.id!r} can no longer be answered.",
            )

    async def _ending(self, thread_id: str, *, tenant: str) -> None:
        """Wait (a few seconds at most) for the thread's run that has already finished to let the
        thread go: a client that read its `run_finished` and asks the next question at once gets
        the thread, not a 409, and the next run reads every message the last one kept."""
        for handle in list(self.active.values()):
            if handle.thread_id == thread_id and handle.tenant == tenant and handle.ending:
                with anyio.move_on_after(5):
                    await handle.done.wait()

    def _input_channel(self, handle: RunHandle, request: RunRequest) -> ServeInput | None:
        if not request.can_answer:
            return None
        return ServeInput(
            store=self.store,
            waiters=self.waiters,
            tenant=handle.tenant,
            target=handle.target,
            thread_id=handle.thread_id,
            user=request.user,
            variant=handle.variant,
            timeout_s=self._settings.input_timeout_s,
            answered=dict(request.answered),
            shutting_down=lambda: self._closing is not None,
            deadline=Deadline(handle.scope),
        )

    def cancel_all(self, reason: str) -> None:
        """Cancel every run now (a shutdown began) and admit no more: each tells its followers how it
        ended, one log line each."""
        self._closing = reason
        for handle in list(self.active.values()):
            if not handle.scope.cancel_called:
                log.info("run %s (%s) cancelled: %s", handle.run_id, handle.target, reason)
            handle.cancel(reason)

    async def shutdown(self) -> None:
        """Cancel every run and wait until each has recorded how it ended."""
        self.cancel_all("The server shut down before the run finished.")
        for handle in list(self.active.values()):
            await handle.done.wait()


def _input(request: RunRequest, history: Sequence[Message]) -> Any:
    """The run's input, as the engine's `run_started` would carry it."""
    if request.entry.kind == "agent":
        return AgentRequest(prompt=request.prompt or "", history=tuple(history))
    return dict(request.variables)


async def _record_abandoned(handle: RunHandle, sink: StoreSink) -> None:
    """A run stopped before its `run_finished`: stored as cancelled, and its followers told so."""
    reason = handle.cancel_reason or "The run was cancelled before it started."
    finished = RunFinished(run_id=handle.run_id, status="cancelled", error=reason)
    try:
        await sink.emit(finished)
    finally:
        handle.publish(finished)


async def _fail_unstarted(sink: EventSink, handle: RunHandle, exc: OxyError) -> None:
    """The run failed before the engine started it (a bad file, bad variables): its error, its end."""
    await sink.emit(ErrorEvent(error_type=type(exc).__name__, message=str(exc)))
    await sink.emit(RunFinished(run_id=handle.run_id, status="error", error=str(exc)))


def _close_without_store(handle: RunHandle, exc: OxyError) -> None:
    error = ErrorEvent(error_type=type(exc).__name__, message=str(exc))
    if not handle.events:
        handle.publish(RunStarted(run_id=handle.run_id, target=handle.target))
    handle.publish(error)
    handle.publish(RunFinished(run_id=handle.run_id, status="error", error=str(exc)))
