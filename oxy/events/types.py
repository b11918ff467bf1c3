"""The event stream: a closed union of small frozen dataclasses, discriminated by `kind`.

Every event carries `source` (the path of the step that emitted it, outermost first, e.g.
`("fruit_report", "per_fruit", "analyst", "execute_sql")`) and `ts` (seconds since the epoch).
One set of types feeds the terminal renderer, `--format jsonl`, server-sent events and the run
store; `event_to_json` / `event_from_json` round-trip an event through one line of JSON.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Discriminator, TypeAdapter

Source = tuple[str, ...]
RunStatus = Literal["ok", "error", "cancelled"]


def _now() -> float:
    return time.time()


@dataclass(frozen=True, kw_only=True, slots=True)
class RunStarted:
    """A run began: `target` is the file (or name) being run, `input` the prompt or variables, and
    for an agent `prompt` its system prompt's `name`, `version`, `sha256` and A/B `variant`."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["run_started"] = "run_started"
    run_id: str
    target: str
    input: Any = None
    prompt: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RunFinished:
    """A run ended; `output` is its final answer or result, `error` the one-line reason it failed."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["run_finished"] = "run_finished"
    run_id: str
    status: RunStatus
    output: Any = None
    error: str | None = None
    duration_s: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class StepStarted:
    """A step (a workflow task, an agent, a tool run as a nested step) began."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["step_started"] = "step_started"
    name: str
    step_type: str


@dataclass(frozen=True, kw_only=True, slots=True)
class StepFinished:
    """A step ended."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["step_finished"] = "step_finished"
    name: str
    status: RunStatus
    output: Any = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TextDelta:
    """A piece of the model's answer, streamed as it arrives."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["text_delta"] = "text_delta"
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning (vLLM's `reasoning_content`), streamed as it arrives."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["reasoning_delta"] = "reasoning_delta"
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallEvent:
    """The model asked for a tool; `arguments` is the raw JSON text the model sent."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolResultEvent:
    """A tool finished; `content` is what the model sees, `is_error` when it is an error message."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    content: str
    is_error: bool = False
    truncated: bool = False
    """The result was longer than the run allows a model to read; `content` says what was cut."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SqlEvent:
    """A SQL statement about to run against `database`."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["sql"] = "sql"
    sql: str
    database: str
    dialect: str
    call_id: str | None = None
    """The model's tool call that ran it, if one did."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TableEvent:
    """A result table; `truncated` when rows or cell text past the run's limits were dropped, and
    `dropped` says what (`rows past 10,000`, `3 cells cut to 1,000 characters`, ...)."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["table"] = "table"
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool = False
    database: str | None = None
    dropped: str | None = None
    call_id: str | None = None
    """The model's tool call whose statement returned it, if one did."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChartEvent:
    """A chart as a Vega-Lite spec."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["chart"] = "chart"
    spec: dict[str, Any]
    title: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class UsageEvent:
    """Tokens used by one model call."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["usage"] = "usage"
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None
    """Why the model stopped: `stop`, `tool_calls`, or `length` when `max_tokens` cut the answer off."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ErrorEvent:
    """Something failed; `error_type` is the exception class name, `message` its one-line text."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["error"] = "error"
    error_type: str
    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class InputRequested:
    """The run waits for a person: to approve a tool call (`input_kind: permission`) or to answer
    the model's question. `what` is the call or the question, `why` the rule that asked (or that none
    matched), `timeout_s` how long it waits before the call fails. Answer it with the request's id."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["input_requested"] = "input_requested"
    request_id: str
    input_kind: Literal["permission", "question"]
    tool: str
    what: str
    why: str = ""
    rule: str | None = None
    options: tuple[str, ...] = ()
    call_id: str | None = None
    timeout_s: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InputAnswered:
    """How a person answered (or why nobody did: `note`); `always` approves the same call for the thread."""

    source: Source = ()
    ts: float = field(default_factory=_now)
    kind: Literal["input_answered"] = "input_answered"
    request_id: str
    approved: bool
    always: bool = False
    text: str | None = None
    note: str | None = None


Event = Annotated[
    RunStarted
    | RunFinished
    | StepStarted
    | StepFinished
    | TextDelta
    | ReasoningDelta
    | ToolCallEvent
    | ToolResultEvent
    | SqlEvent
    | TableEvent
    | ChartEvent
    | UsageEvent
    | InputRequested
    | InputAnswered
    | ErrorEvent,
    Discriminator("kind"),
]

_adapter: TypeAdapter[Event] | None = None


def _event_adapter() -> TypeAdapter[Event]:
    global _adapter
    if _adapter is None:
        _adapter = TypeAdapter(Event)
    return _adapter


def event_to_json(event: Event) -> str:
    """One line of JSON for `event` (no trailing newline)."""
    return _event_adapter().dump_json(event).decode()


MAX_STORED_EVENT_BYTES = 2 * 1_048_576
"""The most one event may take in the run store (its JSON); bigger parts are replaced by a note."""


def bounded_event(event: Event, *, max_bytes: int = MAX_STORED_EVENT_BYTES) -> tuple[Event, str]:
    """`event` and its JSON, with an `output`, tool-call `arguments` or `content` that would pass
    `max_bytes` replaced by a note of what was dropped (`{"truncated": true, "dropped": "..."}`)."""
    payload = event_to_json(event)
    if len(payload) <= max_bytes:
        return event, payload
    dropped = (
        f"{len(payload):,} bytes of event not stored: over the {max_bytes:,}-byte limit of a stored event"
    )
    if isinstance(event, RunFinished | StepFinished):
        event = dataclasses.replace(event, output={"truncated": True, "dropped": dropped})
    elif isinstance(event, ToolCallEvent):
        event = dataclasses.replace(event, arguments=event.arguments[: max_bytes // 2] + f" […{dropped}]")
    elif isinstance(event, ToolResultEvent):
        event = dataclasses.replace(
            event, content=event.content[: max_bytes // 2] + f" […{dropped}]", truncated=True
        )
    elif isinstance(event, TableEvent):
        event = dataclasses.replace(event, rows=(), truncated=True, dropped=dropped)
    payload = event_to_json(event)
    if len(payload) > max_bytes:  # any other long text (an error, SQL, a delta): cut every string field
        cut = max_bytes // 8  # JSON escaping can grow a character to six bytes
        long = {
            f.name: value[:cut] + f" […{dropped}]"
            for f in dataclasses.fields(event)
            if isinstance(value := getattr(event, f.name), str) and len(value) > cut
        }
        event = dataclasses.replace(event, **long)  # pyright: ignore[reportArgumentType]
        payload = event_to_json(event)
    return event, payload


def event_to_dict(event: Event) -> dict[str, Any]:
    """`event` as JSON-ready Python objects."""
    return _event_adapter().dump_python(event, mode="json")


def event_from_json(line: str | bytes) -> Event:
    """Parse one line written by `event_to_json` back into the same event."""
    return _event_adapter().validate_json(line)
