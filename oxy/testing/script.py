"""Scripts for the scripted model: what it answers, turn by turn.

A script is a list of turns consumed in order, or a function `(ScriptedRequest) -> Turn` that picks
one per request (for benchmarks, or to answer by content). A turn is a `Reply` (text, reasoning,
tool calls), a `Fail` (an HTTP error such as 429 or 500) or a `Drop` (the connection dies mid-answer).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from oxy.models.messages import (
    AssistantMessage,
    Message,
    ModelSettings,
    NamedToolChoice,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolMessage,
    Usage,
    UserMessage,
)

__all__ = [
    "Drop",
    "Fail",
    "Reply",
    "Script",
    "ScriptExhausted",
    "ScriptedRequest",
    "Turn",
    "tool_call",
]

_call_ids = count()


def tool_call(
    name: str, arguments: Mapping[str, Any] | str | None = None, *, id: str | None = None
) -> ToolCall:
    """A tool call for a `Reply`; `arguments` is a dict (dumped to JSON) or JSON text."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return ToolCall(id=id or f"call_{next(_call_ids)}", name=name, arguments=text)


@dataclass(frozen=True, kw_only=True, slots=True)
class Reply:
    """One model turn. Text and arguments are streamed in pieces, the way a server sends tokens."""

    text: str = ""
    reasoning: str = ""
    tool_calls: Sequence[ToolCall] = ()
    usage: Usage | None = None
    """Defaults to an estimate: prompt characters / 4 in, one token per streamed piece out."""
    finish_reason: str | None = None
    """Defaults to `tool_calls` when there are calls, else `stop`."""
    delay: float = 0.0
    """Seconds before the first byte of the answer."""
    chunk_delay: float = 0.0
    """Seconds between streamed chunks."""

    def pieces(self) -> list[str]:
        return split_text(self.text)


@dataclass(frozen=True, kw_only=True, slots=True)
class Fail:
    """An HTTP error answer (in-process: the same failure, retried by the same rules)."""

    status: int = 500
    message: str = "scripted failure"
    retry_after: float | None = None
    """Sent as the `Retry-After` header, in seconds."""
    delay: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Drop:
    """The connection closes after `after_chunks` streamed chunks of `reply` (0: before any answer)."""

    after_chunks: int = 0
    reply: Reply = Reply(text="this answer is cut short")
    delay: float = 0.0


Turn = Reply | Fail | Drop


class ScriptExhausted(AssertionError):
    """The model was asked for more turns than the script holds."""


class ScriptedRequest:
    """One request the scripted model received. The HTTP server parses the JSON body on first use."""

    __slots__ = ("_messages", "_settings", "_tools", "body", "model", "stream")

    def __init__(
        self,
        *,
        model: str,
        stream: bool,
        messages: tuple[Message, ...] | None = None,
        tools: tuple[ToolDefinition, ...] | None = None,
        settings: ModelSettings | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.stream = stream
        self.body = body
        """The JSON body, for requests that came over HTTP."""
        self._messages = messages
        self._tools = tools
        self._settings = settings

    def __repr__(self) -> str:
        return f"ScriptedRequest(model={self.model!r}, stream={self.stream}, messages={self.messages!r})"

    @property
    def messages(self) -> tuple[Message, ...]:
        if self._messages is None:
            self._messages = tuple(_message(m) for m in (self.body or {}).get("messages", ()))
        return self._messages

    @property
    def tools(self) -> tuple[ToolDefinition, ...]:
        if self._tools is None:
            self._tools = tuple(_tool(t) for t in (self.body or {}).get("tools") or ())
        return self._tools

    @property
    def settings(self) -> ModelSettings:
        if self._settings is None:
            self._settings = _settings(self.body or {})
        return self._settings

    @property
    def last_message(self) -> Message | None:
        return self.messages[-1] if self.messages else None

    @property
    def prompt_chars(self) -> int:
        return sum(len(m.content) for m in self.messages)


Script = Iterable[Turn] | Callable[[ScriptedRequest], Turn]


class Scripter:
    """Hands out turns and records requests; shared by the in-process model and the server."""

    def __init__(self, script: Script) -> None:
        self.requests: list[ScriptedRequest] = []
        self.set(script)

    def set(self, script: Script) -> None:
        self._fn: Callable[[ScriptedRequest], Turn] | None = None
        self._turns: deque[Turn] = deque()
        if callable(script):
            self._fn = script
        else:
            self._turns.extend(script)

    def extend(self, turns: Iterable[Turn]) -> None:
        self._turns.extend(turns)

    @property
    def remaining(self) -> int:
        """Turns not yet used (0 for a function script)."""
        return len(self._turns)

    def next(self, request: ScriptedRequest) -> Turn:
        self.requests.append(request)
        if self._fn is not None:
            return self._fn(request)
        if not self._turns:
            raise ScriptExhausted(
                f"The scripted model got request #{len(self.requests)} but its script has no turn left; "
                f"last message: {request.last_message!r}"
            )
        return self._turns.popleft()


_PIECE = re.compile(r"\s*\S+\s*?(?=\s|$)|\s+")


def split_text(text: str) -> list[str]:
    """Word-sized pieces that join back to `text` exactly."""
    if not text:
        return []
    pieces = _PIECE.findall(text)
    return pieces if "".join(pieces) == text else [text]


def split_arguments(arguments: str, size: int = 12) -> list[str]:
    """Tool-call arguments in fixed-size pieces, as a server streams them."""
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def _message(raw: Mapping[str, Any]) -> Message:
    role = raw.get("role")
    content = raw.get("content")
    if isinstance(content, list):  # content parts: keep the text
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    text = content if isinstance(content, str) else ""
    if role == "assistant":
        calls = tuple(
            ToolCall(
                id=c.get("id", ""), name=c["function"]["name"], arguments=c["function"].get("arguments", "")
            )
            for c in raw.get("tool_calls") or ()
        )
        return AssistantMessage(content=text, tool_calls=calls)
    if role == "tool":
        return ToolMessage(tool_call_id=raw.get("tool_call_id", ""), content=text)
    if role in ("system", "developer"):
        return SystemMessage(content=text)
    return UserMessage(content=text)


def _tool(raw: Mapping[str, Any]) -> ToolDefinition:
    function = raw.get("function", {})
    return ToolDefinition(
        name=function.get("name", ""),
        description=function.get("description", ""),
        parameters=function.get("parameters", {}),
    )


def _settings(body: Mapping[str, Any]) -> ModelSettings:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        choice = NamedToolChoice(name=choice.get("function", {}).get("name", ""))
    stop = body.get("stop")
    return ModelSettings(
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        max_tokens=body.get("max_tokens") or body.get("max_completion_tokens"),
        stop=(stop,) if isinstance(stop, str) else tuple(stop) if stop else None,
        seed=body.get("seed"),
        tool_choice=choice,
        parallel_tool_calls=body.get("parallel_tool_calls"),
        reasoning_effort=body.get("reasoning_effort"),
    )
