"""Per-API-key budgets hold across server processes sharing one run store: two `oxy serve` processes
on one project draw on one rate bucket and one count of runs at once per key."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest

from .test_auth import bearer, create_key
from .test_kill import oxy_serve

pytestmark = pytest.mark.skipif(os.name != "posix", reason="starts server processes")


def test_two_servers_share_one_rate_bucket_per_key(project: Path) -> None:
    first, second = create_key(project, "acme"), create_key(project, "acme")
    options = ("--rate-limit", "0.01", "--rate-burst", "3")
    with (
        oxy_serve(project, *options, ready="/health") as (_, a),
        oxy_serve(project, *options, ready="/health") as (
            _,
            b,
        ),
    ):
        codes = [client.get("/api/agents", headers=bearer(first)).status_code for client in (a, b, a, b)]
        assert codes == [200, 200, 200, 429]  # 3 tokens in all, not 3 per process
        refused = b.get("/api/agents", headers=bearer(first))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 60
        assert a.get("/api/agents", headers=bearer(second)).status_code == 200  # another key, its own bucket


def test_two_servers_share_one_count_of_runs_per_key(project: Path, model: ScriptedModelServer) -> None:
    key, other = create_key(project, "acme"), create_key(project, "acme")

    def script(request: ScriptedRequest) -> Reply:
        # The runs reach the model in whatever order: the first key's first run is the slow one.
        slow = request.messages[-1].content == "Take your time."
        return Reply(text="Slow.", delay=60) if slow else Reply(text="Quick.")

    model.set_script(script)
    body = {"prompt": "Hi", "background": True}
    options = ("--max-runs-per-key", "1")
    with (
        oxy_serve(project, *options, ready="/health") as (_, a),
        oxy_serve(project, *options, ready="/health") as (
            _,
            b,
        ),
    ):
        running = a.post(
            "/api/agents/chat/runs", json={**body, "prompt": "Take your time."}, headers=bearer(key)
        )
        assert running.status_code == 202
        refused = b.post("/api/agents/chat/runs", json=body, headers=bearer(key))
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["message"] == (
            "This API key has 1 runs going, its limit (--max-runs-per-key 1); wait for one to finish and try again."
        )
        assert b.post("/api/agents/chat/runs", json=body, headers=bearer(other)).status_code == 202
        run_id = running.json()["run_id"]
        assert a.post(f"/api/runs/{run_id}/cancel", headers=bearer(key)).status_code == 200
        deadline = time.monotonic() + 20
        while a.get(f"/api/runs/{run_id}", headers=bearer(key)).json()["status"] == "running":
            assert time.monotonic() < deadline, "the first run never stopped"
            time.sleep(0.1)
        # Its lease went with it: the key may start another run, on either server.
        again = b.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": False}, headers=bearer(key))
        assert again.status_code == 200, again.text
