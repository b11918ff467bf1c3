"""`_wire`: chat completions over plain httpx, read as dicts; what a server's odd answers become."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack

import httpx
import pytest

from oxy.models._endpoints import Endpoint, current_loop, http_client
from oxy.models._openai_format import json_chunk_deltas, response_from_json
from oxy.models._wire import BadAnswer, HttpStatusError, http_failure, open_sse, post_json
from oxy.models.accumulator import ResponseAccumulator

pytestmark = pytest.mark.anyio

URL = "http://model.test/v1/chat/completions"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def sse(*events: str) -> httpx.Response:
    body = "".join(f"data: {e}\n\n" for e in events)
    return httpx.Response(200, content=body.encode(), headers={"content-type": "text/event-stream"})


async def test_a_stream_is_read_as_dicts_up_to_done() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"choices": [{"index": 0, "delta": {"reasoning_content": "hm"}}]},
        {"choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {
            "choices": [
                {"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f"}}]}}
            ]
        },
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}},
    ]
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return sse(*(json.dumps(c) for c in chunks), "[DONE]", json.dumps({"never": "read"}))

    acc = ResponseAccumulator()
    async with client(handler) as http, open_sse(http, URL, {"model": "m", "stream": True}) as stream:
        async for chunk in stream:
            json_chunk_deltas(chunk, acc)
    response = acc.response()
    assert (response.text, response.reasoning, response.finish_reason) == ("Hi", "hm", "tool_calls")
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [("c1", "f", "{}")]
    assert response.usage is not None and (response.usage.input_tokens, response.usage.output_tokens) == (
        7,
        3,
    )
    assert sent == [{"model": "m", "stream": True}]


async def test_an_error_inside_a_stream_raises_with_the_servers_message() -> None:
    error = {"error": {"message": "maximum context length is 4096 tokens", "code": 400}}

    def handler(request: httpx.Request) -> httpx.Response:
        return sse(json.dumps({"choices": [{"index": 0, "delta": {"content": "a"}}]}), json.dumps(error))

    with pytest.raises(HttpStatusError) as caught:
        async with client(handler) as http, open_sse(http, URL, {}) as stream:
            async for _ in stream:
                pass
    failure = http_failure(caught.value, url=URL, model="m", key_var=None, timeout=None)
    assert (failure.status, failure.transient, failure.detail) == (
        400,
        False,
        "maximum context length is 4096 tokens",
    )


async def test_error_statuses_carry_the_message_and_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "slow down", "type": "rate_limit"}}
        return httpx.Response(429, json=body, headers={"retry-after-ms": "250"})

    async with client(handler) as http:
        with pytest.raises(HttpStatusError) as caught:
            await post_json(http, URL, {}, read_timeout=None)
        with pytest.raises(HttpStatusError) as streamed:
            async with open_sse(http, URL, {}):
                pass
    for exc in (caught.value, streamed.value):
        failure = http_failure(exc, url=URL, model="m", key_var="KEY", timeout=None)
        assert (failure.status, failure.transient, failure.detail, failure.retry_after) == (
            429,
            True,
            "slow down",
            0.25,
        )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"message": "vLLM says no", "object": "error"}', "vLLM says no"),
        (b'{"detail": "Not Found"}', "Not Found"),
        (b"<html>bad gateway</html>", "<html>bad gateway</html>"),
    ],
)
async def test_the_message_of_any_error_body(body: bytes, detail: str) -> None:
    async with client(lambda request: httpx.Response(404, content=body)) as http:
        with pytest.raises(HttpStatusError) as caught:
            await post_json(http, URL, {}, read_timeout=None)
    failure = http_failure(caught.value, url="http://model.test/v1", model="m", key_var=None, timeout=None)
    assert (failure.detail, failure.transient) == (detail, False)
    assert failure.hint == "check model_ref 'm' and api_url 'http://model.test/v1'"


async def test_an_answer_that_is_not_json_is_a_bad_answer() -> None:
    async with client(lambda request: httpx.Response(200, content=b"<html>proxy login</html>")) as http:
        with pytest.raises(BadAnswer, match="not JSON"):
            await post_json(http, URL, {}, read_timeout=None)
    async with client(lambda request: sse("{oops")) as http:
        with pytest.raises(BadAnswer, match="not JSON"):
            async with open_sse(http, URL, {}) as stream:
                async for _ in stream:
                    pass


def test_a_whole_answer_as_our_response() -> None:
    completion = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "reasoning": "first this",
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
    response = response_from_json(completion)
    assert (response.text, response.reasoning, response.finish_reason) == ("", "first this", "tool_calls")
    assert [(c.id, c.name) for c in response.tool_calls] == [("c", "f")]
    assert response_from_json({"choices": []}).tool_calls == ()


async def test_headers_for_openai_compatible_servers_and_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    loop = current_loop()
    plain = http_client(
        Endpoint(base_url="http://vllm.test/v1/", api_key="k1", headers=(("X-Team", "data"),)), "m", loop
    )
    assert plain.chat_url == "http://vllm.test/v1/chat/completions"
    assert (plain.headers["authorization"], plain.headers["x-team"]) == ("Bearer k1", "data")
    assert "openai-organization" not in plain.headers  # only for OpenAI itself
    openai = http_client(Endpoint(base_url=None, api_key="k2"), "gpt", loop)
    assert openai.chat_url == "https://api.openai.com/v1/chat/completions"
    assert openai.headers["openai-organization"] == "org-1"
    azure = http_client(
        Endpoint(base_url="https://x.openai.azure.com", api_key="k3", azure_api_version="2024-10-21"),
        "gpt",
        loop,
    )
    assert azure.chat_url == "https://x.openai.azure.com/openai/deployments/gpt/chat/completions"
    assert azure.headers["api-key"] == "k3" and "authorization" not in azure.headers
    assert azure.params["api-version"] == "2024-10-21"
    for wire in (plain, openai, azure):
        await wire.aclose()


async def test_requests_spread_over_small_pools_as_they_pile_up() -> None:
    from oxy.models._shards import SHARD

    wire = http_client(Endpoint(base_url="http://pool.test/v1", api_key="k"), "m", current_loop())
    with wire.lease() as first:
        with wire.lease() as second:
            assert second is first  # few requests: one client keeps its connections warm
        with ExitStack() as held:
            clients = {held.enter_context(wire.lease()) for _ in range(SHARD)}
            assert wire.shards == 2 and len(clients) == 2  # the first shard was full: a second pool opened
    with wire.lease() as again:
        assert again is first  # the least busy shard comes first
    await wire.aclose()
    assert wire.is_closed()


async def test_a_stream_answered_without_event_stream_is_a_bad_answer() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"choices": []})  # a server that ignored stream: true

    async with client(handler) as http:
        with pytest.raises(BadAnswer, match="answered with application/json, not text/event-stream"):
            async with open_sse(http, URL, {"stream": True}):
                pass


async def test_a_redirect_loop_is_a_failure_not_a_traceback() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": URL})

    transport = httpx.MockTransport(handler)
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as http:
        with pytest.raises(httpx.TooManyRedirects) as caught:
            await post_json(http, URL, {}, read_timeout=None)
    failure = http_failure(caught.value, url=URL, model="m", key_var=None, timeout=None)
    assert (failure.transient, failure.detail) == (False, f"{URL} redirects in a loop")


def test_an_answer_of_the_wrong_shape_is_a_bad_answer() -> None:
    from oxy.models.openai_compatible import OpenAICompatibleClient

    model = OpenAICompatibleClient(name="m", model="m", endpoint=Endpoint(base_url=URL, api_key="k"))
    with pytest.raises(BadAnswer, match="not shaped like a chat completion chunk"):
        model.deltas({"choices": [{"delta": "text instead of an object"}]}, ResponseAccumulator())
    with pytest.raises(BadAnswer, match="not shaped like a chat completion"):
        model.answer({"choices": [{"message": ["no"]}]})
