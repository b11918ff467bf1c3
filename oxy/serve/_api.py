"""`/api`: agents, workflows, their runs, and threads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import JSONResponse, Response

from oxy.application.threads import close_thread as stop_thread_tasks
from oxy.events.types import event_to_json
from oxy.execution.input import InputAnswer
from oxy.serve._auth import Principal
from oxy.serve._catalog import Entry
from oxy.serve._errors import ApiError
from oxy.serve._handle import RunHandle
from oxy.serve._runs import RunRequest
from oxy.serve._schemas import (
    AgentInfo,
    AgentRunBody,
    InputBody,
    InputResult,
    MemoryInfo,
    RunInfo,
    RunResult,
    TaskInfoBody,
    ThreadInfo,
    WorkflowInfo,
    WorkflowRunBody,
)
from oxy.serve._server import Server, principal_of, server_of
from oxy.serve._sse import EventStream
from oxy.serve._streams import live_stream, run_headers, stored_messages

router = APIRouter(prefix="/api")
ServerDep = Annotated[Server, Depends(server_of)]
PrincipalDep = Annotated[Principal, Depends(principal_of)]


@router.get("/agents", response_model=list[AgentInfo])
async def list_agents(server: ServerDep) -> list[AgentInfo]:
    return [
        AgentInfo(name=e.name, path=e.path, description=e.description, type=e.type, error=e.error)
        for e in server.catalog.agents.values()
    ]


@router.get("/workflows", response_model=list[WorkflowInfo])
async def list_workflows(server: ServerDep) -> list[WorkflowInfo]:
    return [
        WorkflowInfo(
            name=e.name, path=e.path, description=e.description, variables=e.variables, error=e.error
        )
        for e in server.catalog.workflows.values()
    ]


async def _respond(server: Server, handle: RunHandle, *, stream: bool, background: bool) -> Response:
    if background:
        body = RunResult(run_id=handle.run_id, thread_id=handle.thread_id, status="running")
        return JSONResponse(body.model_dump(mode="json"), status_code=202, headers=run_headers(handle))
    if stream:
        return live_stream(handle, cancel_on_disconnect=True)
    await handle.done.wait()
    return JSONResponse(_result(handle).model_dump(mode="json"), headers=run_headers(handle))


def _result(handle: RunHandle) -> RunResult:
    finished = handle.finished
    status = finished.status if finished is not None else "error"
    return RunResult(
        run_id=handle.run_id,
        thread_id=handle.thread_id,
        status=status,
        output=finished.output if finished is not None else None,
        error=finished.error if finished is not None else "The run ended without a result.",
    )


_RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "`text/event-stream` (stream: true) or the run's result (stream: false)"},
    202: {"model": RunResult, "description": "Started in the background (background: true)"},
}


@router.post("/agents/{name:path}/runs", response_model=RunResult, responses=_RUN_RESPONSES)
async def run_agent(name: str, body: AgentRunBody, server: ServerDep, principal: PrincipalDep) -> Response:
    entry = server.catalog.agent(name)
    request = RunRequest(
        tenant=principal.tenant,
        entry=entry,
        prompt=body.prompt,
        thread_id=body.thread_id,
        background=body.background,
        user=body.user,
        budget=principal.key_id,
        stream=body.stream,
    )
    handle = await server.manager.start(request)
    return await _respond(server, handle, stream=body.stream, background=body.background)


@router.post("/workflows/{name:path}/runs", response_model=RunResult, responses=_RUN_RESPONSES)
async def run_workflow(
    name: str, body: WorkflowRunBody, server: ServerDep, principal: PrincipalDep
) -> Response:
    entry: Entry = server.catalog.workflow(name)
    request = RunRequest(
        tenant=principal.tenant,
        entry=entry,
        variables=body.variables,
        background=body.background,
        user=body.user,
        budget=principal.key_id,
        stream=body.stream,
    )
    handle = await server.manager.start(request)
    return await _respond(server, handle, stream=body.stream, background=body.background)


@router.get("/runs", response_model=list[RunInfo])
async def list_runs(
    server: ServerDep,
    principal: PrincipalDep,
    target: str | None = None,
    thread_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RunInfo]:
    store = await server.settled()
    runs = await store.list_runs(tenant=principal.tenant, target=target, thread_id=thread_id, limit=limit)
    return [RunInfo.of(run) for run in runs]


def _queued(handle: RunHandle) -> RunInfo:
    return RunInfo(
        run_id=handle.run_id,
        kind=handle.kind,
        target=handle.target,
        thread_id=handle.thread_id,
        status="queued",
        started_at=None,
        finished_at=None,
    )


def _missing_run(run_id: str) -> ApiError:
    return ApiError(404, f"There is no run {run_id!r}.")


@router.get("/runs/{run_id}", response_model=RunInfo)
async def get_run(run_id: str, server: ServerDep, principal: PrincipalDep) -> RunInfo:
    handle = server.manager.get(run_id, tenant=principal.tenant)
    if handle is not None and handle.status == "queued":
        return _queued(handle)
    run = await (await server.settled()).get_run(run_id, tenant=principal.tenant)
    if run is None:
        raise _missing_run(run_id)
    return RunInfo.of(run)


@router.get(
    "/runs/{run_id}/events",
    responses={200: {"description": "A JSON list of events, or `text/event-stream` with follow=true"}},
)
async def run_events(
    run_id: str,
    server: ServerDep,
    principal: PrincipalDep,
    follow: bool = False,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Response:
    handle = server.manager.get(run_id, tenant=principal.tenant)
    if handle is not None:
        if follow:
            return live_stream(handle, cancel_on_disconnect=False, after=after)
        return Response(
            "[" + ",".join(p.json for p in handle.events[after:]) + "]", media_type="application/json"
        )
    store = await server.settled()
    if await store.get_run(run_id, tenant=principal.tenant) is None:
        raise _missing_run(run_id)
    if follow:
        return EventStream(stored_messages(store, run_id, tenant=principal.tenant, after=after))
    stored = await store.events(run_id, tenant=principal.tenant, after=after)

    return Response(
        "[" + ",".join(event_to_json(e.event) for e in stored) + "]", media_type="application/json"
    )


@router.post("/runs/{run_id}/cancel", response_model=RunInfo)
async def cancel_run(run_id: str, server: ServerDep, principal: PrincipalDep) -> RunInfo:
    handle = server.manager.get(run_id, tenant=principal.tenant)
    if handle is not None:
        handle.cancel("The run was cancelled by request.")
        await handle.done.wait()
    run = await (await server.settled()).get_run(run_id, tenant=principal.tenant)
    if run is None:
        raise _missing_run(run_id)
    if handle is None and run.status == "running":
        raise ApiError(409, f"Run {run_id!r} is running in another server process; cancel it there.")
    if handle is None:
        raise ApiError(409, f"Run {run_id!r} already finished with status {run.status!r}.")
    return RunInfo.of(run)


@router.get("/runs/{run_id}/input")
async def list_input_requests(
    run_id: str, server: ServerDep, principal: PrincipalDep
) -> list[dict[str, Any]]:
    """The run's requests for input (approvals, questions), pending or answered, oldest first."""
    store = await server.settled()
    if await store.get_run(run_id, tenant=principal.tenant) is None:
        raise _missing_run(run_id)
    return [r.public() for r in await store.input_requests(tenant=principal.tenant, run_id=run_id)]


