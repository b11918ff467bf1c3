"""`ExecutionContext`: what every executable is handed besides its input.

A context is immutable: `child(name)` derives the context of a nested step (its events carry the
longer source path), `replace(...)` derives one with other fields. Nothing mutates a shared context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from oxy.execution.events import Event, Source
from oxy.execution.sinks import EventSink, NullSink


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """Bounds that apply to a whole run unless a step sets its own."""

    max_table_rows: int = 10_000
    """Rows a table event (and a SQL run) carries at most; the rest is cut and flagged `truncated`."""
    model_rows: int = 100
    """Rows of a tool's table result shown to a model, with a note that the rest was cut."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ExecutionContext:
    """The run a step belongs to, where its events go, and the services it may use.

    `services` is filled by the layer that builds the run (the project, its database registry,
    model clients); the execution layer never looks inside it. `variables` is the template
    context visible to this step: the run's global context plus earlier outputs.
    """

    run_id: str
    sink: EventSink = field(default_factory=NullSink)
    source: Source = ()
    services: Any = None
    variables: Mapping[str, Any] = field(default_factory=dict[str, Any])
    limits: Limits = field(default_factory=Limits)
    depth: int = 0

    def child(self, name: str) -> ExecutionContext:
        """The context of a nested step called `name`."""
        return dataclasses.replace(self, source=(*self.source, name), depth=self.depth + 1)

    def with_variables(self, variables: Mapping[str, Any]) -> ExecutionContext:
        """A context whose template variables are these, merged over the current ones."""
        return dataclasses.replace(self, variables={**self.variables, **variables})

    async def emit(self, event: Event) -> None:
        await self.sink.emit(event)
