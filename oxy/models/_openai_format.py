"""Our messages and settings as OpenAI chat-completions JSON, and OpenAI-shaped replies back.

The reply side comes twice: `chunk_deltas` / `response_from_completion` read attributes (litellm's
objects, which mirror the `openai` SDK's); `json_chunk_deltas` / `response_from_json` read the dicts
that `_wire` decodes for OpenAI-compatible servers and that llama-cpp-python returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .accumulator import ResponseAccumulator
from .messages import (
    AssistantMessage,
    Message,
    ModelDelta,
    ModelResponse,
    ModelSettings,
    NamedToolChoice,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolMessage,
    Usage,
)

__all__ = [
    "chunk_deltas",
    "json_chunk_deltas",
    "request_body",
    "response_from_completion",
    "response_from_json",
]


def _message(message: Message) -> dict[str, Any]:
    if isinstance(message, AssistantMessage):
        # llama.cpp's server rejects `content: null` on assistant messages: always send a string.
        out: dict[str, Any] = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in message.tool_calls
            ]
        return out
    if isinstance(message, ToolMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    return {"role": "user", "content": message.content}


def _tool(tool: ToolDefinition) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def request_body(
    model: str, messages: Sequence[Message], tools: Sequence[ToolDefinition], settings: ModelSettings
) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create` (and the JSON body it sends)."""
    body: dict[str, Any] = {"model": model, "messages": [_message(m) for m in messages]}
    if tools:
        body["tools"] = [_tool(t) for t in tools]
        choice = settings.tool_choice
        if choice is not None:
            body["tool_choice"] = (
                {"type": "function", "function": {"name": choice.name}}
                if isinstance(choice, NamedToolChoice)
                else choice
            )
        if settings.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = settings.parallel_tool_calls
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.top_p is not None:
        body["top_p"] = settings.top_p
    if settings.max_tokens is not None:
        body["max_tokens"] = settings.max_tokens
    if settings.stop is not None:
        body["stop"] = list(settings.stop)
    if settings.seed is not None:
        body["seed"] = settings.seed
    if settings.reasoning_effort is not None:
        body["reasoning_effort"] = settings.reasoning_effort
    return body


def _reasoning(delta: Any) -> str | None:
    extra = getattr(delta, "__pydantic_extra__", None)
    if extra:
        return extra.get("reasoning_content") or extra.get("reasoning")
    # litellm declares `reasoning_content` as a field rather than an extra.
    return getattr(delta, "reasoning_content", None) if extra is None else None


def _usage(usage: Any) -> Usage:
    return Usage(input_tokens=usage.prompt_tokens or 0, output_tokens=usage.completion_tokens or 0)


def chunk_deltas(chunk: Any, acc: ResponseAccumulator) -> list[ModelDelta]:
    """Feed one streamed chunk to `acc`; return the deltas to pass on."""
    out: list[ModelDelta] = []
    usage = getattr(chunk, "usage", None)  # litellm sets it on the last chunk only
    if usage is not None:
        acc.usage = _usage(usage)
    for choice in chunk.choices:
        delta = choice.delta
        if delta is not None:
            reasoning = _reasoning(delta)
            if reasoning:
                out.append(acc.reasoning(reasoning))
            content = delta.content
            if content:
                out.append(acc.text(content))
            calls = delta.tool_calls
            if calls:
                for call in calls:
                    function = call.function
                    if function is None:
                        out.append(acc.tool_call(call.index, call.id, None, ""))
                    else:
                        out.append(
                            acc.tool_call(call.index, call.id, function.name, function.arguments or "")
                        )
        if choice.finish_reason:
            acc.finish_reason = choice.finish_reason
    return out


def response_from_completion(completion: Any) -> ModelResponse:
    """A non-streamed `ChatCompletion` as our `ModelResponse`."""
    usage = None if completion.usage is None else _usage(completion.usage)
    if not completion.choices:
        return ModelResponse(usage=usage)
    choice = completion.choices[0]
    message = choice.message
    calls = tuple(
        ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments or "")
        for c in (message.tool_calls or ())
        if getattr(c, "function", None) is not None
    )
    return ModelResponse(
        text=message.content or "",
        reasoning=_reasoning(message) or "",
        tool_calls=calls,
        usage=usage,
        finish_reason=choice.finish_reason,
    )


# The same readers for JSON decoded to dicts (`_wire`): no SDK object per chunk, no attribute lookups
# through pydantic. Keep them in step with `chunk_deltas` and `response_from_completion` above.


def _json_reasoning(delta: dict[str, Any]) -> str | None:
    return delta.get("reasoning_content") or delta.get("reasoning")


def _json_usage(usage: dict[str, Any]) -> Usage:
    return Usage(
        input_tokens=usage.get("prompt_tokens") or 0, output_tokens=usage.get("completion_tokens") or 0
    )


def json_chunk_deltas(chunk: dict[str, Any], acc: ResponseAccumulator) -> list[ModelDelta]:
    """Feed one streamed chunk, decoded from JSON, to `acc`; return the deltas to pass on."""
    out: list[ModelDelta] = []
    usage = chunk.get("usage")
    if usage:
        acc.usage = _json_usage(usage)
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta")
        if delta:
            reasoning = _json_reasoning(delta)
            if reasoning:
                out.append(acc.reasoning(reasoning))
            content = delta.get("content")
            if content:
                out.append(acc.text(content))
            calls = delta.get("tool_calls")
            if calls:
                for call in calls:
                    function = call.get("function")
                    index = call.get("index", 0)
                    if function is None:
                        out.append(acc.tool_call(index, call.get("id"), None, ""))
                    else:
                        out.append(
                            acc.tool_call(
                                index, call.get("id"), function.get("name"), function.get("arguments") or ""
                            )
                        )
        finish = choice.get("finish_reason")
        if finish:
            acc.finish_reason = finish
    return out


def response_from_json(completion: dict[str, Any]) -> ModelResponse:
    """A non-streamed chat completion, decoded from JSON, as our `ModelResponse`."""
    raw_usage = completion.get("usage")
    usage = _json_usage(raw_usage) if raw_usage else None
    choices = completion.get("choices")
    if not choices:
        return ModelResponse(usage=usage)
    choice = choices[0]
    message = choice.get("message") or {}
    calls = tuple(
        ToolCall(
            id=c.get("id") or f"call_{i}",
            name=function.get("name") or "",
            arguments=function.get("arguments") or "",
        )
        for i, c in enumerate(message.get("tool_calls") or ())
        if (function := c.get("function")) is not None
    )
    return ModelResponse(
        text=message.get("content") or "",
        reasoning=_json_reasoning(message) or "",
        tool_calls=calls,
        usage=usage,
        finish_reason=choice.get("finish_reason"),
    )
