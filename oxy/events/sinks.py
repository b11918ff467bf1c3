"""Event sinks: where a run's events go (a terminal, a JSONL stream, a list, an SSE queue)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import IO

from oxy.events.types import Event, event_to_json


class EventSink(ABC):
    """Receives every event of a run, in order."""

    @abstractmethod
    async def emit(self, event: Event) -> None: ...


class NullSink(EventSink):
    """Drops every event."""

    async def emit(self, event: Event) -> None:
        return None


class ListSink(EventSink):
    """Keeps every event in `events`: for tests and for callers that want the transcript."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def emit(self, event: Event) -> None:
        self.events.append(event)


class CallbackSink(EventSink):
    """Calls a plain function with each event."""

    def __init__(self, callback: Callable[[Event], None]) -> None:
        self._callback = callback

    async def emit(self, event: Event) -> None:
        self._callback(event)


class JsonlSink(EventSink):
    """Writes each event as one line of JSON and flushes, so a reader sees it at once."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    async def emit(self, event: Event) -> None:
        self._stream.write(event_to_json(event) + "\n")
        self._stream.flush()


class TeeSink(EventSink):
    """Sends each event to several sinks, in the order given."""

    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self._sinks = tuple(sinks)

    async def emit(self, event: Event) -> None:
        for sink in self._sinks:
            await sink.emit(event)
