"""The scripted server on the wire: what an OpenAI client reads from vLLM, byte for byte in shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from dirty_equals import IsInt, IsStr

from oxy.testing import Drop, Fail, Reply, ScriptedModelServer, tool_call


def sse(response: httpx.Response) -> list[Any]:
    events: list[Any] = []
    for line in response.text.split("\n\n"):
        if line:
            assert line.startswith("data: ")
            data = line.removeprefix("data: ")
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def chat(client: httpx.Client, server: ScriptedModelServer, **body: Any) -> httpx.Response:
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body}
    return client.post(f"{server.base_url}/chat/completions", json=payload)


def test_streams_like_vllm() -> None:
    reply = Reply(
        text="Hi there",
        tool_calls=[tool_call("lookup", {"q": "weather in Paris"}, id="call_x")],
    )
    with ScriptedModelServer([reply]) as server, httpx.Client() as client:
        response = chat(client, server, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["transfer-encoding"] == "chunked"
    events = sse(response)
    head = {
        "id": IsStr(regex=r"chatcmpl-\d+"),
        "object": "chat.completion.chunk",
        "created": IsInt(),
        "model": "m",
    }

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    assert events == [
        choice({"role": "assistant", "content": ""}),
        choice({"content": "Hi"}),
        choice({"content": " there"}),
        choice(
            {"tool_calls": [{"index": 0, "id": "call_x", "type": "function", "function": {"name": "lookup"}}]}
        ),
        choice({"tool_calls": [{"index": 0, "function": {"arguments": '{"q": "weath'}}]}),
        choice({"tool_calls": [{"index": 0, "function": {"arguments": 'er in Paris"'}}]}),
        choice({"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}),
        choice({"content": ""}, "tool_calls"),
        {
            **head,
            "choices": [],
            "usage": {"prompt_tokens": IsInt(), "total_tokens": IsInt(), "completion_tokens": 5},
        },
        "[DONE]",
    ]


def test_answers_without_streaming_and_lists_models() -> None:
    with ScriptedModelServer([Reply(text="Hello.")], model="served") as server, httpx.Client() as client:
        response = chat(client, server)
        models = client.get(f"{server.base_url}/models")
        missing = client.get(f"{server.base_url}/nope")
    assert response.json() == {
        "id": IsStr(),
        "object": "chat.completion",
        "created": IsInt(),
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": IsInt(), "total_tokens": IsInt(), "completion_tokens": 1},
    }
    assert models.json()["data"][0]["id"] == "served"
    assert missing.status_code == 404


def test_failures_and_an_exhausted_script() -> None:
    with ScriptedModelServer([Fail(status=429, message="slow down", retry_after=2)]) as server:
        with httpx.Client() as client:
            limited = chat(client, server)
            exhausted = chat(client, server)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["message"] == "slow down"
    assert exhausted.status_code == 400
    assert "script has no turn left" in exhausted.json()["error"]["message"]
    assert len(server.requests) == 2


def test_drop_cuts_the_stream() -> None:
    with ScriptedModelServer([Drop(after_chunks=2, reply=Reply(text="a b c")), Reply(text="ok")]) as server:
        with httpx.Client() as client:
            with pytest.raises(httpx.RemoteProtocolError):
                chat(client, server, stream=True)
            assert chat(client, server).json()["choices"][0]["message"]["content"] == "ok"


def test_keep_alive_serves_many_requests_on_one_connection() -> None:
    with ScriptedModelServer(lambda request: Reply(text=f"#{len(request.messages)}")) as server:
        with httpx.Client() as client:
            for _ in range(20):
                assert chat(client, server, stream=True).status_code == 200
    assert len(server.requests) == 20
    assert server.in_flight == 0 and server.max_in_flight == 1


def test_routes_by_content_and_records_requests() -> None:
    def route(request: Any) -> Reply:
        last = request.last_message.content
        return Reply(text="SQL" if "sql" in last else "chat")

    with ScriptedModelServer(route) as server, httpx.Client() as client:
        sql = chat(client, server, messages=[{"role": "user", "content": "write sql"}])
        other = chat(client, server, messages=[{"role": "user", "content": "hello"}])
    assert sql.json()["choices"][0]["message"]["content"] == "SQL"
    assert other.json()["choices"][0]["message"]["content"] == "chat"


@pytest.mark.anyio
async def test_chunk_delays_stream_piece_by_piece() -> None:
    with ScriptedModelServer([Reply(text="a b c", chunk_delay=0.01, delay=0.02)]) as server:
        async with httpx.AsyncClient() as client:
            url = f"{server.base_url}/chat/completions"
            body = {"model": "m", "messages": [], "stream": True}
            async with client.stream("POST", url, json=body) as response:
                lines = [line async for line in response.aiter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert len(lines) == 6  # role, 3 pieces, finish, done


def test_reuse_with_a_new_script() -> None:
    with ScriptedModelServer([Reply(text="one")]) as server, httpx.Client() as client:
        chat(client, server)
        server.set_script([Reply(text="two")])
        assert server.requests == []
        assert chat(client, server).json()["choices"][0]["message"]["content"] == "two"
