"""The ReAct loop: model turn → tool calls run concurrently → results back in call order → next turn.

Stops on a final answer (a turn with no tool calls), or raises `LimitExceeded` when the model asks
for more than `max_tool_calls`. A failing tool (bad SQL, bad JSON arguments, an unknown tool name)
is not a failed run: its error goes back to the model as the tool result so it can correct itself.
Cancellation (Ctrl-C, a client that went away) propagates through anyio at the next await.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from contextlib import AsyncExitStack

import anyio

from oxy.agents.turn import model_turn
from oxy.errors import LimitExceeded, OxyError
from oxy.events.types import ToolCallEvent, ToolResultEvent
from oxy.execution.agent_io import AgentAnswer
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable
from oxy.execution.groups import unwrap_group
from oxy.models import messages as m
from oxy.models.client import ModelClient
from oxy.tools.toolset import RunTools, Toolset, open_toolsets

__all__ = ["AgentAnswer", "ReactLoop", "ToolChoicePolicy"]

ToolChoicePolicy = str
"""`auto`, `required`, `none` or `required_first` (the first turn must call a tool)."""


class ReactLoop(Executable[Sequence[m.Message], AgentAnswer]):
    """Drive `model` with the tools of `toolsets` until it answers; the input is the conversation so far.

    The toolsets are entered and asked for their tools when a run starts (`execute`), or by the caller
    that already did (`run`, given the `RunTools`)."""

    def __init__(
        self,
        *,
        model: ModelClient,
        toolsets: Sequence[Toolset],
        agent_name: str,
        max_tool_calls: int = 10,
        max_tool_concurrency: int = 4,
        tool_choice: ToolChoicePolicy = "auto",
        settings: m.ModelSettings | None = None,
        file: str | None = None,
    ) -> None:
        self._model = model
        self.toolsets = tuple(toolsets)
        self._agent_name = agent_name
        self._max_tool_calls = max_tool_calls
        self._max_tool_concurrency = max(1, max_tool_concurrency)
        self._tool_choice = tool_choice
        self._settings = settings or m.ModelSettings()
        self._file = file

    async def execute(self, ctx: ExecutionContext, input: Sequence[m.Message]) -> AgentAnswer:
        async with AsyncExitStack() as stack:
            tools = await self.open(ctx, stack)
            return await self.run(ctx, input, tools=tools)

    async def open(self, ctx: ExecutionContext, stack: AsyncExitStack) -> RunTools:
        """Enter the toolsets for this run (left when `stack` closes) and resolve their tools."""
        toolsets = await open_toolsets(ctx, self.toolsets, stack)
        return await RunTools.resolve(ctx, toolsets, file=self._file)

    async def run(self, ctx: ExecutionContext, input: Sequence[m.Message], *, tools: RunTools) -> AgentAnswer:
        messages = list(input)
        # A paused run resumes where it stopped: its turns and calls count, and the calls of its last
        # turn that have no result yet run first.
        done = _since_question(messages)
        turn = sum(isinstance(msg, m.AssistantMessage) for msg in done)
        calls_made = sum(len(msg.tool_calls) for msg in done if isinstance(msg, m.AssistantMessage))
        usage = m.Usage()
        unanswered = _unanswered(messages)
        if unanswered:
            messages.extend(await self._run_tools(ctx, unanswered, tools, conversation=messages))
        while True:
            spent = calls_made >= self._max_tool_calls
            response = await self._turn(ctx, messages, tools=tools, turn=turn, spent=spent)
            if response.usage is not None:
                usage = usage + response.usage
            messages.append(response.to_message())
            turn += 1
            if not response.tool_calls:
                return AgentAnswer(
                    text=response.text,
                    messages=tuple(messages),
                    tool_calls=calls_made,
                    usage=usage,
                    finish_reason=response.finish_reason,
                )
            if calls_made + len(response.tool_calls) > self._max_tool_calls:
                raise LimitExceeded(
                    f"Agent {self._agent_name!r} stopped: the model asked for more than max_tool_calls="
                    f"{self._max_tool_calls} tool calls without answering; raise max_tool_calls in the agent file "
                    "or make the instructions more direct."
                )
            calls_made += len(response.tool_calls)
            messages.extend(await self._run_tools(ctx, response.tool_calls, tools, conversation=messages))

    async def _turn(
        self, ctx: ExecutionContext, messages: Sequence[m.Message], *, tools: RunTools, turn: int, spent: bool
    ) -> m.ModelResponse:
        """One model turn. Once `max_tool_calls` are `spent`, the tools stay listed (the history refers
        to them) but `tool_choice: none` asks for an answer from what the calls returned."""
        definitions = tools.definitions if self._tool_choice != "none" else ()
        settings = self._settings
        if definitions:
            settings = _with_tool_choice(settings, "none" if spent else self._choice_for(turn))
        return await model_turn(ctx, self._model, messages, tools=definitions, settings=settings)

    def _choice_for(self, turn: int) -> m.ToolChoice:
        if self._tool_choice == "required_first":
            return "required" if turn == 0 else "auto"
        if self._tool_choice == "required":
            return "required"
        return "auto"

    async def _run_tools(
        self,
        ctx: ExecutionContext,
        calls: Sequence[m.ToolCall],
        tools: RunTools,
        *,
        conversation: Sequence[m.Message],
    ) -> list[m.ToolMessage]:
        ctx = dataclasses.replace(ctx, conversation=tuple(conversation))
        for call in calls:
            await ctx.emit(
                ToolCallEvent(source=ctx.source, call_id=call.id, name=call.name, arguments=call.arguments)
            )
        results: list[m.ToolMessage | None] = [None] * len(calls)
        limiter = anyio.CapacityLimiter(self._max_tool_concurrency)

        async def run_one(index: int, call: m.ToolCall) -> None:
            async with limiter:
                content, is_error = await _call_tool(ctx, call, tools)
            content, truncated = bounded_result(content, max_chars=ctx.limits.max_tool_result_chars)
            await ctx.emit(
                ToolResultEvent(
                    source=ctx.source,
                    call_id=call.id,
                    name=call.name,
                    content=content,
                    is_error=is_error,
                    truncated=truncated,
                )
            )
            results[index] = m.ToolMessage(
                tool_call_id=call.id, content=content, name=call.name, is_error=is_error
            )

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


def _since_question(messages: Sequence[m.Message]) -> Sequence[m.Message]:
    """What the agent did after the conversation's last question (nothing, unless it resumes)."""
    last = max((i for i, msg in enumerate(messages) if isinstance(msg, m.UserMessage)), default=-1)
    return messages[last + 1 :]


