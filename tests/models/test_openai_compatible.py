"""The OpenAI-compatible client against the scripted server, through the real `openai` SDK."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from oxy.config.models import OpenAIModelConfig, VLLMModelConfig
from oxy.errors import ModelError
from oxy.models import (
    AssistantMessage,
    ModelClient,
    ModelDelta,
    ModelResponse,
    ModelSettings,
    NamedToolChoice,
    ReasoningDelta,
    ResponseDone,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
    ToolMessage,
    Usage,
    UserMessage,
    client_for,
)
from oxy.testing import Drop, Fail, Reply, ScriptedModelServer, tool_call

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("shared_clients")]

WEATHER = ToolDefinition(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
HI = [UserMessage(content="Hi")]


def vllm(server: ScriptedModelServer, **options: object) -> ModelClient:
    options = {"retry_backoff": 0.0, **options}
    cfg = VLLMModelConfig.model_validate(
        {
            "name": "qwen",
            "vendor": "vllm",
            "model_ref": "Qwen/Qwen3-8B",
            "api_url": server.base_url,
            **options,
        }
    )
    return client_for(cfg, project_root=Path("."))


async def collect(
    client: ModelClient, *, tools: list[ToolDefinition] | None = None, settings: ModelSettings | None = None
) -> list[ModelDelta]:
    return [d async for d in client.stream(HI, tools=tools or (), settings=settings or ModelSettings())]


async def test_streams_text_reasoning_and_usage(server: ScriptedModelServer) -> None:
    server.set_script(
        [
            Reply(
                text="Paris is sunny.", reasoning="Look it up.", usage=Usage(input_tokens=12, output_tokens=5)
            )
        ]
    )
    deltas = await collect(vllm(server))
    assert deltas == [
        ReasoningDelta("Look"),
        ReasoningDelta(" it"),
        ReasoningDelta(" up."),
        TextDelta("Paris"),
        TextDelta(" is"),
        TextDelta(" sunny."),
        ResponseDone(
            ModelResponse(
                text="Paris is sunny.",
                reasoning="Look it up.",
                usage=Usage(input_tokens=12, output_tokens=5),
                finish_reason="stop",
            )
        ),
    ]
    body = server.requests[0].body
    assert body is not None
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "Qwen/Qwen3-8B"


async def test_assembles_parallel_tool_calls_from_deltas(server: ScriptedModelServer) -> None:
    calls = [
        tool_call("get_weather", {"city": "Paris, France"}, id="call_a"),
        tool_call("get_weather", {"city": "Lyon"}, id="call_b"),
    ]
    server.set_script([Reply(tool_calls=calls, usage=Usage(input_tokens=40, output_tokens=9))])
    settings = ModelSettings(tool_choice="required", parallel_tool_calls=True, temperature=0.0)
    deltas = await collect(vllm(server), tools=[WEATHER], settings=settings)

    pieces = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert pieces[0] == ToolCallDelta(index=0, id="call_a", name="get_weather", arguments="")
    assert {d.index for d in pieces} == {0, 1}
    assert len(pieces) > 4  # arguments arrive in several chunks
    assert deltas[-1] == ResponseDone(
        ModelResponse(
            tool_calls=(
                ToolCall(id="call_a", name="get_weather", arguments='{"city": "Paris, France"}'),
                ToolCall(id="call_b", name="get_weather", arguments='{"city": "Lyon"}'),
            ),
            usage=Usage(input_tokens=40, output_tokens=9),
            finish_reason="tool_calls",
        )
    )
    request = server.requests[0]
    assert request.tools == (WEATHER,)
    assert request.settings == settings
    assert request.body is not None and request.body["tool_choice"] == "required"


async def test_request_without_streaming(server: ScriptedModelServer) -> None:
    call = tool_call("get_weather", {"city": "Oslo"}, id="call_1")
    server.set_script(
        [Reply(text="Checking.", tool_calls=[call], usage=Usage(input_tokens=3, output_tokens=4))]
    )
    response = await vllm(server).request(
        HI, tools=[WEATHER], settings=ModelSettings(tool_choice=NamedToolChoice(name="get_weather"))
    )
    assert response == ModelResponse(
        text="Checking.",
        tool_calls=(call,),
        usage=Usage(input_tokens=3, output_tokens=4),
        finish_reason="tool_calls",
    )
    body = server.requests[0].body
    assert body is not None and "stream" not in body
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_history_goes_out_in_openai_shape(server: ScriptedModelServer) -> None:
    server.set_script([Reply(text="Done.")])
    call = ToolCall(id="c1", name="get_weather", arguments='{"city": "Rome"}')
    history = [
        SystemMessage(content="Be brief."),
        UserMessage(content="Weather in Rome?"),
        AssistantMessage(tool_calls=(call,)),
        ToolMessage(tool_call_id="c1", content="22 °C"),
    ]
    await vllm(server).request(history, tools=[WEATHER])
    body = server.requests[0].body
    assert body is not None
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Rome?"},
        # content is "" and never null: llama.cpp's server rejects null assistant content
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "22 °C"},
    ]
    assert server.requests[0].messages == tuple(history)


async def test_retries_transient_failures(server: ScriptedModelServer) -> None:
    server.set_script(
        [
            Fail(status=429, retry_after=0),
            Fail(status=500),
            Drop(after_chunks=0),
            Drop(after_chunks=1),  # the role chunk carries no output: still safe to retry
            Reply(text="Finally."),
        ]
    )
    deltas = await collect(vllm(server, max_retries=4))
    assert deltas[0] == TextDelta("Finally.")
    assert len(server.requests) == 5


async def test_request_retries_too(server: ScriptedModelServer) -> None:
    server.set_script([Fail(status=503), Drop(), Reply(text="ok")])
    response = await vllm(server).request(HI)
    assert response.text == "ok"
    assert len(server.requests) == 3


async def test_gives_up_after_the_retry_budget(server: ScriptedModelServer) -> None:
    server.set_script([Fail(status=503, message="overloaded")] * 3)
    with pytest.raises(ModelError) as caught:
        await collect(vllm(server, max_retries=2))
    assert str(caught.value) == (
        "Model 'qwen' (vllm): HTTP 503 Service Unavailable after 3 attempts: overloaded"
    )
    assert (caught.value.model, caught.value.status) == ("qwen", 503)


async def test_does_not_retry_client_errors_and_hides_the_key(
    server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLLM_KEY", "sk-secret-123")
    server.set_script([Fail(status=401, message="bad key sk-secret-123"), Reply(text="unused")])
    with pytest.raises(ModelError) as caught:
        await vllm(server, key_var="VLLM_KEY").request(HI)
    assert str(caught.value) == "Model 'qwen' (vllm): HTTP 401 Unauthorized: bad key *** — check VLLM_KEY"
    assert len(server.requests) == 1
    assert server.remaining == 1


async def test_a_stream_cut_after_output_is_not_retried(server: ScriptedModelServer) -> None:
    server.set_script([Drop(after_chunks=3, reply=Reply(text="one two three four")), Reply(text="unused")])
    seen: list[ModelDelta] = []
    with pytest.raises(ModelError, match="the stream broke after output had started"):
        async for delta in vllm(server).stream(HI):
            seen.append(delta)
    assert seen == [TextDelta("one"), TextDelta(" two")]
    assert len(server.requests) == 1


async def test_missing_key_variable_fails_on_first_use(
    server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    client = vllm(server, key_var="NO_SUCH_KEY")  # building works: commands that never call it still run
    with pytest.raises(ModelError, match=r"environment variable NO_SUCH_KEY \(key_var\) is not set"):
        await client.request(HI)
    assert server.requests == []


async def test_headers_from_env(server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXY_TEST_HEADER", "from-env")
    server.set_script([Reply(text="ok")])
    client = vllm(server, headers={"X-Plain": "plain", "X-Secret": {"env_var": "OXY_TEST_HEADER"}})
    assert (await client.request(HI)).text == "ok"
    assert "from-env" not in repr(client)


async def test_max_concurrency_is_shared_per_endpoint(server: ScriptedModelServer) -> None:
    server.set_script(lambda request: Reply(text="slow", delay=0.05))
    first = vllm(server, max_concurrency=3)
    second = vllm(server, max_concurrency=3, max_retries=1)  # another entry, same endpoint and model
    assert first is not second

    async with anyio.create_task_group() as tg:
        for i in range(12):
            tg.start_soon(collect, first if i % 2 else second)
    assert len(server.requests) == 12
    assert server.max_in_flight == 3


async def test_without_a_bound_requests_overlap(server: ScriptedModelServer) -> None:
    server.set_script(lambda request: Reply(text="slow", delay=0.05))
    client = vllm(server)
    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(client.request, HI)
    assert server.max_in_flight == 8


async def test_clients_are_cached(server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert vllm(server) is vllm(server)
    assert vllm(server) is not vllm(server, max_retries=7)
    cfg = OpenAIModelConfig(name="gpt", vendor="openai", model_ref="gpt-4o", key_var="OXY_TEST_KEY")
    monkeypatch.setenv("OXY_TEST_KEY", "one")
    first = client_for(cfg, project_root=Path("."))
    assert client_for(cfg, project_root=Path(".")) is first
    monkeypatch.setenv("OXY_TEST_KEY", "two")  # a changed secret builds a new client
    assert client_for(cfg, project_root=Path(".")) is not first


async def test_one_http_client_per_endpoint(server: ScriptedModelServer) -> None:
    from oxy.models._endpoints import Endpoint, current_loop, http_client

    endpoint = Endpoint(base_url=server.base_url, api_key="EMPTY", timeout=120.0)
    loop = current_loop()
    assert http_client(endpoint, "m", loop) is http_client(endpoint, "other-model", loop)
    other = Endpoint(base_url=server.base_url, api_key="OTHER", timeout=120.0)
    assert http_client(other, "m", loop) is not http_client(endpoint, "m", loop)
    # On Azure the model names the deployment, so each model has its own URL.
    azure = Endpoint(base_url=server.base_url, api_key="k", azure_api_version="2024-10-21")
    assert http_client(azure, "a", loop).chat_url.endswith("/openai/deployments/a/chat/completions")
    assert http_client(azure, "a", loop) is not http_client(azure, "b", loop)


async def test_connection_refused_is_retried_then_reported() -> None:
    with ScriptedModelServer() as gone:
        url = gone.base_url
    cfg = VLLMModelConfig(
        name="down", vendor="vllm", model_ref="m", api_url=url, max_retries=1, retry_backoff=0
    )
    with pytest.raises(ModelError) as caught:
        await client_for(cfg, project_root=Path(".")).request(HI)
    assert str(caught.value) == (
        f"Model 'down' (vllm): request failed after 2 attempts: cannot reach {url} — is the server running?"
    )


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "request"])
async def test_extra_body_is_merged_into_the_request_json(server: ScriptedModelServer, stream: bool) -> None:
    server.set_script([Reply(text="ok")])
    settings = ModelSettings(extra_body={"chat_template_kwargs": {"enable_thinking": False}}, temperature=0.2)
    client = vllm(server)
    if stream:
        await collect(client, settings=settings)
    else:
        await client.request(HI, settings=settings)
    body = server.requests[0].body
    assert body is not None
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["temperature"] == 0.2
    assert "extra_body" not in body
