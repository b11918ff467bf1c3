"""The ReAct loop: model turn → tool calls run concurrently → results back in call order → next turn.

Stops on a final answer (a turn with no tool calls), or raises `LimitExceeded` when the model asks
for more than `max_tool_calls`. A failing tool (bad SQL, bad JSON arguments, an unknown tool name)
is not a failed run: its error goes back to the model as the tool result so it can correct itself.
Cancellation (Ctrl-C, a client that went away) propagates through anyio at the next await.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio

from oxy.agents.turn import model_turn
from oxy.errors import LimitExceeded, OxyError
from oxy.execution.context import ExecutionContext
from oxy.execution.events import ToolCallEvent, ToolResultEvent
from oxy.execution.executable import Executable
from oxy.execution.groups import unwrap_group
from oxy.models import messages as m
from oxy.models.client import ModelClient
from oxy.tools.base import Tool

ToolChoicePolicy = str
"""`auto`, `required`, `none` or `required_first` (the first turn must call a tool)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentAnswer:
    """What an agent run returns: the final answer and the whole conversation that led to it."""

    text: str
    messages: tuple[m.Message, ...]
    tool_calls: int

    def __str__(self) -> str:
        return self.text


class ReactLoop(Executable[Sequence[m.Message], AgentAnswer]):
    """Drive `model` with `tools` until it answers; the input is the conversation so far."""

    def __init__(
        self,
        *,
        model: ModelClient,
        tools: Sequence[Tool],
        agent_name: str,
        max_tool_calls: int = 10,
        max_tool_concurrency: int = 4,
        tool_choice: ToolChoicePolicy = "auto",
        settings: m.ModelSettings | None = None,
    ) -> None:
        self._model = model
        self._tools = {tool.name: tool for tool in tools}
        self._definitions = tuple(tool.definition() for tool in tools)
        self._agent_name = agent_name
        self._max_tool_calls = max_tool_calls
        self._max_tool_concurrency = max(1, max_tool_concurrency)
        self._tool_choice = tool_choice
        self._settings = settings or m.ModelSettings()

    async def execute(self, ctx: ExecutionContext, input: Sequence[m.Message]) -> AgentAnswer:
        messages = list(input)
        calls_made = 0
        turn = 0
        while True:
            response = await self._turn(ctx, messages, turn=turn, calls_made=calls_made)
            messages.append(response.to_message())
            turn += 1
            if not response.tool_calls:
                return AgentAnswer(text=response.text, messages=tuple(messages), tool_calls=calls_made)
            if calls_made + len(response.tool_calls) > self._max_tool_calls:
                raise LimitExceeded(
                    f"Agent {self._agent_name!r} stopped: the model asked for more than max_tool_calls="
                    f"{self._max_tool_calls} tool calls without answering; raise max_tool_calls in the agent file "
                    "or make the instructions more direct."
                )
            calls_made += len(response.tool_calls)
            messages.extend(await self._run_tools(ctx, response.tool_calls))

    async def _turn(
        self, ctx: ExecutionContext, messages: Sequence[m.Message], *, turn: int, calls_made: int
    ) -> m.ModelResponse:
        tools = self._definitions if self._tool_choice != "none" else ()
        settings = self._settings
        if tools:
            settings = _with_tool_choice(settings, self._choice_for(turn))
        return await model_turn(ctx, self._model, messages, tools=tools, settings=settings)

    def _choice_for(self, turn: int) -> m.ToolChoice:
        if self._tool_choice == "required_first":
            return "required" if turn == 0 else "auto"
        if self._tool_choice == "required":
            return "required"
        return "auto"

    async def _run_tools(self, ctx: ExecutionContext, calls: Sequence[m.ToolCall]) -> list[m.ToolMessage]:
        for call in calls:
            await ctx.emit(
                ToolCallEvent(source=ctx.source, call_id=call.id, name=call.name, arguments=call.arguments)
            )
        results: list[m.ToolMessage | None] = [None] * len(calls)
        limiter = anyio.CapacityLimiter(self._max_tool_concurrency)

        async def run_one(index: int, call: m.ToolCall) -> None:
            async with limiter:
                content, is_error = await self._call_tool(ctx, call)
            await ctx.emit(
                ToolResultEvent(
                    source=ctx.source, call_id=call.id, name=call.name, content=content, is_error=is_error
                )
            )
            results[index] = m.ToolMessage(tool_call_id=call.id, content=content, name=call.name)

        if len(calls) == 1:
            await run_one(0, calls[0])
        else:
            try:
                async with anyio.create_task_group() as tg:
                    for index, call in enumerate(calls):
                        tg.start_soon(run_one, index, call)
            except BaseExceptionGroup as group:
                raise unwrap_group(group) from None
        return [r for r in results if r is not None]

    async def _call_tool(self, ctx: ExecutionContext, call: m.ToolCall) -> tuple[str, bool]:
        tool = self._tools.get(call.name)
        if tool is None:
            known = ", ".join(sorted(self._tools)) or "none"
            return f"Error: there is no tool named {call.name!r}; the tools are: {known}.", True
        try:
            return await tool.call(ctx.child(call.name), call.arguments), False
        except OxyError as exc:
            return f"Error: {exc}", True


def _with_tool_choice(settings: m.ModelSettings, choice: m.ToolChoice) -> m.ModelSettings:
    if settings.tool_choice == choice:
        return settings
    from dataclasses import replace

    return replace(settings, tool_choice=choice)
