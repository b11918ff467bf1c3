"""The scripted model in-process: the same scripts, no sockets."""

from __future__ import annotations

import pytest

from oxy.errors import ModelError
from oxy.models import (
    ModelResponse,
    ModelSettings,
    NamedToolChoice,
    ResponseDone,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
    Usage,
    UserMessage,
)
from oxy.testing import Drop, Fail, Reply, ScriptedModel, ScriptedRequest, ScriptExhausted, tool_call

pytestmark = pytest.mark.anyio
HI = [UserMessage(content="Hi")]


async def test_streams_text_then_done() -> None:
    model = ScriptedModel([Reply(text="Hello you", usage=Usage(input_tokens=2, output_tokens=2))])
    deltas = [d async for d in model.stream(HI)]
    assert deltas == [
        TextDelta("Hello"),
        TextDelta(" you"),
        ResponseDone(
            ModelResponse(
                text="Hello you", usage=Usage(input_tokens=2, output_tokens=2), finish_reason="stop"
            )
        ),
    ]


async def test_tool_calls_arrive_in_pieces_and_assemble() -> None:
    call = tool_call("search", {"query": "quarterly revenue by region"}, id="c1")
    model = ScriptedModel([Reply(tool_calls=[call])])
    tools = [ToolDefinition(name="search")]
    settings = ModelSettings(tool_choice=NamedToolChoice(name="search"))
    deltas = [d async for d in model.stream(HI, tools=tools, settings=settings)]
    pieces = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert pieces[0] == ToolCallDelta(index=0, id="c1", name="search", arguments="")
    assert "".join(p.arguments for p in pieces) == call.arguments
    done = deltas[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.tool_calls == (ToolCall(id="c1", name="search", arguments=call.arguments),)
    assert done.response.finish_reason == "tool_calls"
    assert model.requests[0].tools == tuple(tools) and model.requests[0].settings == settings


async def test_request_and_recorded_history() -> None:
    model = ScriptedModel([Reply(text="one"), Reply(text="two")])
    assert (await model.request(HI)).text == "one"
    assert (await model.request([*HI, UserMessage(content="again")])).text == "two"
    assert [len(r.messages) for r in model.requests] == [1, 2]
    assert [r.stream for r in model.requests] == [False, False]
    assert model.remaining == 0


async def test_transient_failures_are_retried_like_a_server() -> None:
    model = ScriptedModel([Fail(status=429), Drop(), Drop(after_chunks=1), Reply(text="ok")])
    assert (await model.request(HI)).text == "ok"
    assert len(model.requests) == 4


async def test_errors_after_the_budget_and_for_client_errors() -> None:
    model = ScriptedModel([Fail(status=500)] * 4)
    with pytest.raises(
        ModelError, match=r"Model 'scripted' \(scripted\): HTTP 500 Internal Server Error after 4 attempts"
    ):
        await model.request(HI)
    model.set_script([Fail(status=400, message="bad request")])
    with pytest.raises(ModelError) as caught:
        await model.request(HI)
    assert caught.value.status == 400


async def test_a_drop_after_output_fails_the_stream() -> None:
    model = ScriptedModel([Drop(after_chunks=2, reply=Reply(text="a b c"))])
    seen: list[object] = []
    with pytest.raises(ModelError, match="stream broke after output had started"):
        async for delta in model.stream(HI):
            seen.append(delta)
    assert seen == [TextDelta("a")]


async def test_a_function_script_answers_by_content() -> None:
    def answer(request: ScriptedRequest) -> Reply:
        last = request.last_message
        return Reply(text=f"echo: {last.content if last else ''}")

    model = ScriptedModel(answer)
    assert (await model.request([UserMessage(content="ping")])).text == "echo: ping"


async def test_an_exhausted_script_says_so() -> None:
    model = ScriptedModel([])
    with pytest.raises(ScriptExhausted, match="request #1 but its script has no turn left"):
        await model.request(HI)
