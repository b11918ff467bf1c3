"""`StoreWriter`: group commit. Every run of the process queues its writes; one transaction per tick.

A served run used to write ~10 transactions (its thread, its user message, the run, each event,
the answer, the finish), each through a worker thread, a pooled connection and `BEGIN IMMEDIATE`.
Here a run queues its writes on its `RunWrites` (no await, no thread), and the writer commits
whatever every run has queued in one transaction (`Store.commit_writes`), at most `max_delay_s`
after the oldest was queued, or as soon as the previous commit ends when someone waits
(`RunWrites.commit()`, used at a run's end). Under load the transactions run back to back, each
carrying hundreds of rows.

When a batch fails, each run's writes are retried in their own transaction, so one run's bad write
(a thread that was deleted) fails only that run: its `RunWrites` holds the error and raises it from
`commit()` and `raise_if_failed()`, and drops its later writes.

```python
writer = StoreWriter(store)
task_group.start_soon(writer.run)
writes = writer.run_writes()
thread = writes.create_thread(tenant="local", agent="agents/chat.agent.yml")
writes.add_messages(thread.id, [UserMessage(content="hi")], tenant="local")
await writes.commit()     # committed (or StoreError)
await writer.aclose()     # commits what is left, then `run` returns
```
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import anyio
import anyio.to_thread

from oxy.models.messages import Message
from oxy.storage._async import AsyncStore
from oxy.storage._batch import FinishRun, NewEvents, NewMessages, NewRun, NewTaskOutput, NewThread, Write
from oxy.storage._errors import StoreError
from oxy.storage._records import FinalState, RunKind, Thread
from oxy.storage._schema import utcnow
from oxy.storage._store import Store
from oxy.storage._threads import message_row, new_thread

log = logging.getLogger("oxy.storage")

DEFAULT_MAX_DELAY_S = 0.05


class RunWrites:
    """One run's queued writes (its thread, messages, run row, events, finish, task outputs).

    Each method queues and returns at once; the writes reach the store in order, in the writer's
    next transaction. `commit()` waits for that transaction.
    """

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self.error: StoreError | None = None

    def raise_if_failed(self) -> None:
        """Raise the error of a write of this run that did not commit, if one did not."""
        if self.error is not None:
            raise self.error

    async def commit(self) -> None:
        """Wait until everything queued so far is committed; raise `StoreError` if a write failed."""
        await self._writer.flush()
        self.raise_if_failed()

    def _put(self, write: Write) -> None:
        self._writer.put(self, write)

    def create_thread(
        self, *, tenant: str, agent: str, title: str | None = None, thread_id: str | None = None
    ) -> Thread:
        thread = new_thread(tenant=tenant, agent=agent, title=title, thread_id=thread_id)
        self._put(NewThread(asdict(thread)))
        return thread

    def add_messages(self, thread_id: str, batch: Sequence[Message]) -> None:
        if batch:
            self._put(NewMessages(thread_id, [message_row(m) for m in batch], utcnow()))

    def create_run(
        self,
        *,
        run_id: str,
        tenant: str,
        target: str,
        kind: RunKind,
        input: Any = None,
        thread_id: str | None = None,
    ) -> None:
        row = {
            "id": run_id,
            "tenant": tenant,
            "target": target,
            "kind": kind,
            "input": input,
            "status": "running",
            "started_at": utcnow(),
            "thread_id": thread_id,
        }
        self._put(NewRun(row))

    def append_event(self, run_id: str, seq: int, kind: str, payload: str) -> None:
        self._put(NewEvents([{"run_id": run_id, "seq": seq, "kind": kind, "payload": payload}]))

    def finish_run(
        self, run_id: str, *, tenant: str, status: FinalState, output: Any = None, error: str | None = None
    ) -> None:
        self._put(FinishRun(run_id, tenant, status, output, error, utcnow()))

    def record_task_output(self, run_id: str, path: str, output: Any) -> None:
        self._put(NewTaskOutput(run_id, path, output, utcnow()))


class StoreWriter:
    """Commits the queued writes of every run of the process, many runs per transaction."""

    def __init__(self, store: Store | AsyncStore, *, max_delay_s: float = DEFAULT_MAX_DELAY_S) -> None:
        self._store = store.sync if isinstance(store, AsyncStore) else store
        self._max_delay_s = max_delay_s
        self._queue: list[tuple[RunWrites, Write]] = []
        self._queued = 0
        self._committed = 0
        self._wake = anyio.Event()
        self._urgent = anyio.Event()
        self._ticked = anyio.Event()
        self._closing = False
        self._stopped = anyio.Event()

    @property
    def max_delay_s(self) -> float:
        return self._max_delay_s

    def run_writes(self) -> RunWrites:
        """A new run's queue of writes."""
        return RunWrites(self)

    def put(self, owner: RunWrites, write: Write) -> None:
        if owner.error is not None:
            return  # the run's earlier write failed; the rest would fail the same way
        if self._stopped.is_set():
            raise StoreError("the run store's writer is closed")
        self._queue.append((owner, write))
        self._queued += 1
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every write queued before this call is committed (or has failed)."""
        target = self._queued
        while self._committed < target:
            if self._stopped.is_set():
                raise StoreError("the run store's writer stopped before committing")
            self._urgent.set()
            ticked = self._ticked
            await ticked.wait()

    async def run(self) -> None:
        """Commit until `aclose()`: start it in the task group that outlives the runs."""
        try:
            while True:
                if not self._queue:
                    if self._closing:
                        return
                    await self._wake.wait()
                    self._wake = anyio.Event()
                    continue
                if not self._urgent.is_set() and not self._closing:
                    with anyio.move_on_after(self._max_delay_s):
                        await self._urgent.wait()
                self._urgent = anyio.Event()
                batch, self._queue = self._queue, []
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._commit, batch)
                self._committed += len(batch)
                ticked, self._ticked = self._ticked, anyio.Event()
                ticked.set()
        finally:
            self._stopped.set()
            self._ticked.set()

    async def aclose(self) -> None:
        """Commit what is queued and stop `run`."""
        self._closing = True
        self._urgent.set()
        self._wake.set()
        await self._stopped.wait()

    def _commit(self, batch: list[tuple[RunWrites, Write]]) -> None:
        live = [(owner, write) for owner, write in batch if owner.error is None]
        if not live:
            return
        try:
            self._store.commit_writes([write for _, write in live])
            return
        except Exception as exc:
            if len({id(owner) for owner, _ in live}) == 1:
                live[0][0].error = _store_error(exc)
                return
        by_owner: dict[int, tuple[RunWrites, list[Write]]] = {}
        for owner, write in live:
            by_owner.setdefault(id(owner), (owner, []))[1].append(write)
        for owner, writes in by_owner.values():
            try:
                self._store.commit_writes(writes)
            except Exception as exc:
                owner.error = _store_error(exc)


def _store_error(exc: Exception) -> StoreError:
    log.warning("a run's writes to the store failed: %s", exc)
    if isinstance(exc, StoreError):
        return exc
    error = StoreError(f"could not write to the run store: {exc}")
    error.__cause__ = exc
    return error
