"""Tool calling for in-process llama.cpp models, done by oxy rather than by a llama-cpp-python format.

The conversation is rendered with the model's own chat template (the GGUF carries it; no HTML
autoescaping, unlike `chatml-function-calling`). Tools are described in the system message. Each
turn is one of two kinds, decided here, not by the model:

- a **call** turn generates `{"name": ..., "arguments": ...}` under a grammar: first the tool's name
  (when several are offered), then its arguments, from the tool's own grammar where it has one (the
  SQL its database admits) or else from its JSON Schema. A call is always well formed.
- an **answer** turn generates text, with a repetition penalty.

A turn calls a tool when the caller forces one (`required`, a named tool), on `auto` before any tool
has run for the latest question, and after a tool failed (a retry that reads the error); after a good result it answers.
Tool results go back as a user turn that names the tool and repeats the question, since templates of
small models have no `tool` role and small models lose the question behind a result table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .messages import (
    AssistantMessage,
    Message,
    NamedToolChoice,
    SystemMessage,
    ToolCall,
    ToolChoice,
    ToolDefinition,
    ToolMessage,
    UserMessage,
)

__all__ = ["Plan", "call_prefix", "chat_messages", "name_grammar", "plan_turn"]


@dataclass(frozen=True, slots=True)
class Plan:
    """What the next turn does: call one of `tools`, or (no tools) answer in text."""

    tools: tuple[ToolDefinition, ...] = ()

    @property
    def calls(self) -> bool:
        return bool(self.tools)


def plan_turn(
    messages: Sequence[Message], tools: Sequence[ToolDefinition], choice: ToolChoice | None
) -> Plan:
    if not tools or choice == "none":
        return Plan()
    if isinstance(choice, NamedToolChoice):
        named = tuple(t for t in tools if t.name == choice.name)
        return Plan(named or tuple(tools))
    if choice == "required":
        return Plan(tuple(tools))
    last = messages[-1] if messages else None
    if isinstance(last, ToolMessage):
        return Plan(tuple(tools)) if last.is_error else Plan()
    # Only this question's turns count: a thread's earlier answers used earlier results.
    asked = max((i for i, m in enumerate(messages) if isinstance(m, UserMessage)), default=-1)
    ran_a_tool = any(isinstance(m, ToolMessage) for m in messages[asked + 1 :])
    return Plan() if ran_a_tool else Plan(tuple(tools))


def chat_messages(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> list[dict[str, str]]:
    """The conversation as plain `{role, content}` turns for a chat template. `tools` (those the turn
    may call) are described only on call turns: on an answer turn small models copy the call format
    instead of answering, so earlier calls show there only as the results they returned."""
    system = "\n\n".join(m.content for m in messages if isinstance(m, SystemMessage))
    if tools:
        system = (system + "\n\n" if system else "") + _tools_text(tools)
    out: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    question = ""
    rest = [m for m in messages if not isinstance(m, SystemMessage)]
    for index, message in enumerate(rest):
        if isinstance(message, UserMessage):
            question = message.content
            out.append({"role": "user", "content": message.content})
        elif isinstance(message, AssistantMessage):
            parts = [message.content] if message.content else []
            if tools:
                parts += [_call_text(call) for call in message.tool_calls]
            if parts:
                out.append({"role": "assistant", "content": "\n".join(parts)})
        else:
            name = message.name or "the tool"
            verb = "failed" if message.is_error else "returned"
            text = f"{name} {verb}:\n{message.content}"
            if index == len(rest) - 1 and question:
                text += (
                    f"\n\nFix the call and try again: {question}"
                    if message.is_error
                    else f"\n\nAnswer in one sentence: {question}"
                )
            if out and out[-1]["role"] == "user":
                out[-1]["content"] += "\n\n" + text
            else:
                out.append({"role": "user", "content": text})
    return out


def call_prefix(name: str) -> str:
    """What a call turn's text starts with once the tool is chosen; the arguments follow, then `}`."""
    return '{"name": ' + json.dumps(name) + ', "arguments": '


NAME_PREFIX = '{"name": "'


def name_grammar(tools: Sequence[ToolDefinition]) -> str:
    """GBNF for the tool's name, after `NAME_PREFIX`, up to its closing quote."""
    names = " | ".join(json.dumps(json.dumps(t.name)[1:]) for t in tools)
    return f"root ::= {names}\n"


def parse_call(text: str, tools: Sequence[ToolDefinition]) -> tuple[str, str] | None:
    """`(name, arguments JSON)` from a call turn's text, or None when it is not one."""
    try:
        raw: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("name") not in {t.name for t in tools}:  # pyright: ignore[reportUnknownMemberType]
        return None
    return str(raw["name"]), json.dumps(raw.get("arguments", {}))  # pyright: ignore[reportUnknownArgumentType]


def _call_text(call: ToolCall) -> str:
    try:
        arguments: Any = json.loads(call.arguments or "{}")
    except ValueError:
        arguments = call.arguments
    return json.dumps({"name": call.name, "arguments": arguments})


def _tools_text(tools: Sequence[ToolDefinition]) -> str:
    lines = ['To call a tool, reply with only {"name": "<tool>", "arguments": {...}}. Tools:']
    for tool in tools:
        properties: dict[str, Any] = dict(tool.parameters.get("properties") or {})
        arguments = ", ".join(
            f"{name} ({spec.get('type', 'any')}): {spec.get('description', '')}".rstrip(": ")
            for name, spec in properties.items()
        )
        lines.append(f"- {tool.name}: {tool.description} Arguments: {arguments or 'none'}.")
    return "\n".join(lines)
