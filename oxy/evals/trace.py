"""What one run of a case did, read from its events: the answer, the tool calls, the SQL it ran and
what that returned, and (in a workflow) each task's output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oxy.events.sinks import EventSink
from oxy.events.types import (
    Event,
    RunStarted,
    Source,
    SqlEvent,
    StepFinished,
    TableEvent,
    ToolCallEvent,
    UsageEvent,
)

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
    sql: list[tuple[Source, str]] = field(default_factory=list[tuple[Source, str]])
    """Each statement executed, with the step that ran it."""
    steps: dict[str, tuple[Source, Any]] = field(default_factory=dict[str, tuple[Source, Any]])
    """Each task's output by name: the outermost task of that name."""
    input_tokens: int = 0
    output_tokens: int = 0
    duration_s: float = 0.0
    error: str | None = None
    variant: str | None = None
    """The agent's A/B variant in this run, when it has variants."""


class TraceSink(EventSink):
    """Collects a `RunTrace` as the run goes; answers come whole (nobody reads them streaming)."""

    streams_text = False

    def __init__(self) -> None:
        self.trace = RunTrace()

    async def emit(self, event: Event) -> None:
        if isinstance(event, RunStarted) and not event.source and event.prompt is not None:
            self.trace.variant = event.prompt.get("variant")
        elif isinstance(event, ToolCallEvent):
            try:
                arguments: Any = json.loads(event.arguments or "{}")
            except ValueError:
                arguments = {}
            self.trace.calls.append(CallMade(event.name, arguments if isinstance(arguments, dict) else {}))
        elif isinstance(event, SqlEvent):
            self.trace.sql.append((event.source, event.sql))
        elif isinstance(event, StepFinished):
            known = self.trace.steps.get(event.name)
            if known is None or len(event.source) < len(known[0]):
                self.trace.steps[event.name] = (event.source, event.output)
        elif isinstance(event, TableEvent):
            self.trace.tables.append((event.columns, event.rows))
        elif isinstance(event, UsageEvent):
            self.trace.input_tokens += event.input_tokens
            self.trace.output_tokens += event.output_tokens
