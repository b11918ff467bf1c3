"""Limits: a per-key token bucket (429), a bounded run queue (503), a per-run timeout."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.serve import create_app
from oxy.serve._limits import RateLimiter
from oxy.storage import AsyncStore
from oxy.testing import Reply, ScriptedModelServer

from .conftest import open_client, settings_for
from .test_auth import bearer, create_key

pytestmark = pytest.mark.anyio


async def test_token_bucket_refills_at_its_rate(tmp_path: Path) -> None:
    async with await AsyncStore.open(project_root=tmp_path) as store:
        limiter = RateLimiter(store, rate=10.0, burst=2)
        assert [await limiter.acquire("k") for _ in range(2)] == [0.0, 0.0]
        wait = await limiter.acquire("k")
        assert 0.05 < wait <= 0.1
        assert await limiter.acquire("other") == 0.0
        await anyio.sleep(wait + 0.01)
        assert await limiter.acquire("k") == 0.0  # refilled


async def test_each_key_has_its_own_rate_limit(project: Path) -> None:
    first, second = create_key(project, "acme"), create_key(project, "acme")
    async for client in open_client(create_app(settings_for(project, rate_per_s=0.5, rate_burst=3))):
        codes = [(await client.get("/api/agents", headers=bearer(first))).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = await client.get("/api/agents", headers=bearer(first))
        assert limited.headers["retry-after"] == "2"
        assert limited.json() == {
            "error": {
                "type": "rate_limited",
                "message": "Too many requests for this API key (limit 0.5/s, burst 3); retry after 2 s.",
            }
        }
        assert (await client.get("/api/agents", headers=bearer(second))).status_code == 200
        assert (await client.get("/health")).status_code == 200


async def test_runs_past_the_slots_and_the_queue_get_503(project: Path, model: ScriptedModelServer) -> None:
    model.set_script(lambda request: Reply(text="Slowly.", delay=0.5))
    settings = settings_for(project, max_concurrent_runs=1, max_queued_runs=1)
    async for client in open_client(create_app(settings)):
        body = {"prompt": "Hi", "background": True}
        running = await client.post("/api/agents/chat/runs", json=body)
        queued = await client.post("/api/agents/chat/runs", json=body)
        assert (running.status_code, queued.status_code) == (202, 202)
        assert (await client.get(f"/api/runs/{queued.json()['run_id']}")).json()["status"] == "queued"
        events = (await client.get(f"/api/runs/{queued.json()['run_id']}/events")).json()
        assert [e["kind"] for e in events] == ["run_started"]  # sent at once, before it has a slot
        refused = await client.post("/api/agents/chat/runs", json=body)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["message"].startswith(
            "The server is at capacity: 1 runs executing and 1 queued"
        )
        for started in (running, queued):
            await client.get(f"/api/runs/{started.json()['run_id']}/events", params={"follow": True})
            run = (await client.get(f"/api/runs/{started.json()['run_id']}")).json()
            assert (run["status"], run["output"]) == ("ok", "Slowly.")
        assert model.max_in_flight == 1
        after = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": False})
        assert after.json()["status"] == "ok"


async def test_a_run_past_its_timeout_ends_in_error(project: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Never seen.", delay=5)])
    async for client in open_client(create_app(settings_for(project, run_timeout_s=0.3))):
        with anyio.fail_after(3):
            response = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": False})
        message = "The run took longer than the server's run timeout of 0.3 s."
        assert (response.json()["status"], response.json()["error"]) == ("error", message)
        events = (await client.get(f"/api/runs/{response.json()['run_id']}/events")).json()
        assert [e["kind"] for e in events][-3:] == ["step_finished", "error", "run_finished"]
        assert events[-2] == {**events[-2], "error_type": "LimitExceeded", "message": message}
        run = (await client.get(f"/api/runs/{response.json()['run_id']}")).json()
        assert (run["status"], run["error"]) == ("error", message)


def test_serve_refuses_a_public_address_without_keys(project: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--project", str(project), "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no API keys are configured, so oxy serve listens only on 127.0.0.1, not '0.0.0.0': "
        "create one with `oxy keys create`, or pass --insecure to serve without keys\n"
    )


async def test_a_store_that_is_away_makes_the_rate_check_a_503_not_a_crash(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oxy.storage import StoreError

    token = create_key(project, "acme")

    async def away(self: AsyncStore, key: str, *, rate: float, burst: int) -> float:
        raise StoreError("could not write to the run store: disk I/O error")

    monkeypatch.setattr(AsyncStore, "take_token", away)
    async for client in open_client(create_app(settings_for(project))):
        answer = await client.get("/api/agents", headers=bearer(token))
    assert answer.status_code == 503
    assert answer.json()["error"]["message"] == (
        "The server cannot check this key's rate limit just now (could not write to the run store: disk I/O "
        "error); try again shortly."
    )
