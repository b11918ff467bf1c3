"""The rows the store hands back: frozen dataclasses, never SQLAlchemy objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from oxy.events.types import Event
from oxy.models.messages import AssistantMessage, Message, SystemMessage, ToolCall, ToolMessage, UserMessage

LOCAL_TENANT = "local"
"""The tenant of everything the CLI stores: one person, one project."""

RunKind = Literal["sql", "agent", "workflow"]
RunState = Literal["running", "ok", "error", "cancelled", "interrupted"]
FinalState = Literal["ok", "error", "cancelled", "interrupted"]
FAILED_STATES: tuple[FinalState, ...] = ("error", "cancelled", "interrupted")
"""States a workflow run can be resumed from."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    """One run of a project file. `input` and `output` are JSON values; `error` is one line."""

    id: str
    tenant: str
    target: str
    kind: RunKind
    input: Any
    status: RunState
    error: str | None
    output: Any
    started_at: datetime
    finished_at: datetime | None
    thread_id: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class RunEvent:
    """An event of a run and its position `seq` (1, 2, ...) in the run's stream."""

    run_id: str
    seq: int
    event: Event


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskOutput:
    """The output of one finished workflow task, by its `path` (e.g. `per_fruit/summary`)."""

    run_id: str
    path: str
    output: Any
    finished_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Thread:
    """A conversation with an agent; its messages come from `Store.thread_messages`."""

    id: str
    tenant: str
    agent: str
    title: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadMessage:
    """One message of a thread, at position `seq` (1, 2, ...); `to_message()` gives it back to a model."""

    thread_id: str
    seq: int
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: tuple[ToolCall, ...]
    tool_call_id: str | None
    name: str | None
    created_at: datetime

    def to_message(self) -> Message:
        """The model-facing message this row stores, to send back as history."""
        if self.role == "system":
            return SystemMessage(content=self.content)
        if self.role == "user":
            return UserMessage(content=self.content)
        if self.role == "assistant":
            return AssistantMessage(content=self.content, tool_calls=self.tool_calls)
        return ToolMessage(tool_call_id=self.tool_call_id or "", content=self.content, name=self.name)


def tool_calls_to_json(calls: tuple[ToolCall, ...]) -> list[dict[str, str]] | None:
    if not calls:
        return None
    return [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]


def tool_calls_from_json(value: Any) -> tuple[ToolCall, ...]:
    if not value:
        return ()
    return tuple(ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"]) for c in value)


@dataclass(frozen=True, kw_only=True, slots=True)
class Memory:
    """Something an agent remembers for one tenant's user (`user` is "" when runs name no user)."""

    id: str
    tenant: str
    user: str
    text: str
    created_at: datetime
