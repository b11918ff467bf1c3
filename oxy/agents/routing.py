"""The routing agent (`type: routing`): the model picks one of `routes` and answers through it.

`routes` are globs over agents, workflows and `.sql` files; each file becomes a tool named after its
stem and described by its `description` (a SQL file: its front matter's `embed` or leading comment).
One model turn picks a route; the route runs as a nested step; then

- `synthesize_results: true` (the default): one more model turn writes the answer from the route's output;
- `synthesize_results: false`: the route's output is the answer.

`route_fallback` (an agent or a workflow) answers the same question when the model picks no route or
the picked route fails. Routes that cannot run here (`integration::topic`, `*.topic.yml`, other files)
are skipped with a logged warning, and listed in `RoutingAgent.skipped`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oxy.agents.context import ContextView, render_instructions
from oxy.agents.default import agent_name_from_file
from oxy.agents.react import bounded_result
from oxy.agents.route_select import RoutePreselector
from oxy.agents.routes import SkippedRoute
from oxy.agents.turn import model_turn
from oxy.config.agent import RoutingAgentConfig
from oxy.errors import OxyError, ToolError
from oxy.events.types import TextDelta, ToolCallEvent, ToolResultEvent
from oxy.execution.agent_io import AgentAnswer, AgentRequest
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable
from oxy.execution.templates import TemplateOrigin
from oxy.models import messages as m
from oxy.models.client import ModelClient
from oxy.tools.base import Tool

__all__ = ["RoutingAgent"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Outcome:
    message: m.ToolMessage
    error: OxyError | None


class RoutingAgent(Executable[AgentRequest, AgentAnswer]):
    """Offers the routes as tools for one model turn, runs the chosen one, answers from its output.

    The route tools, the model and the fallback are handed in: the application layer builds them
    (a route runs another agent, a workflow or a SQL file)."""

    def __init__(
        self,
        config: RoutingAgentConfig,
        *,
        file: str,
        root: Path,
        model: ModelClient,
        routes: Sequence[Tool],
        skipped: Sequence[SkippedRoute] = (),
        fallback: Executable[AgentRequest, AgentAnswer] | None = None,
        preselect: RoutePreselector | None = None,
    ) -> None:
        self.config = config
        self.file = file
        self.name = config.name or agent_name_from_file(file)
        self.model = model
        self.skipped: tuple[SkippedRoute, ...] = tuple(skipped)
        for note in skipped:
            logger.warning("%s: %s", file, note)
        self.tools: tuple[Tool, ...] = tuple(routes)
        self._by_name = {tool.name: tool for tool in self.tools}
        self._contexts = ContextView(config.context or [], root=root, file=file)
        effort = config.reasoning.effort if config.reasoning is not None else None
        self._settings = m.ModelSettings(reasoning_effort=effort)
        self._fallback = fallback
        self._preselect = preselect
        """With more routes than `top_k`: picks the ones the model is offered for a question."""

    async def execute(self, ctx: ExecutionContext, input: AgentRequest) -> AgentAnswer:
        offered = self.tools
        if self._preselect is not None and len(self.tools) > self._preselect.top_k:
            chosen = await self._preselect.choose(input.prompt)
            offered = tuple(self._by_name[name] for name in chosen)
        instructions = await self._render_instructions(ctx, offered)
        messages: list[m.Message] = [m.SystemMessage(content=instructions), *input.history]
        messages.append(m.UserMessage(content=input.prompt))
        definitions = tuple(tool.definition() for tool in offered)
        choice = await self._turn(ctx, messages, tools=definitions, stream_text=False)
        usage = choice.usage or m.Usage()
        if not choice.tool_calls and self._fallback is not None:
            # No route fits: the fallback answers instead of the routing turn (whose text was held back).
            return await self._run_fallback(ctx, input, messages, calls=0, usage=usage)
        messages.append(choice.to_message())
        if not choice.tool_calls:
            await _emit_text(ctx, choice.text)
            return AgentAnswer(
                text=choice.text,
                messages=tuple(messages),
                tool_calls=0,
                usage=usage,
                finish_reason=choice.finish_reason,
            )
        if choice.text.strip():
            await _emit_text(ctx, choice.text)
        outcomes = [await self._call_route(ctx, call) for call in choice.tool_calls]
        messages.extend(outcome.message for outcome in outcomes)
        calls = len(outcomes)
        failure = next((o.error for o in outcomes if o.error is not None), None)
        if failure is not None and self._fallback is not None:
            return await self._run_fallback(ctx, input, messages, calls=calls, usage=usage)
        if not self.config.synthesize_results:
            if failure is not None:
                raise failure
            text = "\n\n".join(outcome.message.content for outcome in outcomes)
            messages.append(m.AssistantMessage(content=text))
            return AgentAnswer(text=text, messages=tuple(messages), tool_calls=calls, usage=usage)
        final = await self._turn(ctx, messages, tools=(), stream_text=True)
        messages.append(final.to_message())
        usage = usage + (final.usage or m.Usage())
        return AgentAnswer(
            text=final.text,
            messages=tuple(messages),
            tool_calls=calls,
            usage=usage,
            finish_reason=final.finish_reason,
        )

    async def _render_instructions(self, ctx: ExecutionContext, offered: Sequence[Tool]) -> str:
        return await render_instructions(
            ctx,
            self.config.system_instructions,
            contexts=self._contexts,
            tools={tool.name: tool.description for tool in offered},
            origin=TemplateOrigin(file=self.file, key="system_instructions"),
        )

    async def _turn(
        self,
        ctx: ExecutionContext,
        messages: Sequence[m.Message],
        *,
        tools: Sequence[m.ToolDefinition],
        stream_text: bool,
    ) -> m.ModelResponse:
        """One model call. The routing turn's text is held back: a fallback may answer instead."""
        settings = self._settings
        if tools:
            settings = dataclasses.replace(settings, tool_choice="auto")
        return await model_turn(
            ctx, self.model, messages, tools=tools, settings=settings, stream_text=stream_text
        )

    async def _call_route(self, ctx: ExecutionContext, call: m.ToolCall) -> _Outcome:
        await ctx.emit(
            ToolCallEvent(source=ctx.source, call_id=call.id, name=call.name, arguments=call.arguments)
        )
        error: OxyError | None = None
        tool = self._by_name.get(call.name)
        if tool is None:
            known = ", ".join(sorted(self._by_name)) or "none"
            error = ToolError(f"there is no route named {call.name!r}; the routes are: {known}.")
            content = f"Error: {error}"
        else:
            try:
                content = await tool.call(ctx.for_tool_call(call.name, call.id), call.arguments)
            except OxyError as exc:
                error = exc
                content = f"Error: {exc}"
        content, truncated = bounded_result(content, max_chars=ctx.limits.max_tool_result_chars)
        await ctx.emit(
            ToolResultEvent(
                source=ctx.source,
                call_id=call.id,
                name=call.name,
                content=content,
                is_error=error is not None,
                truncated=truncated,
            )
        )
        message = m.ToolMessage(
            tool_call_id=call.id, content=content, name=call.name, is_error=error is not None
        )
        return _Outcome(message, error)

    async def _run_fallback(
        self,
        ctx: ExecutionContext,
        input: AgentRequest,
        messages: list[m.Message],
        *,
        calls: int,
        usage: m.Usage,
    ) -> AgentAnswer:
        assert self._fallback is not None
        answer = await self._fallback.execute(ctx, input)
        messages.append(m.AssistantMessage(content=answer.text))
        return AgentAnswer(
            text=answer.text,
            messages=tuple(messages),
            tool_calls=calls + answer.tool_calls,
            usage=usage + answer.usage,
            finish_reason=answer.finish_reason,
        )


async def _emit_text(ctx: ExecutionContext, text: str) -> None:
    if text:
        await ctx.emit(TextDelta(source=ctx.source, text=text))
