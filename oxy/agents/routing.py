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

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oxy.agents.context import ContextView
from oxy.agents.cycles import check_no_cycles
from oxy.agents.default import AgentRequest, agent_name_from_file
from oxy.agents.react import AgentAnswer
from oxy.agents.route_tools import route_tools
from oxy.agents.routes import SkippedRoute, file_kind, resolve_routes
from oxy.agents.turn import model_turn
from oxy.config.agent import RoutingAgentConfig
from oxy.errors import OxyError, ToolError
from oxy.execution.context import ExecutionContext
from oxy.execution.events import TextDelta, ToolCallEvent, ToolResultEvent
from oxy.execution.executable import Executable
from oxy.execution.templates import TemplateOrigin
from oxy.models import messages as m
from oxy.runtime import Runtime, runtime_of
from oxy.tools.base import Tool
from oxy.tools.workflow_tool import output_text

__all__ = ["RoutingAgent"]

logger = logging.getLogger(__name__)

_QUESTION_VARIABLES = ("prompt", "question", "query", "input")


@dataclass(frozen=True, slots=True)
class _Outcome:
    message: m.ToolMessage
    error: OxyError | None


class RoutingAgent(Executable[AgentRequest, AgentAnswer]):
    """Offers the routes as tools for one model turn, runs the chosen one, answers from its output."""

    def __init__(
        self,
        config: RoutingAgentConfig,
        *,
        file: str,
        runtime: Runtime,
        model_name: str | None = None,
    ) -> None:
        from oxy.agents.models import model_client

        check_no_cycles(runtime.project, file)
        self.config = config
        self.file = file
        self.name = config.name or agent_name_from_file(file)
        routes, skipped = resolve_routes(config, project=runtime.project, file=file)
        self.skipped: tuple[SkippedRoute, ...] = tuple(skipped)
        for note in skipped:
            logger.warning("%s: %s", file, note)
        self.tools: tuple[Tool, ...] = tuple(route_tools(routes, runtime=runtime))
        self._by_name = {tool.name: tool for tool in self.tools}
        self._runtime = runtime
        self._model = model_client(runtime, model_name or config.model, file=file)
        self._contexts = ContextView(config.context or [], root=runtime.root, file=file)
        effort = config.reasoning.effort if config.reasoning is not None else None
        self._settings = m.ModelSettings(reasoning_effort=effort)
        self._fallback = (
            runtime.project.relative(config.route_fallback) if config.route_fallback is not None else None
        )

    async def execute(self, ctx: ExecutionContext, input: AgentRequest) -> AgentAnswer:
        instructions = self._render_instructions(ctx)
        messages: list[m.Message] = [m.SystemMessage(content=instructions), *input.history]
        messages.append(m.UserMessage(content=input.prompt))
        definitions = tuple(tool.definition() for tool in self.tools)
        choice = await self._turn(ctx, messages, tools=definitions, stream_text=False)
        messages.append(choice.to_message())
        if not choice.tool_calls:
            if self._fallback is not None:
                return await self._run_fallback(ctx, input, messages, calls=0)
            await _emit_text(ctx, choice.text)
            return AgentAnswer(text=choice.text, messages=tuple(messages), tool_calls=0)
        if choice.text.strip():
            await _emit_text(ctx, choice.text)
        outcomes = [await self._call_route(ctx, call) for call in choice.tool_calls]
        messages.extend(outcome.message for outcome in outcomes)
        calls = len(outcomes)
        failure = next((o.error for o in outcomes if o.error is not None), None)
        if failure is not None and self._fallback is not None:
            return await self._run_fallback(ctx, input, messages, calls=calls)
        if not self.config.synthesize_results:
            if failure is not None:
                raise failure
            text = "\n\n".join(outcome.message.content for outcome in outcomes)
            return AgentAnswer(text=text, messages=tuple(messages), tool_calls=calls)
        final = await self._turn(ctx, messages, tools=(), stream_text=True)
        messages.append(final.to_message())
        return AgentAnswer(text=final.text, messages=tuple(messages), tool_calls=calls)

    def _render_instructions(self, ctx: ExecutionContext) -> str:
        variables: dict[str, Any] = {
            **ctx.variables,
            "context": self._contexts,
            "tools": {tool.name: tool.description for tool in self.tools},
        }
        origin = TemplateOrigin(file=self.file, key="system_instructions")
        return runtime_of(ctx).renderer.render(self.config.system_instructions, variables, origin=origin)

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
            from dataclasses import replace

            settings = replace(settings, tool_choice="auto")
        return await model_turn(
            ctx, self._model, messages, tools=tools, settings=settings, stream_text=stream_text
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
                content = await tool.call(ctx.child(call.name), call.arguments)
            except OxyError as exc:
                error = exc
                content = f"Error: {exc}"
        await ctx.emit(
            ToolResultEvent(
                source=ctx.source,
                call_id=call.id,
                name=call.name,
                content=content,
                is_error=error is not None,
            )
        )
        return _Outcome(m.ToolMessage(tool_call_id=call.id, content=content, name=call.name), error)

    async def _run_fallback(
        self, ctx: ExecutionContext, input: AgentRequest, messages: list[m.Message], *, calls: int
    ) -> AgentAnswer:
        from oxy.agents.delegates import build_agent, run_agent_step, workflow_runner, workflow_variables

        ref = self._fallback
        assert ref is not None
        if file_kind(ref) == "workflow":
            declared = workflow_variables(ref, runtime=self._runtime)
            run = workflow_runner(ref, runtime=self._runtime)
            output = await run(ctx, _question_variables(declared, input.prompt))
            text = output_text(output, max_rows=ctx.limits.model_rows)
            nested = 0
        else:
            answer = await run_agent_step(ctx, build_agent(ref, runtime=self._runtime), input)
            text, nested = answer.text, answer.tool_calls
        messages.append(m.AssistantMessage(content=text))
        return AgentAnswer(text=text, messages=tuple(messages), tool_calls=calls + nested)


async def _emit_text(ctx: ExecutionContext, text: str) -> None:
    if text:
        await ctx.emit(TextDelta(source=ctx.source, text=text))


def _question_variables(declared: Mapping[str, Any], question: str) -> dict[str, Any]:
    """A fallback workflow gets the question in its `prompt`/`question`/`query`/`input` variable, or its only one."""
    for name in _QUESTION_VARIABLES:
        if name in declared:
            return {name: question}
    if len(declared) == 1:
        return {next(iter(declared)): question}
    return {}
