"""What goes into a model call and what comes out: messages, tools, settings, responses, deltas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "AssistantMessage",
    "Message",
    "ModelDelta",
    "ModelResponse",
    "ModelSettings",
    "NamedToolChoice",
    "ReasoningDelta",
    "ResponseDone",
    "SystemMessage",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolDefinition",
    "ToolMessage",
    "Usage",
    "UserMessage",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCall:
    """One call the model asked for; `arguments` is the JSON text exactly as the model wrote it."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolDefinition:
    """A tool offered to the model; `parameters` is a JSON Schema object."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    arguments_grammar: Callable[[], str | None] | None = field(default=None, compare=False)
    """For models that constrain generation with a llama.cpp grammar (in-process llama.cpp): returns
    GBNF whose `root` is the arguments object, narrower than `parameters` (the SQL a database admits).
    Called at most once per client, in a worker thread (it may read a schema); other clients ignore it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemMessage:
    content: str
    role: Literal["system"] = "system"


@dataclass(frozen=True, kw_only=True, slots=True)
class UserMessage:
    content: str
    role: Literal["user"] = "user"


@dataclass(frozen=True, kw_only=True, slots=True)
class AssistantMessage:
    """A model turn in the history: its text and the tool calls it made."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    role: Literal["assistant"] = "assistant"


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolMessage:
    """The result of one tool call, answering `tool_call_id`."""

    tool_call_id: str
    content: str
    name: str | None = None
    is_error: bool = False
    """The tool failed and `content` says why (the model may correct its call)."""
    role: Literal["tool"] = "tool"


Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage


@dataclass(frozen=True, kw_only=True, slots=True)
class NamedToolChoice:
    """Force the model to call this tool."""

    name: str


ToolChoice = Literal["auto", "required", "none"] | NamedToolChoice


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelSettings:
    """Sampling and tool-use options for one call; `None` leaves the server's default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    extra_body: Mapping[str, Any] | None = None
    """Sent as-is in the request body (e.g. vLLM's `chat_template_kwargs`)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelResponse:
    """A complete model turn."""

    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    """`stop`, `tool_calls`, `length`, ... as the server said it; `None` if it didn't."""

    def to_message(self) -> AssistantMessage:
        """The turn as it goes back into the history."""
        return AssistantMessage(content=self.text, tool_calls=self.tool_calls)

    def as_deltas(self) -> list[ModelDelta]:
        """The turn as a stream would have sent it, for clients that have it whole; the caller adds
        the closing `ResponseDone`."""
        deltas: list[ModelDelta] = [ReasoningDelta(self.reasoning)] if self.reasoning else []
        if self.text:
            deltas.append(TextDelta(self.text))
        deltas.extend(
            ToolCallDelta(index=i, id=call.id, name=call.name, arguments=call.arguments)
            for i, call in enumerate(self.tool_calls)
        )
        return deltas


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str
    kind: Literal["reasoning"] = "reasoning"


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallDelta:
    """A piece of tool call `index`: `id` and `name` arrive first, `arguments` in pieces."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True, slots=True)
class ResponseDone:
    """The last delta of every stream: the assembled turn, with usage and finish reason."""

    response: ModelResponse
    kind: Literal["done"] = "done"


ModelDelta = TextDelta | ReasoningDelta | ToolCallDelta | ResponseDone
