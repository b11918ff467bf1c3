"""Request and response bodies of the HTTP API (pydantic at the boundary; OpenAPI comes from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxy.storage import Memory, Run, TaskRecord, Thread, ThreadMessage


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentRunBody(_Body):
    prompt: str = Field(min_length=1, max_length=200_000, description="The question for the agent.")
    thread_id: str | None = Field(default=None, description="Continue this thread; omit to start one.")
    stream: bool = Field(default=True, description="Stream events as server-sent events.")
    background: bool = Field(default=False, description="Answer 202 at once; the run goes on.")
    user: str | None = Field(
        default=None, max_length=256, description="Who asks, within the key's tenant; tools see it."
    )


MAX_VARIABLE_DEPTH = 32


class InputBody(_Body):
    request_id: str = Field(description="The `input_requested` event's `request_id`.")
    approve: bool | None = Field(default=None, description="A tool call: run it (true) or refuse it.")
    always: bool = Field(default=False, description="Approve the same call for the rest of the thread.")
    answer: str | None = Field(default=None, max_length=100_000, description="A question's answer.")


class InputResult(BaseModel):
    run_id: str = Field(description="The run that goes on: the same one, or its resumption.")
    resumed: bool = Field(description="The server had restarted: the run goes on as a new run.")


class WorkflowRunBody(_Body):
    variables: dict[str, Any] = Field(default_factory=dict[str, Any])
    stream: bool = True
    background: bool = False
    user: str | None = Field(default=None, max_length=256)

    @field_validator("variables")
    @classmethod
    def _not_too_deep(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Values nested past `MAX_VARIABLE_DEPTH` levels are refused (422), before anything recurses."""
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if depth > MAX_VARIABLE_DEPTH:
                raise ValueError(f"variables nest deeper than {MAX_VARIABLE_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((v, depth + 1) for v in item.values())  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            elif isinstance(item, list):
                stack.extend((v, depth + 1) for v in item)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        return value


class AgentInfo(BaseModel):
    name: str
    path: str
    description: str
    type: str
    error: str | None = None


class WorkflowInfo(BaseModel):
    name: str
    path: str
    description: str
    variables: dict[str, Any]
    error: str | None = None


class RunResult(BaseModel):
    run_id: str
    thread_id: str | None
    status: str
    output: Any = None
    error: str | None = None


class RunInfo(BaseModel):
    run_id: str
    kind: str
    target: str
    thread_id: str | None
    status: Literal["queued", "running", "ok", "error", "cancelled", "interrupted"]
    input: Any = None
    output: Any = None
    error: str | None = None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: Run) -> RunInfo:
        return cls(
            run_id=run.id,
            kind=run.kind,
            target=run.target,
            thread_id=run.thread_id,
            status=run.status,
            input=run.input,
            output=run.output,
            error=run.error,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


class ToolCallInfo(BaseModel):
    id: str
    name: str
    arguments: str


class MessageInfo(BaseModel):
    seq: int
    role: str
    content: str
    tool_calls: list[ToolCallInfo] = Field(default_factory=list[ToolCallInfo])
    tool_call_id: str | None = None
    name: str | None = None
    created_at: datetime

    @classmethod
    def of(cls, message: ThreadMessage) -> MessageInfo:
        return cls(
            seq=message.seq,
            role=message.role,
            content=message.content,
            tool_calls=[
                ToolCallInfo(id=c.id, name=c.name, arguments=c.arguments) for c in message.tool_calls
            ],
            tool_call_id=message.tool_call_id,
            name=message.name,
            created_at=message.created_at,
        )


class MemoryInfo(BaseModel):
    """Something an agent remembers (long-term memory) for a user of the tenant ("" for none)."""

    memory_id: str
    user: str
    text: str
    created_at: datetime

    @classmethod
    def of(cls, memory: Memory) -> MemoryInfo:
        return cls(memory_id=memory.id, user=memory.user, text=memory.text, created_at=memory.created_at)


class TaskInfoBody(BaseModel):
    """A background task an agent started: `running` until it was stopped (or its server ended)."""

    task_id: str
    command: str
    pid: int
    started_at: datetime
    stopped_at: datetime | None
    exit_code: int | None

    @classmethod
    def of(cls, task: TaskRecord) -> TaskInfoBody:
        return cls(
            task_id=task.task_id,
            command=task.command,
            pid=task.pid,
            started_at=task.started_at,
            stopped_at=task.stopped_at,
            exit_code=task.exit_code,
        )


class ThreadInfo(BaseModel):
    thread_id: str
    agent: str
    title: str | None
    created_at: datetime
    updated_at: datetime
    messages: list[MessageInfo] | None = None

    @classmethod
    def of(cls, thread: Thread, messages: list[ThreadMessage] | None = None) -> ThreadInfo:
        return cls(
            thread_id=thread.id,
            agent=thread.agent,
            title=thread.title,
            created_at=thread.created_at,
            updated_at=thread.updated_at,
            messages=None if messages is None else [MessageInfo.of(m) for m in messages],
        )
