"""`model_turn`: a streamed answer when someone reads the run as it goes, a whole one otherwise."""

from __future__ import annotations

import pytest

from oxy.agents.react import ReactLoop
from oxy.events.sinks import ListSink, NullSink, TeeSink
from oxy.events.types import ReasoningDelta, TextDelta, UsageEvent
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, fn, step
from oxy.execution.run import run_executable
from oxy.models import SystemMessage, UserMessage
from oxy.testing import Reply, ScriptedModel
from oxy.tools.toolset import FunctionToolset

pytestmark = pytest.mark.anyio

REPLY = Reply(text="Three words here, and a few more.", reasoning="Let me think.")


def agent(model: ScriptedModel) -> Executable[str, str]:
    loop = ReactLoop(model=model, toolsets=[FunctionToolset([])], agent_name="tester")

    async def answer(ctx: ExecutionContext, prompt: str) -> str:
        return (await loop.execute(ctx, [SystemMessage(content="Help."), UserMessage(content=prompt)])).text

    return step(fn(answer), name="tester", step_type="agent")


@pytest.mark.parametrize("streams_text", [False, True])
async def test_the_sink_decides_whether_the_model_streams(streams_text: bool) -> None:
    model = ScriptedModel([REPLY])
    sink = ListSink(streams_text=streams_text)
    result = await run_executable(agent(model), "Go.", target="tester", sink=sink)
    assert result.output == REPLY.text
    assert [r.stream for r in model.requests] == [streams_text]
    texts = [e.text for e in sink.events if isinstance(e, TextDelta)]
    reasoning = [e.text for e in sink.events if isinstance(e, ReasoningDelta)]
    assert "".join(texts) == REPLY.text and "".join(reasoning) == REPLY.reasoning
    # Streamed: a delta per piece. Whole: the same text, as one delta (and one for the reasoning).
    assert (len(texts) > 1) is streams_text and (len(reasoning) > 1) is streams_text
    (usage,) = [e for e in sink.events if isinstance(e, UsageEvent)]
    assert usage.finish_reason == "stop" and usage.output_tokens > 0


async def test_the_caller_can_override_the_sink_and_tee_streams_if_any_sink_does() -> None:
    model = ScriptedModel([REPLY, REPLY])
    await run_executable(agent(model), "Go.", target="t", sink=ListSink(streams_text=True), stream=False)
    await run_executable(
        agent(model), "Go.", target="t", sink=TeeSink([NullSink(), ListSink(streams_text=True)])
    )
    assert [r.stream for r in model.requests] == [False, True]
