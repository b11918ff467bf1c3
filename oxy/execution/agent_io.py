"""What an agent takes and gives back: `AgentRequest` in, `AgentAnswer` out.

They live below agents and workflows so that a workflow's agent task, a tool and an entry point can
hold an agent's answer without importing the agents package."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from oxy.models import messages as m

__all__ = ["AgentAnswer", "AgentRequest"]


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentRequest:
    """A question for an agent, with the conversation before it (oldest first)."""

    prompt: str
    history: Sequence[m.Message] = field(default_factory=tuple[m.Message, ...])
    resume: Sequence[m.Message] = field(default_factory=tuple[m.Message, ...])
    """What the agent already did on this question before it paused (its turns and tool results):
    a resumed run goes on from there, running the last turn's calls that have no result."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentAnswer:
    """What an agent run returns: the final answer and the whole conversation that led to it.

    `messages` starts with the system message and holds every assistant turn and tool result; `usage`
    adds up every model call of this agent (not of agents it asked through tools)."""

    text: str
    messages: tuple[m.Message, ...]
    tool_calls: int
    usage: m.Usage = field(default_factory=m.Usage)
    finish_reason: str | None = None
    """Why the last model call stopped; `length` means `max_tokens` cut the answer off."""

    @property
    def truncated(self) -> bool:
        """Whether the answer was cut off by the model's token limit."""
        return self.finish_reason == "length"

    @property
    def new_messages(self) -> tuple[m.Message, ...]:
        """The messages this run added after the user's question: what a thread appends."""
        last_user = max(
            (i for i, msg in enumerate(self.messages) if isinstance(msg, m.UserMessage)), default=-1
        )
        return self.messages[last_user + 1 :]

    def __str__(self) -> str:
        return self.text
