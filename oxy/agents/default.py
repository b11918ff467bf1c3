"""The default agent: `map(render system_instructions) → react(model, tools)`."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from oxy.agents.context import ContextView, render_instructions
from oxy.agents.memory import recall_history
from oxy.agents.prompt import AgentPrompt, agent_prompt
from oxy.agents.react import ReactLoop
from oxy.config.agent import DefaultAgentConfig
from oxy.execution.agent_io import AgentAnswer, AgentRequest
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable
from oxy.models import messages as m
from oxy.models.client import ModelClient
from oxy.tools.memory import LongTermMemory
from oxy.tools.toolset import RunTools, Toolset

__all__ = ["AgentRequest", "DefaultAgent", "agent_name_from_file"]


class DefaultAgent(Executable[AgentRequest, AgentAnswer]):
    """Opens its toolsets, renders the system instructions against the project context, runs the ReAct loop.

    The model client and the toolsets are handed in (the application layer builds them from the
    config), so an agent can run with any model and any extra tools."""

    def __init__(
        self,
        config: DefaultAgentConfig,
        *,
        file: str,
        root: Path,
        model: ModelClient,
        toolsets: Sequence[Toolset] = (),
        prompt: AgentPrompt | None = None,
        summarizer: ModelClient | None = None,
        long_term: LongTermMemory | None = None,
    ) -> None:
        self.config = config
        self.file = file
        self.name = config.name or agent_name_from_file(file)
        self.model = model
        self._contexts = ContextView(config.context or [], root=root, file=file)
        self.prompt = prompt or agent_prompt(config, root=root, file=file, variant=None)
        """The system prompt: its template, variables, and what the run records about it."""
        self.summarizer = summarizer or model
        """Summarises a thread's older turns (`memory: {summarize: true}`)."""
        self.long_term = long_term
        """Long-term memory, for `{{ memory.relevant }}` (its tools are among the toolsets)."""
        self._loop = ReactLoop(
            model=model,
            toolsets=toolsets,
            agent_name=self.name,
            max_tool_calls=config.max_tool_calls,
            max_tool_concurrency=config.max_tool_concurrency,
            tool_choice=config.tool_choice,
            file=file,
        )

    @property
    def toolsets(self) -> tuple[Toolset, ...]:
        return self._loop.toolsets

    async def execute(self, ctx: ExecutionContext, input: AgentRequest) -> AgentAnswer:
        async with AsyncExitStack() as stack:
            tools = await self._loop.open(ctx, stack)
            instructions = await self.render_instructions(ctx, tools, question=input.prompt)
            history: Sequence[m.Message] = input.history
            if self.config.memory is not None and history:
                remembered = await recall_history(ctx, self.config.memory, history, model=self.summarizer)
                history = remembered.history
                if remembered.summary:
                    instructions += f"\n\nSummary of the earlier conversation:\n{remembered.summary}"
            messages: list[m.Message] = [m.SystemMessage(content=instructions), *history]
            messages.append(m.UserMessage(content=input.prompt))
            messages.extend(input.resume)
            return await self._loop.run(ctx, messages, tools=tools)

    async def render_instructions(self, ctx: ExecutionContext, tools: RunTools, *, question: str = "") -> str:
        values = self.prompt.values
        if self.long_term is not None and "memory" in self.prompt.template:
            relevant = await self.long_term.relevant(ctx, question)
            values = {**values, "memory": {"relevant": relevant}}
        return await render_instructions(
            ctx,
            self.prompt.template,
            contexts=self._contexts,
            tools=tools.descriptions(),
            origin=self.prompt.origin,
            defaults=self.prompt.defaults,
            values=values,
        )


def agent_name_from_file(file: str) -> str:
    name = Path(file).name
    return name.removesuffix(".agent.yml") if name.endswith(".agent.yml") else Path(file).stem
