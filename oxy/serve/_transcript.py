"""An agent run's new messages, rebuilt from its events, to append to its thread.

The ReAct loop emits, per model turn at the agent's own source: text deltas, a usage event, then
one `tool_call` per call and one `tool_result` per finished call (in finishing order). Events of
nested steps (a tool's own steps, an agent used as a tool) have longer sources and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable

from oxy.execution.events import Event, Source, TextDelta, ToolCallEvent, ToolResultEvent, UsageEvent
from oxy.models.messages import AssistantMessage, Message, ToolCall, ToolMessage


class _Turn:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: list[ToolCall] = []
        self.results: dict[str, ToolMessage] = {}
        self.closed = False

    def messages(self) -> list[Message]:
        out: list[Message] = [AssistantMessage(content="".join(self.text), tool_calls=tuple(self.calls))]
        out.extend(self.results[c.id] for c in self.calls if c.id in self.results)
        return out


def agent_messages(events: Iterable[Event], *, source: Source) -> list[Message]:
    """The assistant turns and tool results of the agent at `source`, in conversation order."""
    turns: list[_Turn] = []
    for event in events:
        if event.source != source:
            continue
        if isinstance(event, TextDelta):
            if not turns or turns[-1].closed:
                turns.append(_Turn())
            turns[-1].text.append(event.text)
        elif isinstance(event, UsageEvent):
            if not turns or turns[-1].closed:
                turns.append(_Turn())
            turns[-1].closed = True
        elif isinstance(event, ToolCallEvent) and turns:
            turns[-1].calls.append(ToolCall(id=event.call_id, name=event.name, arguments=event.arguments))
        elif isinstance(event, ToolResultEvent) and turns:
            turns[-1].results[event.call_id] = ToolMessage(
                tool_call_id=event.call_id, content=event.content, name=event.name
            )
    return [message for turn in turns for message in turn.messages()]