def _unanswered(messages: Sequence[m.Message]) -> list[m.ToolCall]:
    """The tool calls of the conversation's last model turn that have no result after it (a run that
    paused for a person and resumes in another process)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, m.AssistantMessage):
            answered = {r.tool_call_id for r in messages[index + 1 :] if isinstance(r, m.ToolMessage)}
            return [call for call in message.tool_calls if call.id not in answered]
        if not isinstance(message, m.ToolMessage):
            return []
    return []


async def _call_tool(ctx: ExecutionContext, call: m.ToolCall, tools: RunTools) -> tuple[str, bool]:
    """The tool's result, or an error the model can act on (an unknown name, bad arguments, a failure)."""
    if call.name not in tools:
        known = ", ".join(sorted(tools.names)) or "none"
        return f"Error: there is no tool named {call.name!r}; the tools are: {known}.", True
    try:
        return await tools.call(ctx.for_tool_call(call.name, call.id), call.name, call.arguments), False
    except OxyError as exc:
        return f"Error: {exc}", True


def bounded_result(content: str, *, max_chars: int) -> tuple[str, bool]:
    """A tool result the model may read: cut to `max_chars`, with a note saying how much was cut."""
    if len(content) <= max_chars:
        return content, False
    note = (
        f"\n\n[{len(content) - max_chars:,} more characters cut: the result is longer than the "
        f"{max_chars:,} characters a tool may return. Ask for less (fewer rows or columns, a summary).]"
    )
    return content[:max_chars] + note, True


def _with_tool_choice(settings: m.ModelSettings, choice: m.ToolChoice) -> m.ModelSettings:
    if settings.tool_choice == choice:
        return settings
    return dataclasses.replace(settings, tool_choice=choice)
