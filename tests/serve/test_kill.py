"""`oxy serve` SIGKILLed mid-run: restarted, it has every committed thread message and event, and
the interrupted run reads as `interrupted`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from oxy.testing import Reply, ScriptedModelServer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def oxy_serve(
    project: Path, *options: str, ready: str = "/ready"
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """`oxy serve` on a free port until the block ends, once `ready` answers 200 (`/health` for a
    server with API keys: `/ready` would need one, and spend its rate budget)."""
    port = free_port()
    command = [sys.executable, "-c", "from oxy.cli import main; main()", "serve", "--project", str(project)]
    env = {k: v for k, v in os.environ.items() if k != "OXY_DATABASE_URL"}
    log = project / f"serve-{port}.log"
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            [*command, "--port", str(port), "--log-level", "warning", *options], env=env, stderr=stderr
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get(ready).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"oxy serve did not start: {log.read_text()}")
            time.sleep(0.05)
        yield child, client
    finally:
        client.close()
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        child.wait(15)


def test_a_killed_server_restarts_with_committed_threads_and_events(
    project: Path, model: ScriptedModelServer
) -> None:
    words = " ".join(f"w{i}" for i in range(60))
    model.set_script(
        [Reply(text="First answer."), Reply(text=words, chunk_delay=0.1), Reply(text="Third answer.")]
    )
    seen: list[str] = []
    with oxy_serve(project) as (child, client):
        first = client.post(
            "/api/agents/chat/runs", json={"prompt": "First question", "stream": False}
        ).json()
        thread_id = first["thread_id"]
        body = {"prompt": "Second question", "thread_id": thread_id}
        with client.stream("POST", "/api/agents/chat/runs", json=body) as response:
            killed_run = response.headers["x-oxy-run-id"]
            for line in response.iter_lines():
                if line.startswith("data: "):
                    seen.append(line.removeprefix("data: "))
                if len(seen) >= 14:  # run_started, step_started, 12 deltas (> 1 s): some committed
                    child.send_signal(signal.SIGKILL)
                    break
        child.wait(10)
        assert child.returncode == -signal.SIGKILL

    with oxy_serve(project) as (_, client):
        thread = client.get(f"/api/threads/{thread_id}").json()
        assert [(m["role"], m["content"]) for m in thread["messages"]] == [
            ("user", "First question"),
            ("assistant", "First answer."),
            ("user", "Second question"),
        ]
        done = client.get(f"/api/runs/{first['run_id']}/events").json()
        assert (done[0]["kind"], done[-1]["kind"], done[-1]["status"]) == (
            "run_started",
            "run_finished",
            "ok",
        )

        run = client.get(f"/api/runs/{killed_run}").json()
        assert (run["status"], run["error"]) == (
            "interrupted",
            "The process running it stopped before the run finished.",
        )
        stored = [
            json.dumps(e, separators=(",", ":")) for e in client.get(f"/api/runs/{killed_run}/events").json()
        ]
        assert stored == seen[: len(stored)]  # what was committed is what the client saw, in order
        assert len(stored) >= 4 and [json.loads(s)["kind"] for s in stored[:3]] == [
            "run_started",
            "step_started",
            "text_delta",
        ]

        third = client.post(
            "/api/agents/chat/runs",
            json={"prompt": "Third question", "thread_id": thread_id, "stream": False},
        ).json()
        assert third["output"] == "Third answer."
        assert [m.content for m in model.requests[2].messages[1:]] == [
            "First question",
            "First answer.",
            "Second question",
            "Third question",
        ]
