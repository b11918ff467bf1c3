"""What one run of a case did, read from its events: the answer, the tool calls, the SQL results."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oxy.events.sinks import EventSink
from oxy.events.types import Event, TableEvent, ToolCallEvent, UsageEvent

__all__ = ["CallMade", "RunTrace", "TraceSink"]


@dataclass(frozen=True)
class CallMade:
    name: str
    arguments: dict[str, Any]


@dataclass
class RunTrace:
    answer: str = ""
    calls: list[CallMade] = field(default_factory=list[CallMade])
    tables: list[tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]] = field(
        default_factory=list[tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]]
    )
    input_tokens: int = 0
    output_tokens: int = 0
    duration_s: float = 0.0
    error: str | None = None


class TraceSink(EventSink):
    """Collects a `RunTrace` as the run goes; answers come whole (nobody reads them streaming)."""

    streams_text = False

    def __init__(self) -> None:
        self.trace = RunTrace()

    async def emit(self, event: Event) -> None:
        if isinstance(event, ToolCallEvent):
            try:
                arguments: Any = json.loads(event.arguments or "{}")
            except ValueError:
                arguments = {}
            self.trace.calls.append(CallMade(event.name, arguments if isinstance(arguments, dict) else {}))
        elif isinstance(event, TableEvent):
            self.trace.tables.append((event.columns, event.rows))
        elif isinstance(event, UsageEvent):
            self.trace.input_tokens += event.input_tokens
            self.trace.output_tokens += event.output_tokens
