"""SIGINT to `oxy serve` mid-stream (issue 9, item 9): the run stops at once, its client gets a final
`run_finished`, the server exits inside the grace period, and the log says one line per run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from oxy.testing import Reply, ScriptedModelServer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")

OXY = Path(sys.executable).parent / "oxy"


def test_sigint_mid_stream_ends_the_run_for_its_client(project: Path, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text=" ".join(f"w{i}" for i in range(200)), chunk_delay=0.1)])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = project / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != "OXY_DATABASE_URL"}
    with log.open("wb") as out:
        child = subprocess.Popen(
            [OXY, "serve", "--project", str(project), "--port", str(port)], stdout=out, stderr=out, env=env
        )
    events: list[dict[str, object]] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    assert child.poll() is None and time.monotonic() < deadline, log.read_text()
                    time.sleep(0.05)
            sent = 0.0
            with client.stream("POST", "/api/agents/chat/runs", json={"prompt": "Hi"}) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        events.append(json.loads(line.removeprefix("data: ")))
                    if len(events) == 10 and not sent:
                        sent = time.monotonic()
                        child.send_signal(signal.SIGINT)
        child.wait(30)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    text = log.read_text()
    assert events[-1]["kind"] == "run_finished", events[-3:]
    assert (events[-1]["status"], events[-1]["error"]) == (
        "cancelled",
        "The server shut down before the run finished.",
    )
    assert took < 5, f"shutdown took {took:.1f} s, past uvicorn's 5 s grace period"  # was 8 s
    assert "Traceback" not in text and "CancelledError" not in text, text
    assert text.count(" cancelled: The server shut down before the run finished.") == 1, text
