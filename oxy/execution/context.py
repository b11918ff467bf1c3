"""`ExecutionContext`: what every executable is handed besides its input.

A context is immutable: `child(name)` derives the context of a nested step (its events carry the
longer source path), `with_variables(...)` one with more template variables. Nothing mutates a shared
context. `ctx.runtime` is the project's typed `RuntimeHandle`; `ctx.caller` says on whose behalf the
run goes (tenant, user, thread), so a tool can scope what it reads and stores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oxy.events.sinks import EventSink, NullSink
from oxy.events.types import Event, Source

if TYPE_CHECKING:
    from oxy.execution.input import InputChannel
    from oxy.execution.runtime import RuntimeHandle
    from oxy.models.messages import Message

__all__ = ["Caller", "ExecutionContext", "Limits"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """Bounds that apply to a whole run unless a step sets its own."""

    max_table_rows: int = 10_000
    """Rows a table event (and a SQL run) carries at most; the rest is cut and flagged `truncated`."""
    model_rows: int = 100
    """Rows of a tool's table result shown to a model, with a note that the rest was cut."""
    max_cell_chars: int = 2_000
    """Characters a text cell of a result table keeps; the rest is cut, and the table says so."""
    max_table_bytes: int = 1_048_576
    """About this many bytes of cells a table (its event, its output) holds; later rows are dropped."""
    max_tool_result_chars: int = 32_000
    """Characters of one tool result a model reads; the rest is cut, with a note it can act on."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Caller:
    """On whose behalf a run goes. Every field is optional: a library call may know none of them.

    The CLI fills `user` from the OS user; `oxy serve` fills `tenant` from the API key and `thread_id`
    from the conversation the run continues."""

    tenant: str | None = None
    user: str | None = None
    thread_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ExecutionContext:
    """The run a step belongs to, where its events go, what it may use and for whom it runs.

    `variables` is the template context visible to this step: the run's global context plus earlier
    outputs.
    """

    run_id: str
    sink: EventSink = field(default_factory=NullSink)
    source: Source = ()
    handle: RuntimeHandle | None = None
    """The project runtime; read it as `ctx.runtime`."""
    caller: Caller = field(default_factory=Caller)
    variables: Mapping[str, Any] = field(default_factory=dict[str, Any])
    limits: Limits = field(default_factory=Limits)
    depth: int = 0
    call_id: str | None = None
    """The model's tool call this step runs for (its events say so: parallel calls of one tool share
    a source)."""
    input: InputChannel | None = None
    """Who answers when the run asks a person (a tool call to approve, a question); None: nobody."""
    conversation: tuple[Message, ...] = ()
    """For a tool call: the conversation of the agent that made it, up to and including the model's
    turn that asked for it (what a paused run resumes from)."""
    stream: bool = True
    """Whether someone reads this step's answer as it is written (a terminal, an SSE client): models
    then stream their answers token by token; otherwise they answer whole, which is cheaper on the
    wire, and the text still arrives as one `text_delta`."""

    @property
    def runtime(self) -> RuntimeHandle:
        """The project runtime of this run; a step that needs one fails clearly in a run without one."""
        if self.handle is None:
            where = " › ".join(self.source) or "the run"
            raise RuntimeError(
                f"{where} needs a project runtime: run it with run_executable(..., runtime=...)"
            )
        return self.handle

    def child(self, name: str) -> ExecutionContext:
        """The context of a nested step called `name` (no longer the tool call itself, if any)."""
        return dataclasses.replace(self, source=(*self.source, name), depth=self.depth + 1, call_id=None)

    def for_tool_call(self, name: str, call_id: str) -> ExecutionContext:
        """The context of the tool `name` running the model's call `call_id`."""
        return dataclasses.replace(self.child(name), call_id=call_id)

    def unstreamed(self) -> ExecutionContext:
        """A context whose answers nobody reads token by token (an agent asked as a tool, a workflow task)."""
        return self if not self.stream else dataclasses.replace(self, stream=False)

    def with_variables(self, variables: Mapping[str, Any]) -> ExecutionContext:
        """A context whose template variables are these, merged over the current ones."""
        return dataclasses.replace(self, variables={**self.variables, **variables})

    async def emit(self, event: Event) -> None:
        await self.sink.emit(event)
