"""`RunHandle`: one run this process is executing, its events kept for every client that follows it.

Events arrive through `HandleSink`, which also rewrites the run's last `run_finished` when the server
stopped the run (a timeout, a cancel request, a client that went away) to say why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

import anyio

from oxy.events.sinks import EventSink
from oxy.events.types import ErrorEvent, Event, RunFinished, RunStarted, event_to_json
from oxy.storage import StoreSink

RunKind = Literal["agent", "workflow"]


@dataclass(frozen=True, slots=True)
class Published:
    """An event as clients get it: its position (1, 2, ...), the object and its JSON."""

    seq: int
    event: Event
    json: str


@dataclass(kw_only=True)
class RunHandle:
    run_id: str
    tenant: str
    target: str
    kind: RunKind
    thread_id: str | None = None
    background: bool = False
    variant: str | None = None
    """The agent's A/B variant this run uses (picked when the run was accepted)."""
    status: Literal["queued", "running", "done"] = "queued"
    events: list[Published] = field(default_factory=list[Published])
    finished: RunFinished | None = None
    ending: bool = False
    """Its `run_finished` is on its way (stored, then published): the run has nothing left to do."""
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    cancel_reason: str | None = None
    timeout_s: float | None = None
    _changed: anyio.Event = field(default_factory=anyio.Event)

    def cancel(self, reason: str) -> None:
        """Stop the run (at its next await); its `run_finished` will say `reason`."""
        if self.cancel_reason is None and not self.timed_out:
            self.cancel_reason = reason
        self.scope.cancel()

    @property
    def timed_out(self) -> bool:
        """Whether the run's deadline (set when it left the queue) stopped it."""
        return (
            self.cancel_reason is None
            and self.scope.cancel_called
            and anyio.current_time() >= self.scope.deadline
        )

    @property
    def timeout_message(self) -> str:
        return f"The run took longer than the server's run timeout of {self.timeout_s or 0:g} s."

    def publish(self, event: Event, payload: str | None = None) -> None:
        """Add `event` (its JSON `payload`, when the caller encoded it already) for every follower."""
        self.events.append(Published(len(self.events) + 1, event, payload or event_to_json(event)))
        if isinstance(event, RunFinished) and not event.source and self.finished is None:
            self.finished = event
        self._changed.set()
        self._changed = anyio.Event()

    def close(self) -> None:
        self.status = "done"
        self.done.set()
        self._changed.set()

    async def follow(self, *, after: int = 0, ping_s: float | None = None) -> AsyncIterator[Published | None]:
        """Every event after `after`, as it comes, until the run is done; `None` after `ping_s` of silence."""
        index = after
        while True:
            if index < len(self.events):
                index += 1
                yield self.events[index - 1]
                continue
            if self.done.is_set():
                return
            changed = self._changed
            if ping_s is None:
                await changed.wait()
                continue
            with anyio.move_on_after(ping_s) as waited:
                await changed.wait()
            if waited.cancelled_caught:
                yield None


class HandleSink(EventSink):
    """Says why the server stopped a run, then passes every event on to the run's `StoreSink` and handle.

    The server publishes the run's `run_started` when it accepts the run (so a queued run's client
    hears of it at once); the engine's own `run_started`, when the run leaves the queue, is then
    dropped (`engine_started` says it came). Each event is encoded to JSON once, for both.
    `streams_text` says whether a client reads the run as it goes (an SSE stream, a background run
    someone may follow); otherwise its models answer whole.
    """

    def __init__(
        self,
        handle: RunHandle,
        store: StoreSink,
        *,
        streams_text: bool = True,
        trace: EventSink | None = None,
    ) -> None:
        self.streams_text = streams_text
        self._handle = handle
        self.store = store
        self.trace = trace
        """The run's OpenTelemetry spans (`--otel`), fed the same events as the store."""
        self._started = False
        self.engine_started = False

    async def emit(self, event: Event) -> None:
        handle = self._handle
        if isinstance(event, RunStarted) and not event.source:
            if self._started:
                self.engine_started = True
                return
            self._started = True
        if isinstance(event, RunFinished) and not event.source and event.status == "cancelled":
            if handle.timed_out:
                message = handle.timeout_message
                await self._forward(ErrorEvent(error_type="LimitExceeded", message=message))
                event = dataclasses.replace(event, status="error", error=message)
            elif handle.cancel_reason is not None:
                event = dataclasses.replace(event, error=handle.cancel_reason)
        if isinstance(event, RunFinished) and not event.source:
            handle.ending = True
        await self._forward(event)

    async def _forward(self, event: Event) -> None:
        payload = event_to_json(event)
        try:
            await self.store.record(event, payload)
        finally:
            self._handle.publish(event, payload)
            if self.trace is not None:
                await self.trace.emit(event)
