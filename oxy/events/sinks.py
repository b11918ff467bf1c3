"""Event sinks: where a run's events go (a terminal, a JSONL stream, a list, an SSE queue)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import IO

from oxy.events.types import Event, event_to_json


class EventSink(ABC):
    """Receives every event of a run, in order."""

    streams_text: bool = True
    """Whether this sink shows text as it arrives (token by token). A run whose sink doesn't asks its
    models for whole answers (cheaper on the wire); their text still arrives, as one delta each."""

    @abstractmethod
    async def emit(self, event: Event) -> None: ...


class NullSink(EventSink):
    """Drops every event."""

    streams_text = False

    async def emit(self, event: Event) -> None:
        return None


class ListSink(EventSink):
    """Keeps every event in `events`: for tests and for callers that want the transcript. Models answer
    whole unless `streams_text` asks for their deltas."""

    def __init__(self, *, streams_text: bool = False) -> None:
        self.events: list[Event] = []
        self.streams_text = streams_text

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
        self.streams_text = any(sink.streams_text for sink in self._sinks)

    async def emit(self, event: Event) -> None:
        for sink in self._sinks:
            await sink.emit(event)
