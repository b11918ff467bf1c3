"""`type: agent` tools (and agent routes): the model asks another agent a question, gets its answer.

The tool only knows how to ask (`AskAgent`); building the agent belongs to `oxy.agents`, which the
registry reaches lazily (`oxy.agents.delegates`), so this layer never imports the agents above it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from pydantic import Field

from oxy.execution.context import ExecutionContext
from oxy.tools.base import FunctionTool, Tool

__all__ = ["AskAgent", "agent_tool"]

AskAgent = Callable[[ExecutionContext, str], Awaitable[str]]
"""Run an agent (as a nested step of `ctx`) on a prompt and return its final answer."""

PromptArgument = Annotated[
    str, Field(description="The question or task for the agent, in full: it sees nothing else.")
]


def agent_tool(*, name: str, description: str, ask: AskAgent) -> Tool:
    """A tool taking one `prompt` string; the result is the agent's answer."""

    async def ask_agent(ctx: ExecutionContext, prompt: PromptArgument) -> str:
        return await ask(ctx, prompt)

    return FunctionTool(ask_agent, name=name, description=description)
