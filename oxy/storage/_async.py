"""`AsyncStore`: the `Store` API for async code, each call run in a worker thread.

Why threads rather than SQLAlchemy's asyncio extension: SQLite's driver blocks either way (aiosqlite
is itself a thread per connection), the calls are short (a few rows per transaction), the sync
`Store` stays the one implementation the CLI also uses, and no new driver dependencies come in.
anyio's thread limiter (40 by default) bounds how many calls wait on the connection pool at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import URL

from oxy.events.types import Event
from oxy.models.messages import Message
from oxy.storage._batch import Write
from oxy.storage._pauses import InputRequestRecord, InputStatus, TaskRecord
from oxy.storage._records import (
    FinalState,
    Memory,
    Run,
    RunEvent,
    RunKind,
    RunState,
    TaskOutput,
    Thread,
    ThreadMessage,
)
from oxy.storage._store import DEFAULT_LEASE_S, Store


class AsyncStore:
    """The same methods as `Store`, awaitable. `sync` is the wrapped store, for code that may block."""

    def __init__(self, store: Store) -> None:
        self.sync = store

    @classmethod
    async def open(
        cls,
        url: str | URL | None = None,
        *,
        project_root: Path | None = None,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> AsyncStore:
        opener = partial(Store.open, url, project_root=project_root, lease_s=lease_s)
        return cls(await anyio.to_thread.run_sync(opener))

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self.sync.close)

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def take_token(self, key: str, *, rate: float, burst: int) -> float:
        return await anyio.to_thread.run_sync(partial(self.sync.take_token, key, rate=rate, burst=burst))

    async def acquire_lease(self, scope: str, *, cap: int, lease_id: str) -> int | None:
        return await anyio.to_thread.run_sync(
            partial(self.sync.acquire_lease, scope, cap=cap, lease_id=lease_id)
        )

    async def release_lease(self, lease_id: str) -> None:
        await anyio.to_thread.run_sync(self.sync.release_lease, lease_id)

    async def mark_interrupted(self) -> int:
        return await anyio.to_thread.run_sync(self.sync.mark_interrupted)

    async def create_run(
        self,
        *,
        tenant: str,
        target: str,
        kind: RunKind,
        input: Any = None,
        thread_id: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        call = partial(
            self.sync.create_run,
            tenant=tenant,
            target=target,
            kind=kind,
            input=input,
            thread_id=thread_id,
            run_id=run_id,
        )
        return await anyio.to_thread.run_sync(call)

    async def finish_run(
        self, run_id: str, *, tenant: str, status: FinalState, output: Any = None, error: str | None = None
    ) -> Run:
        call = partial(self.sync.finish_run, run_id, tenant=tenant, status=status, output=output, error=error)
        return await anyio.to_thread.run_sync(call)

    async def get_run(self, run_id: str, *, tenant: str) -> Run | None:
        return await anyio.to_thread.run_sync(partial(self.sync.get_run, run_id, tenant=tenant))

    async def list_runs(
        self,
        *,
        tenant: str,
        target: str | None = None,
        status: RunState | None = None,
        thread_id: str | None = None,
        limit: int = 100,
    ) -> list[Run]:
        call = partial(
            self.sync.list_runs, tenant=tenant, target=target, status=status, thread_id=thread_id, limit=limit
        )
        return await anyio.to_thread.run_sync(call)

    async def last_failed_run(self, target: str, *, tenant: str) -> Run | None:
        return await anyio.to_thread.run_sync(partial(self.sync.last_failed_run, target, tenant=tenant))

    async def append_events(self, run_id: str, batch: Sequence[Event], *, tenant: str) -> int:
        return await anyio.to_thread.run_sync(partial(self.sync.append_events, run_id, batch, tenant=tenant))

    async def events(self, run_id: str, *, tenant: str, after: int = 0) -> list[RunEvent]:
        return await anyio.to_thread.run_sync(partial(self.sync.events, run_id, tenant=tenant, after=after))

    async def record_task_output(self, run_id: str, path: str, output: Any, *, tenant: str) -> TaskOutput:
        call = partial(self.sync.record_task_output, run_id, path, output, tenant=tenant)
        return await anyio.to_thread.run_sync(call)

    async def task_outputs(self, run_id: str, *, tenant: str) -> dict[str, TaskOutput]:
        return await anyio.to_thread.run_sync(partial(self.sync.task_outputs, run_id, tenant=tenant))

    async def create_thread(
        self, *, tenant: str, agent: str, title: str | None = None, thread_id: str | None = None
    ) -> Thread:
        call = partial(self.sync.create_thread, tenant=tenant, agent=agent, title=title, thread_id=thread_id)
        return await anyio.to_thread.run_sync(call)

    async def add_messages(
        self, thread_id: str, batch: Sequence[Message], *, tenant: str
    ) -> list[ThreadMessage]:
        return await anyio.to_thread.run_sync(
            partial(self.sync.add_messages, thread_id, batch, tenant=tenant)
        )

    async def get_thread(self, thread_id: str, *, tenant: str) -> Thread | None:
        return await anyio.to_thread.run_sync(partial(self.sync.get_thread, thread_id, tenant=tenant))

    async def list_threads(self, *, tenant: str, agent: str | None = None, limit: int = 100) -> list[Thread]:
        call = partial(self.sync.list_threads, tenant=tenant, agent=agent, limit=limit)
        return await anyio.to_thread.run_sync(call)

    async def add_memory(self, *, tenant: str, user: str, text: str, embedder: str, vector: bytes) -> Memory:
        call = partial(
            self.sync.add_memory, tenant=tenant, user=user, text=text, embedder=embedder, vector=vector
        )
        return await anyio.to_thread.run_sync(call)

    async def list_memories(self, *, tenant: str, user: str | None = None, limit: int = 1000) -> list[Memory]:
        call = partial(self.sync.list_memories, tenant=tenant, user=user, limit=limit)
        return await anyio.to_thread.run_sync(call)

    async def memory_vectors(self, *, tenant: str, user: str, embedder: str) -> list[tuple[Memory, bytes]]:
        call = partial(self.sync.memory_vectors, tenant=tenant, user=user, embedder=embedder)
        return await anyio.to_thread.run_sync(call)

    async def forget_memory(self, memory_id: str, *, tenant: str, user: str | None = None) -> bool:
        call = partial(self.sync.forget_memory, memory_id, tenant=tenant, user=user)
        return await anyio.to_thread.run_sync(call)

    async def open_input_request(
        self,
        *,
        id: str,
        run_id: str,
        tenant: str,
        thread_id: str | None,
        target: str,
        user: str | None,
        variant: str | None,
        kind: str,
        tool: str,
        what: str,
        why: str,
        rule: str | None,
        subject: str | None,
        options: Sequence[str],
        call_id: str | None,
        transcript: Sequence[Message],
        expires_at: datetime | None,
    ) -> None:
        call = partial(
            self.sync.open_input_request,
            id=id,
            run_id=run_id,
            tenant=tenant,
            thread_id=thread_id,
            target=target,
            user=user,
            variant=variant,
            kind=kind,
            tool=tool,
            what=what,
            why=why,
            rule=rule,
            subject=subject,
            options=options,
            call_id=call_id,
            transcript=transcript,
            expires_at=expires_at,
        )
        await anyio.to_thread.run_sync(call)

    async def get_input_request(self, request_id: str, *, tenant: str) -> InputRequestRecord | None:
        return await anyio.to_thread.run_sync(partial(self.sync.get_input_request, request_id, tenant=tenant))

    async def input_requests(
        self, *, tenant: str, run_id: str | None = None, status: InputStatus | None = None
    ) -> list[InputRequestRecord]:
        call = partial(self.sync.input_requests, tenant=tenant, run_id=run_id, status=status)
        return await anyio.to_thread.run_sync(call)

    async def close_input_request(
        self,
        request_id: str,
        *,
        tenant: str,
        status: InputStatus,
        answer: dict[str, Any] | None = None,
        grant_key: str | None = None,
        others_note: str | None = None,
    ) -> bool:
        call = partial(
            self.sync.close_input_request,
            request_id,
            tenant=tenant,
            status=status,
            answer=answer,
            grant_key=grant_key,
            others_note=others_note,
        )
        return await anyio.to_thread.run_sync(call)

    async def input_answer(
        self, request_id: str, *, tenant: str
    ) -> tuple[InputStatus, dict[str, Any] | None] | None:
        return await anyio.to_thread.run_sync(partial(self.sync.input_answer, request_id, tenant=tenant))

    async def reopen_input_request(self, request_id: str, *, tenant: str) -> bool:
        return await anyio.to_thread.run_sync(
            partial(self.sync.reopen_input_request, request_id, tenant=tenant)
        )

    async def thread_grants(self, thread_id: str, *, tenant: str) -> set[str]:
        return await anyio.to_thread.run_sync(partial(self.sync.thread_grants, thread_id, tenant=tenant))

    async def record_task(
        self, *, task_id: str, owner: str, tenant: str | None, command: str, pid: int, root: str
    ) -> None:
        call = partial(
            self.sync.record_task,
            task_id=task_id,
            owner=owner,
            tenant=tenant,
            command=command,
            pid=pid,
            root=root,
        )
        await anyio.to_thread.run_sync(call)

    async def finish_task(self, *, task_id: str, root: str, exit_code: int | None) -> None:
        await anyio.to_thread.run_sync(
            partial(self.sync.finish_task, task_id=task_id, root=root, exit_code=exit_code)
        )

    async def list_tasks(self, *, owner: str | None = None, limit: int = 200) -> list[TaskRecord]:
        return await anyio.to_thread.run_sync(partial(self.sync.list_tasks, owner=owner, limit=limit))

    async def thread_summary(self, thread_id: str, *, tenant: str) -> tuple[str, int] | None:
        return await anyio.to_thread.run_sync(partial(self.sync.thread_summary, thread_id, tenant=tenant))

    async def set_thread_summary(self, thread_id: str, summary: str, upto: int, *, tenant: str) -> None:
        call = partial(self.sync.set_thread_summary, thread_id, summary, upto, tenant=tenant)
        await anyio.to_thread.run_sync(call)

    async def thread_messages(self, thread_id: str, *, tenant: str) -> list[ThreadMessage]:
        return await anyio.to_thread.run_sync(partial(self.sync.thread_messages, thread_id, tenant=tenant))

    async def commit_writes(self, writes: Sequence[Write]) -> None:
        await anyio.to_thread.run_sync(self.sync.commit_writes, writes)