@router.post("/runs/{run_id}/input", response_model=InputResult)
async def answer_input(
    run_id: str, body: InputBody, server: ServerDep, principal: PrincipalDep
) -> InputResult:
    """Approve or deny a tool call the run asked about, or answer its question. A run whose server
    restarted while it waited is resumed as a new run (`resumed: true`, its id in `run_id`)."""
    answer = InputAnswer(
        approved=body.answer is not None if body.approve is None else body.approve,
        always=body.always,
        text=body.answer,
    )
    if body.approve is None and body.answer is None:
        raise ApiError(422, "Send `approve` (true or false) for a tool call, or `answer` for a question.")
    continued, resumed = await server.manager.answer_input(
        run_id, body.request_id, answer, tenant=principal.tenant, catalog=server.catalog
    )
    return InputResult(run_id=continued, resumed=resumed)


@router.get("/threads", response_model=list[ThreadInfo], response_model_exclude_none=True)
async def list_threads(
    server: ServerDep,
    principal: PrincipalDep,
    agent: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ThreadInfo]:
    threads = await (await server.settled()).list_threads(tenant=principal.tenant, agent=agent, limit=limit)
    return [ThreadInfo.of(thread) for thread in threads]


@router.get("/threads/{thread_id}", response_model=ThreadInfo)
async def get_thread(thread_id: str, server: ServerDep, principal: PrincipalDep) -> ThreadInfo:
    store = await server.settled()
    thread = await store.get_thread(thread_id, tenant=principal.tenant)
    if thread is None:
        raise ApiError(404, f"There is no thread {thread_id!r}.")
    messages = await store.thread_messages(thread_id, tenant=principal.tenant)
    return ThreadInfo.of(thread, messages)


@router.get("/threads/{thread_id}/tasks", response_model=list[TaskInfoBody])
async def list_thread_tasks(thread_id: str, server: ServerDep, principal: PrincipalDep) -> list[TaskInfoBody]:
    """The background tasks the thread's runs started (`task_start`), newest first."""
    store = await server.settled()
    if await store.get_thread(thread_id, tenant=principal.tenant) is None:
        raise ApiError(404, f"There is no thread {thread_id!r}.")
    return [TaskInfoBody.of(task) for task in await store.list_tasks(owner=thread_id)]


@router.post("/threads/{thread_id}/close", response_model=list[TaskInfoBody])
async def close_thread(thread_id: str, server: ServerDep, principal: PrincipalDep) -> list[TaskInfoBody]:
    """The conversation is over: stop the background tasks its runs started in this server. Returns
    the thread's tasks as they are now."""
    store = await server.settled()
    if await store.get_thread(thread_id, tenant=principal.tenant) is None:
        raise ApiError(404, f"There is no thread {thread_id!r}.")
    await stop_thread_tasks(server.manager.runtime, thread_id)
    return [TaskInfoBody.of(task) for task in await store.list_tasks(owner=thread_id)]


@router.get("/memories", response_model=list[MemoryInfo])
async def list_memories(
    server: ServerDep,
    principal: PrincipalDep,
    user: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MemoryInfo]:
    """What agents with long-term memory remember for the tenant's users (one user's with `user`)."""
    found = await (await server.settled()).list_memories(tenant=principal.tenant, user=user, limit=limit)
    return [MemoryInfo.of(memory) for memory in found]


@router.delete("/memories/{memory_id}", status_code=204)
async def forget_memory(memory_id: str, server: ServerDep, principal: PrincipalDep) -> Response:
    if not await (await server.settled()).forget_memory(memory_id, tenant=principal.tenant):
        raise ApiError(404, f"There is no memory {memory_id!r}.")
    return Response(status_code=204)
