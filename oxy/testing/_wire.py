"""A scripted `Reply` as the bytes vLLM sends: SSE chunks, or one chat-completion JSON body.

Stream order, as vLLM's OpenAI server writes it: a role chunk (`{"role": "assistant", "content": ""}`),
reasoning deltas (`reasoning_content`), content deltas, then per tool call a first chunk with its
`index`, `id`, `type` and `name` and further chunks with `arguments` in pieces, a finish chunk, a usage
chunk (`choices: []`) when `stream_options.include_usage` is set, and `data: [DONE]`.
"""

from __future__ import annotations

import json
from typing import Any

from oxy.models.messages import Usage

from .script import Reply, split_arguments, split_text

__all__ = ["DONE", "completion_body", "error_body", "reply_usage", "stream_events"]

DONE = b"data: [DONE]\n\n"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def reply_usage(reply: Reply, prompt_chars: int) -> Usage:
    if reply.usage is not None:
        return reply.usage
    pieces = len(reply.pieces()) + sum(len(split_arguments(c.arguments)) for c in reply.tool_calls)
    return Usage(input_tokens=max(1, prompt_chars // 4), output_tokens=pieces)


def _finish(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "total_tokens": usage.total_tokens,
        "completion_tokens": usage.output_tokens,
    }


def stream_events(
    reply: Reply, *, model: str, request_id: str, created: int, include_usage: bool, prompt_chars: int
) -> list[bytes]:
    """Every SSE event of the answer, `[DONE]` included, each a complete `data: ...\\n\\n`."""
    head = (
        f'data: {{"id":"{request_id}","object":"chat.completion.chunk","created":{created},'
        f'"model":{_dumps(model)},'
    ).encode()
    events = [head + tail for tail in _choice_tails(reply)]
    if include_usage:
        usage = _usage_json(reply_usage(reply, prompt_chars))
        events.append(head + b'"choices":[],"usage":' + _dumps(usage).encode() + b"}\n\n")
    events.append(DONE)
    return events


_tails: dict[int, tuple[Reply, list[bytes]]] = {}


def _choice_tails(reply: Reply) -> list[bytes]:
    """The per-chunk `"choices": [...]}` parts, rendered once per `Reply` object (a benchmark's
    function script returns the same one again and again)."""
    cached = _tails.get(id(reply))
    if cached is not None and cached[0] is reply:
        return cached[1]

    def tail(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b'"choices":[' + _dumps(choice).encode() + b"]}\n\n"

    tails = [tail({"role": "assistant", "content": ""})]
    tails.extend(tail({"reasoning_content": piece}) for piece in split_text(reply.reasoning))
    tails.extend(tail({"content": piece}) for piece in reply.pieces())
    for index, call in enumerate(reply.tool_calls):
        first = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name}}
        tails.append(tail({"tool_calls": [first]}))
        for piece in split_arguments(call.arguments):
            tails.append(tail({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    tails.append(tail({"content": ""}, _finish(reply)))
    if len(_tails) > 256:
        _tails.clear()
    _tails[id(reply)] = (reply, tails)  # holding the reply keeps its id from being reused
    return tails


def completion_body(reply: Reply, *, model: str, request_id: str, created: int, prompt_chars: int) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.tool_calls
        ]
    body = {
        "id": request_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(reply)}],
        "usage": _usage_json(reply_usage(reply, prompt_chars)),
    }
    return _dumps(body).encode()


def error_body(status: int, message: str) -> bytes:
    kind = (
        "rate_limit_error" if status == 429 else "invalid_request_error" if status < 500 else "server_error"
    )
    return _dumps({"error": {"message": message, "type": kind, "param": None, "code": status}}).encode()
