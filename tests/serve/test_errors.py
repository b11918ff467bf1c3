"""Malformed requests get a 4xx with a JSON error body, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

pytestmark = pytest.mark.anyio


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}, body
    return response.status_code, body["error"]["type"]


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": 5},
        {"prompt": ""},
        {"prompt": "Hi", "stream": "sometimes"},
        {"prompt": "Hi", "thread_id": ["a"]},
        {"prompt": "Hi", "unknown": 1},
        {},
        [],
        "Hi",
        None,
    ],
)
async def test_wrong_shapes_are_422(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/api/agents/chat/runs", json=body)
    assert error_of(response) == (422, "invalid_request")
    assert response.json()["error"]["message"].startswith("Invalid request: ")


async def test_invalid_json_is_400(client: httpx.AsyncClient) -> None:
    for content in (b"{", b"\xff\xfe", b'{"prompt": "Hi",}'):
        response = await client.post(
            "/api/agents/chat/runs", content=content, headers={"content-type": "application/json"}
        )
        assert error_of(response) == (400, "bad_request")
    workflow = await client.post(
        "/api/workflows/orders/runs", content=b"[1,", headers={"content-type": "application/json"}
    )
    assert error_of(workflow) == (400, "bad_request")


async def test_wrong_workflow_variables_type_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/workflows/orders/runs", json={"variables": [1, 2]})
    assert error_of(response) == (422, "invalid_request")


async def test_huge_bodies_are_413_by_length_or_as_they_stream(client: httpx.AsyncClient) -> None:
    huge = b'{"prompt": "' + b"x" * 2_000_000 + b'"}'
    response = await client.post(
        "/api/agents/chat/runs", content=huge, headers={"content-type": "application/json"}
    )
    assert error_of(response) == (413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for _ in range(40):
            yield b"x" * 65_536

    streamed = await client.post(
        "/api/agents/chat/runs", content=chunks(), headers={"content-type": "application/json"}
    )
    assert error_of(streamed) == (413, "payload_too_large")


async def test_openai_endpoint_rejects_malformed_bodies(client: httpx.AsyncClient) -> None:
    for body in ({"model": "chat"}, {"model": "chat", "messages": []}, {"messages": [{"role": "user"}]}):
        assert error_of(await client.post("/v1/chat/completions", json=body)) == (422, "invalid_request")
    no_user = await client.post(
        "/v1/chat/completions", json={"model": "chat", "messages": [{"role": "system", "content": "x"}]}
    )
    assert error_of(no_user) == (400, "bad_request")
    bad_role = await client.post(
        "/v1/chat/completions", json={"model": "chat", "messages": [{"role": "wizard", "content": "x"}]}
    )
    assert error_of(bad_role) == (422, "invalid_request")


async def test_unknown_routes_and_methods_are_json(client: httpx.AsyncClient) -> None:
    assert error_of(await client.get("/api/nothing")) == (404, "not_found")
    assert error_of(await client.delete("/api/agents")) == (405, "method_not_allowed")
    assert error_of(await client.get("/api/runs", params={"limit": "many"})) == (422, "invalid_request")


async def test_a_wrong_method_on_an_api_route_is_405_with_allow(client: httpx.AsyncClient) -> None:
    for path, allow in (
        ("/v1/chat/completions", "POST"),
        ("/api/agents/chat/runs", "POST"),
        ("/api/runs/abc/cancel", "POST"),
    ):
        response = await client.get(path)
        assert error_of(response) == (405, "method_not_allowed"), path
        assert response.headers["allow"] == allow
        assert response.json()["error"]["message"] == f"GET is not allowed on {path}; use POST."
    assert (await client.delete("/api/runs")).headers["allow"] == "GET"
    assert (await client.get("/no/such/page")).status_code == 404  # the web chat's files: still 404
    assert (await client.get("/")).status_code == 200
