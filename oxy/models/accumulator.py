"""Assemble a stream of deltas into one `ModelResponse`.

Servers send tool calls in pieces keyed by `index`: the id and name first, the JSON arguments spread
over later chunks (vLLM, OpenAI), or a whole call in one chunk (Ollama, llama.cpp). Every client feeds
its pieces through one `ResponseAccumulator`, which also returns the delta to pass on to the caller.
"""

from __future__ import annotations

from .messages import ModelResponse, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta, Usage

__all__ = ["ResponseAccumulator"]


class _CallParts:
    __slots__ = ("arguments", "id", "name")

    def __init__(self, id: str | None, name: str | None) -> None:
        self.id = id
        self.name = name
        self.arguments: list[str] = []


class ResponseAccumulator:
    """Collects text, reasoning and tool-call pieces; `response()` builds the finished turn."""

    __slots__ = ("_alias", "_calls", "_reasoning", "_text", "finish_reason", "usage")

    def __init__(self) -> None:
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, _CallParts] = {}
        self._alias: dict[int, int] = {}
        self.usage: Usage | None = None
        self.finish_reason: str | None = None

    @property
    def started(self) -> bool:
        """Whether any output arrived (after that, a failed stream can't be retried unseen)."""
        return bool(self._text or self._reasoning or self._calls)

    def text(self, text: str) -> TextDelta:
        self._text.append(text)
        return TextDelta(text)

    def reasoning(self, text: str) -> ReasoningDelta:
        self._reasoning.append(text)
        return ReasoningDelta(text)

    def tool_call(self, index: int, id: str | None, name: str | None, arguments: str) -> ToolCallDelta:
        """Add a piece of call `index`; a new `id` on an index already named starts another call."""
        index = self._alias.get(index, index)
        parts = self._calls.get(index)
        if parts is None:
            parts = self._calls[index] = _CallParts(id, name)
        elif id and parts.id and id != parts.id and parts.name:
            # Some servers number every call 0; a fresh id on a finished call means a new call.
            new_index = max(self._calls) + 1
            self._alias[index] = new_index
            index = new_index
            parts = self._calls[index] = _CallParts(id, name)
        else:
            if id and not parts.id:
                parts.id = id
            if name and not parts.name:
                parts.name = name
        if arguments:
            parts.arguments.append(arguments)
        return ToolCallDelta(index=index, id=id, name=name, arguments=arguments)

    def response(self) -> ModelResponse:
        calls = tuple(
            ToolCall(
                id=parts.id or f"call_{index}",
                name=parts.name or "",
                arguments="".join(parts.arguments),
            )
            for index, parts in sorted(self._calls.items())
        )
        finish = self.finish_reason
        if finish is None and calls:
            finish = "tool_calls"
        return ModelResponse(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            usage=self.usage,
            finish_reason=finish,
        )
