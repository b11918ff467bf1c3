"""The default agent: `map(render system_instructions) → react(model, tools)`."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from oxy.agents.context import ContextView
from oxy.agents.react import AgentAnswer, ReactLoop
from oxy.config.agent import DefaultAgentConfig
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable
from oxy.execution.templates import TemplateOrigin
from oxy.models import messages as m
from oxy.runtime import Runtime, runtime_of
from oxy.tools.base import Tool


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentRequest:
    """A question for an agent, with the conversation before it (oldest first)."""

    prompt: str
    history: Sequence[m.Message] = field(default_factory=tuple[m.Message, ...])


class DefaultAgent(Executable[AgentRequest, AgentAnswer]):
    """Renders the system instructions against the project context, then runs the ReAct loop."""

    def __init__(
        self,
        config: DefaultAgentConfig,
        *,
        file: str,
        runtime: Runtime,
        model_name: str | None = None,
    ) -> None:
        from oxy.agents.models import model_client
        from oxy.agents.toolset import build_tools

        self.config = config
        self.file = file
        self.name = config.name or agent_name_from_file(file)
        self._tools: list[Tool] = build_tools(config.tools, runtime=runtime, file=file)
        self._model = model_client(runtime, model_name or config.model, file=file)
        self._contexts = ContextView(config.context or [], root=runtime.root, file=file)
        self._origin = TemplateOrigin(
            file=file,
            line=_template_line(runtime.root / file, "system_instructions"),
            key="system_instructions",
        )
        self._loop = ReactLoop(
            model=self._model,
            tools=self._tools,
            agent_name=self.name,
            max_tool_calls=config.max_tool_calls,
            max_tool_concurrency=config.max_tool_concurrency,
            tool_choice=config.tool_choice,
        )

    async def execute(self, ctx: ExecutionContext, input: AgentRequest) -> AgentAnswer:
        instructions = await self.render_instructions(ctx)
        messages: list[m.Message] = [m.SystemMessage(content=instructions), *input.history]
        messages.append(m.UserMessage(content=input.prompt))
        return await self._loop.execute(ctx, messages)

    async def render_instructions(self, ctx: ExecutionContext) -> str:
        runtime = runtime_of(ctx)
        variables: dict[str, Any] = {
            **ctx.variables,
            "context": self._contexts,
            "tools": {tool.name: tool.description for tool in self._tools},
        }
        render = functools.partial(
            runtime.renderer.render, self.config.system_instructions, variables, origin=self._origin
        )
        if "databases" in self.config.system_instructions:
            # Naming a database may connect to it and read its schema: keep that off the event loop.
            return await anyio.to_thread.run_sync(render)
        return render()


def agent_name_from_file(file: str) -> str:
    name = Path(file).name
    return name.removesuffix(".agent.yml") if name.endswith(".agent.yml") else Path(file).stem


_BLOCK_SCALAR = re.compile(r"^\s*[|>][+-]?\d*\s*(#.*)?$")


@functools.lru_cache(maxsize=256)
def _template_line(path: Path, key: str) -> int | None:
    """The line where the value of top-level `key` starts (the next line for a `|` block)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    prefix = f"{key}:"
    for number, line in enumerate(lines, start=1):
        if line.startswith(prefix):
            rest = line[len(prefix) :]
            return number + 1 if _BLOCK_SCALAR.match(rest) or not rest.strip() else number
    return None
