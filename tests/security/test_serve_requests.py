"""Malformed and hostile requests to `oxy serve` get a 4xx, never a 500 or a hint (issue 9, item 8)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx
import pytest

from oxy.serve import ServeSettings, create_app
from oxy.storage import KeyStore
from oxy.testing import Reply, ScriptedModelServer

pytestmark = pytest.mark.anyio

CONFIG = """\
models:
  - name: scripted
    vendor: vllm
    model_ref: scripted
    api_url: {base_url}
databases: []
"""

WORKFLOW = """\
variables:
  payload: {}
tasks:
  - name: show
    type: formatter
    template: "{{ payload }}"
"""


@pytest.fixture
def model() -> ScriptedModelServer:
    with ScriptedModelServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def project(tmp_path: Path, model: ScriptedModelServer) -> Path:
    root = tmp_path / "project"
    (root / "agents").mkdir(parents=True)
    (root / "workflows").mkdir()
    (root / "config.yml").write_text(CONFIG.format(base_url=model.base_url))
    (root / "agents" / "chat.agent.yml").write_text("model: scripted\nsystem_instructions: Chat.\n")
    (root / "workflows" / "echo.workflow.yml").write_text(WORKFLOW)
    return root


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost", timeout=30)  # type: ignore[arg-type]


async def test_deeply_nested_variables_and_huge_offsets_are_4xx(project: Path) -> None:
    app = create_app(ServeSettings(project=project))
    deep: object = 1
    for _ in range(900):
        deep = [deep]
    async with app.router.lifespan_context(app), _client(app) as client:
        body = json.dumps({"variables": {"payload": deep}, "stream": False})
        response = await client.post(
            "/api/workflows/echo/runs", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert "nest deeper than 32 levels" in response.text
        shallow = await client.post(
            "/api/workflows/echo/runs", json={"variables": {"payload": [[1]]}, "stream": False}
        )
        assert shallow.json()["output"] == {"show": "[[1]]"}
        run_id = shallow.json()["run_id"]
        for after in (2**63, 2**64, -1):
            response = await client.get(
                f"/api/runs/{run_id}/events", params={"after": after, "stream": "false"}
            )
            assert response.status_code == 422, (after, response.text)


async def test_another_tenants_busy_thread_reads_as_missing(
    project: Path, model: ScriptedModelServer
) -> None:
    with KeyStore.open(project_root=project) as keys:
        _, acme = keys.create(tenant="acme")
        _, globex = keys.create(tenant="globex")
    model.set_script([Reply(text="slow answer", delay=2.0)])
    app = create_app(ServeSettings(project=project))
    async with app.router.lifespan_context(app), _client(app) as client:
        started = await client.post(
            "/api/agents/chat/runs",
            json={"prompt": "Hi", "background": True},
            headers={"Authorization": f"Bearer {acme}"},
        )
        thread_id = started.json()["thread_id"]
        await anyio.sleep(0.2)  # acme's run is going: its thread is busy
        probe = await client.post(
            "/api/agents/chat/runs",
            json={"prompt": "Is it there?", "thread_id": thread_id, "stream": False},
            headers={"Authorization": f"Bearer {globex}"},
        )
        assert (probe.status_code, probe.json()["error"]["message"]) == (
            404,
            f"There is no thread {thread_id!r}.",
        )
        busy = await client.post(
            "/api/agents/chat/runs",
            json={"prompt": "Again", "thread_id": thread_id, "stream": False},
            headers={"Authorization": f"Bearer {acme}"},
        )
        assert busy.status_code == 409  # the owner learns it is busy
