"""`StoreSink`: record a run and its events in the store while it runs."""

from __future__ import annotations

import time

import anyio

from oxy.events.sinks import EventSink
from oxy.events.types import (
    MAX_STORED_EVENT_BYTES,
    ErrorEvent,
    Event,
    ReasoningDelta,
    RunFinished,
    RunStarted,
    TextDelta,
    bounded_event,
    event_to_dict,
)
from oxy.storage._async import AsyncStore
from oxy.storage._records import RunKind
from oxy.storage._store import Store
from oxy.storage._writer import RunWrites

_STREAMED = (TextDelta, ReasoningDelta)


class StoreSink(EventSink):
    """Creates the run at its `run_started`, appends every event, and finishes it at `run_finished`.

    Each event is committed before `emit` returns, except text and reasoning deltas: those wait for
    the next other event, for `max_batch` of them, or until the oldest has waited `max_delay_s` (checked
    as each event arrives), whichever comes first. So a process killed mid-run loses at most the deltas
    streamed since the last committed event; every step, tool call, SQL statement and table before
    the kill is in the store. Nested runs (a `run_started` inside the run) are stored as its events.

    Given a `RunWrites` (a `StoreWriter`'s queue for this run, as `oxy serve` does) instead of a
    store, every event is queued and `emit` returns at once; the writer commits it within its
    `max_delay_s` (0.05 s by default) along with every other run's writes. Only an `error` and the
    run's own `run_finished` wait for their commit, so a run is never seen to end before its end is
    stored. A kill then loses at most the events of the last `max_delay_s`.
    """

    streams_text = False

    def __init__(
        self,
        store: Store | AsyncStore | RunWrites,
        *,
        tenant: str,
        kind: RunKind,
        thread_id: str | None = None,
        max_batch: int = 64,
        max_delay_s: float = 0.5,
    ) -> None:
        self._writes = store if isinstance(store, RunWrites) else None
        self._store = store if isinstance(store, AsyncStore | RunWrites) else AsyncStore(store)
        self._seq = 0
        self._tenant = tenant
        self._kind: RunKind = kind
        self._thread_id = thread_id
        self._max_batch = max_batch
        self._max_delay_s = max_delay_s
        self._run_id: str | None = None
        self._depth = 0
        self._pending: list[Event] = []
        self._oldest = 0.0
        self._lock = anyio.Lock()

    @property
    def run_id(self) -> str | None:
        """The run being recorded, once its `run_started` has arrived."""
        return self._run_id

    async def emit(self, event: Event) -> None:
        await self.record(event)

    async def record(self, event: Event, payload: str | None = None) -> None:
        """`emit`, given the event's JSON (`event_to_json(event)`) when the caller has it already."""
        if self._writes is not None:
            await self._queue(self._writes, event, payload)
            return
        assert isinstance(self._store, AsyncStore)
        if self._run_id is None:
            if not isinstance(event, RunStarted):
                raise ValueError(f"a StoreSink records one run and starts at run_started, not {event.kind!r}")
            await self._store.create_run(
                tenant=self._tenant,
                target=event.target,
                kind=self._kind,
                input=event_to_dict(event)["input"],
                thread_id=self._thread_id,
                run_id=event.run_id,
            )
            self._run_id = event.run_id
        if isinstance(event, RunStarted):
            self._depth += 1
        elif isinstance(event, RunFinished):
            self._depth -= 1
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(event)
        if isinstance(event, _STREAMED) and not self._batch_due():
            return
        await self.flush()
        if isinstance(event, RunFinished) and self._depth == 0:
            await self._store.finish_run(
                self._run_id,
                tenant=self._tenant,
                status=event.status,
                output=event_to_dict(event)["output"],
                error=event.error,
            )

    async def _queue(self, writes: RunWrites, event: Event, payload: str | None) -> None:
        writes.raise_if_failed()
        if self._run_id is None:
            if not isinstance(event, RunStarted):
                raise ValueError(f"a StoreSink records one run and starts at run_started, not {event.kind!r}")
            writes.create_run(
                run_id=event.run_id,
                tenant=self._tenant,
                target=event.target,
                kind=self._kind,
                input=event_to_dict(event)["input"],
                thread_id=self._thread_id,
            )
            self._run_id = event.run_id
        if isinstance(event, RunStarted):
            self._depth += 1
        elif isinstance(event, RunFinished):
            self._depth -= 1
        self._seq += 1
        if payload is None or len(payload) > MAX_STORED_EVENT_BYTES:
            event, payload = bounded_event(event)
        writes.append_event(self._run_id, self._seq, event.kind, payload)
        ended = isinstance(event, RunFinished) and self._depth == 0
        if isinstance(event, RunFinished) and ended:
            writes.finish_run(
                self._run_id,
                tenant=self._tenant,
                status=event.status,
                output=event_to_dict(event)["output"],
                error=event.error,
            )
        if ended or isinstance(event, ErrorEvent):
            await writes.commit()

    def _batch_due(self) -> bool:
        return len(self._pending) >= self._max_batch or time.monotonic() - self._oldest >= self._max_delay_s

    async def flush(self) -> None:
        """Commit the events still waiting (deltas held back for batching; everything queued)."""
        if self._writes is not None:
            await self._writes.commit()
            return
        assert isinstance(self._store, AsyncStore)
        async with self._lock:
            if not self._pending or self._run_id is None:
                return
            batch, self._pending = self._pending, []
            await self._store.append_events(self._run_id, batch, tenant=self._tenant)
