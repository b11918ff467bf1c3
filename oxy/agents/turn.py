"""One model turn as events: stream the deltas out, report usage, return the assembled response."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing

from oxy.events.types import ReasoningDelta, TextDelta, UsageEvent
from oxy.execution.context import ExecutionContext
from oxy.models import messages as m
from oxy.models.client import ModelClient


async def model_turn(
    ctx: ExecutionContext,
    model: ModelClient,
    messages: Sequence[m.Message],
    *,
    tools: Sequence[m.ToolDefinition],
    settings: m.ModelSettings,
    stream_text: bool = True,
) -> m.ModelResponse:
    """Ask `model` once. Text deltas become `text_delta` events unless `stream_text` is off (a router
    holds back its own words when a fallback may answer instead); reasoning always streams. When no
    one reads the run as it is written (`ctx.stream` off), the model answers whole: one delta each."""
    if not ctx.stream:
        whole = await model.request(messages, tools=tools, settings=settings)
        if whole.reasoning:
            await ctx.emit(ReasoningDelta(source=ctx.source, text=whole.reasoning))
        if stream_text and whole.text:
            await ctx.emit(TextDelta(source=ctx.source, text=whole.text))
        await emit_usage(ctx, model, whole)
        return whole
    response: m.ModelResponse | None = None
    async with aclosing(model.stream(messages, tools=tools, settings=settings)) as deltas:
        async for delta in deltas:
            if isinstance(delta, m.TextDelta):
                if stream_text and delta.text:
                    await ctx.emit(TextDelta(source=ctx.source, text=delta.text))
            elif isinstance(delta, m.ReasoningDelta):
                await ctx.emit(ReasoningDelta(source=ctx.source, text=delta.text))
            elif isinstance(delta, m.ResponseDone):
                response = delta.response
    if response is None:  # pragma: no cover - ModelClient guarantees a ResponseDone
        raise AssertionError(f"model {model.name!r} ended its stream without a response")
    await emit_usage(ctx, model, response)
    return response


async def emit_usage(ctx: ExecutionContext, model: ModelClient, response: m.ModelResponse) -> None:
    """The `usage` event of one model call, counted with the run's."""
    usage = response.usage
    await ctx.emit(
        UsageEvent(
            source=ctx.source,
            model=model.name,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            finish_reason=response.finish_reason,
        )
    )
