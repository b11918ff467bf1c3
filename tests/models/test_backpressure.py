"""`max_queue` / `queue_timeout`: past an endpoint's `max_concurrency`, a bounded number of requests wait,
each a bounded time; one more is refused at once with `ModelBusy` (429 from `oxy serve`'s OpenAI endpoint)
instead of piling onto a saturated server."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from oxy.config.models import VLLMModelConfig
from oxy.errors import ModelBusy
from oxy.models import client_for
from oxy.models import messages as m
from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer
from tests.serve.conftest import open_client, settings_for, write_project

pytestmark = pytest.mark.anyio


def config(server: ScriptedModelServer, name: str, **limits: object) -> VLLMModelConfig:
    return VLLMModelConfig.model_validate(
        {
            "name": name,
            "vendor": "vllm",
            "model_ref": name,
            "api_url": server.base_url,
            "max_concurrency": 1,
            **limits,
        }
    )


async def test_a_full_queue_refuses_at_once() -> None:
    with ScriptedModelServer([Reply(text="slow", delay=1.0), Reply(text="second")]) as server:
        client = client_for(config(server, "bp-queue", max_queue=0), project_root=Path())
        results: list[object] = []

        async def ask() -> None:
            try:
                results.append((await client.request([m.UserMessage(content="hi")])).text)
            except ModelBusy as exc:
                results.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(ask)
            await anyio.sleep(0.2)  # the first holds the only slot
            group.start_soon(ask)
        busy = [r for r in results if isinstance(r, ModelBusy)]
        assert len(busy) == 1 and "slow" in results
        assert (
            "model 'bp-queue' is busy: 1 requests running (max_concurrency) and 0 waiting (max_queue 0)"
            in str(busy[0])
        )
        assert busy[0].status == 429
        assert len(server.requests) == 1  # the refused one never reached the server


async def test_a_request_that_waits_too_long_is_refused() -> None:
    with ScriptedModelServer([Reply(text="slow", delay=2.0), Reply(text="late")]) as server:
        client = client_for(config(server, "bp-timeout", queue_timeout=0.3), project_root=Path())
        async with anyio.create_task_group() as group:
            group.start_soon(client.request, [m.UserMessage(content="first")])
            await anyio.sleep(0.2)
            with pytest.raises(ModelBusy, match=r"no free slot within 0.3 s \(queue_timeout\)"):
                await client.request([m.UserMessage(content="second")])


async def test_oxy_serve_answers_429_when_the_model_is_busy(tmp_path: Path) -> None:
    with ScriptedModelServer([Reply(text="slow", delay=1.5), Reply(text="x")]) as server:
        root = write_project(tmp_path / "p", server.base_url)
        config_file = root / "config.yml"
        config_file.write_text(
            config_file.read_text().replace(
                "api_url:", "max_concurrency: 1\n    max_queue: 0\n    api_url:", 1
            )
        )
        body = {"model": "analyst", "messages": [{"role": "user", "content": "hi"}]}
        statuses: list[int] = []

        async def post(client: httpx.AsyncClient) -> None:
            statuses.append((await client.post("/v1/chat/completions", json=body)).status_code)

        async for client in open_client(create_app(settings_for(root))):
            async with anyio.create_task_group() as group:
                group.start_soon(post, client)
                await anyio.sleep(0.3)
                group.start_soon(post, client)
        assert sorted(statuses) == [200, 429]
