"""`type: agent` tools (and agent routes): the model asks another agent a question, gets its answer.

The tool only knows how to ask (`AskAgent`); building and running the agent belongs to the application
layer, which hands the asker in (`ToolBuild.delegates`), so this layer never imports the agents above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from oxy.execution.context import ExecutionContext
from oxy.tools.base import FunctionTool, Tool
from oxy.tools.registry import AskAgent, ToolBuild, tool_type

if TYPE_CHECKING:
    from oxy.config.tools import AgentTool

__all__ = ["AskAgent", "agent_tool"]


PromptArgument = Annotated[
    str, Field(description="The question or task for the agent, in full: it sees nothing else.")
]


def agent_tool(*, name: str, description: str, ask: AskAgent, streamed: bool = True) -> Tool:
    """A tool taking one `prompt` string; the result is the agent's answer. Unless `streamed` (a
    routing agent's route, whose answer people read), the agent answers whole: its asker reads it."""

    async def ask_agent(ctx: ExecutionContext, prompt: PromptArgument) -> str:
        return await ask(ctx if streamed else ctx.unstreamed(), prompt)

    return FunctionTool(ask_agent, name=name, description=description)


@tool_type("agent")
def _build(config: AgentTool, build: ToolBuild) -> Tool:
    delegates = build.delegates
    description = config.description or delegates.agent_description(config.agent_ref)
    return agent_tool(
        name=config.name, description=description, ask=delegates.ask_agent(config.agent_ref), streamed=False
    )
