"""`oxy models serve|status`, `oxy run --with-models` and `oxy serve --with-models`, with the stand-in
`vllm serve` (tests/models/serving/fake_vllm.py) forwarding to the scripted model."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from oxy.testing import Reply, ScriptedModelServer
from tests.mcp_servers import free_port, http_server
from tests.models.serving.test_model_server import alive

OXY = str(Path(sys.executable).with_name("oxy"))
FAKE_VLLM = Path(__file__).resolve().parents[1] / "models" / "serving" / "fake_vllm.py"


@pytest.fixture
def upstream() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


def project(tmp_path: Path, upstream: ScriptedModelServer, port: int) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        "models:\n"
        "  - name: qwen\n    vendor: vllm\n    model_ref: Qwen/Qwen2.5-7B-Instruct\n"
        f"    api_url: http://127.0.0.1:{port}/v1\n"
        f"    serve:\n      command: [{sys.executable}, {FAKE_VLLM}]\n"
        f"      env: {{FAKE_VLLM_UPSTREAM: '{upstream.base_url}', FAKE_VLLM_DELAY: '0.3'}}\n"
        f"      args: {{gpu_memory_utilization: 0.85}}\n"
        "  - name: down\n    vendor: vllm\n    model_ref: x\n    api_url: http://127.0.0.1:9/v1\n"
    )
    (root / "agents" / "a.agent.yml").write_text("model: qwen\nsystem_instructions: Be brief.\n")
    return root


def readline_within(stream: IO[str], timeout: float = 60) -> str:
    """A line from a child's pipe, or a failed test (not a hung one) when none comes in time. (Read in a
    thread: `select` on the pipe would miss lines already in the stream's buffer.)"""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no line within {timeout} s") from None


def none_left(upstream: ScriptedModelServer, within: float = 10) -> bool:
    """Whether this test's stand-in servers are all gone (waiting up to `within` seconds for them)."""
    deadline = time.monotonic() + within
    while fake_pids(upstream) and time.monotonic() < deadline:
        time.sleep(0.1)
    return fake_pids(upstream) == []


def fake_pids(upstream: ScriptedModelServer) -> list[int]:
    """Live stand-in servers of this test (the ones forwarding to its `upstream`)."""
    marker = f"FAKE_VLLM_UPSTREAM={upstream.base_url}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if (
                str(FAKE_VLLM).encode() in cmdline
                and marker in environ.split(b"\0")
                and alive(int(entry.name))
            ):
                pids.append(int(entry.name))
    return pids


def test_run_with_models_starts_and_stops_the_server(tmp_path: Path, upstream: ScriptedModelServer) -> None:
    root = project(tmp_path, upstream, free_port())
    upstream.set_script([Reply(text="Served.")])
    done = subprocess.run(
        [OXY, "run", "agents/a.agent.yml", "hi", "--with-models"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Served." in done.stdout
    assert none_left(upstream)


def test_models_serve_until_ctrl_c_and_status(tmp_path: Path, upstream: ScriptedModelServer) -> None:
    port = free_port()
    root = project(tmp_path, upstream, port)
    proc = subprocess.Popen(
        [OXY, "models", "serve"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        line = readline_within(proc.stderr)
        assert line.startswith(f"oxy models: qwen ready at http://127.0.0.1:{port}/v1 (pid "), line
        status = subprocess.run(
            [OXY, "models", "status"], cwd=root, capture_output=True, text=True, timeout=30
        )
        lines = status.stdout.splitlines()
        assert lines[0].split() == [
            "model",
            "endpoint",
            "reachable",
            "serves",
            "health",
            "running",
            "waiting",
        ]
        assert lines[1].split()[:5] == [
            "qwen",
            f"http://127.0.0.1:{port}/v1",
            "yes",
            "Qwen/Qwen2.5-7B-Instruct",
            "ok",
        ]
        assert lines[2].startswith("down") and "no (nothing listens there)" in lines[2]
        assert status.returncode == 1  # an endpoint is down
        as_json = json.loads(
            subprocess.run(
                [OXY, "models", "status", "--json"], cwd=root, capture_output=True, text=True
            ).stdout
        )
        assert as_json[0]["served"] == ["Qwen/Qwen2.5-7B-Instruct"] and as_json[1]["reachable"] is False
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert time.monotonic() - started < 10
        assert "[qwen] INFO" in out  # the server's own lines, prefixed
    finally:
        if proc.poll() is None:
            proc.kill()
    assert none_left(upstream)


def test_models_serve_explains_a_failure(tmp_path: Path, upstream: ScriptedModelServer) -> None:
    root = project(tmp_path, upstream, free_port())
    config = root / "config.yml"
    config.write_text(
        config.read_text().replace("FAKE_VLLM_DELAY: '0.3'", "FAKE_VLLM_DELAY: '0.1', FAKE_VLLM_MODE: oom")
    )
    done = subprocess.run(
        [OXY, "models", "serve", "qwen"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: the vllm server of model 'qwen'")
    assert "ran out of GPU memory" in done.stderr and "Traceback" not in done.stderr.split("[qwen]")[0]
    unknown = subprocess.run(
        [OXY, "models", "serve", "nope"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert (
        unknown.returncode == 1
        and "no `serve:` block for model(s) 'nope'; models with one: qwen" in unknown.stderr
    )


def test_oxy_serve_with_models_reports_them_in_health(tmp_path: Path, upstream: ScriptedModelServer) -> None:
    root = project(tmp_path, upstream, free_port())
    config = root / "config.yml"  # the model takes 3 s to load: the server answers before it is ready
    config.write_text(config.read_text().replace("FAKE_VLLM_DELAY: '0.3'", "FAKE_VLLM_DELAY: '3'"))
    port = free_port()
    with http_server([OXY, "serve", "--with-models", "--port", str(port)], port, cwd=root, timeout=60):
        loading = httpx.get(f"http://127.0.0.1:{port}/ready")
        assert loading.status_code == 503 and "Model servers starting" in loading.text
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["models"]["state"] == "starting"
        deadline = time.monotonic() + 30
        while httpx.get(f"http://127.0.0.1:{port}/ready").status_code != 200:
            assert time.monotonic() < deadline, httpx.get(f"http://127.0.0.1:{port}/health").json()
            time.sleep(0.2)
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
        assert health["models"].get("qwen", {}).get("state") == "ready", health
        assert len(fake_pids(upstream)) == 1
    assert none_left(upstream)


def test_ctrl_c_while_a_server_is_still_starting(tmp_path: Path, upstream: ScriptedModelServer) -> None:
    root = project(tmp_path, upstream, free_port())
    config = root / "config.yml"
    config.write_text(config.read_text().replace("FAKE_VLLM_DELAY: '0.3'", "FAKE_VLLM_DELAY: '60'"))
    proc = subprocess.Popen(
        [OXY, "models", "serve"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 20
    while not fake_pids(upstream) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fake_pids(upstream), "the server never started"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()  # its server goes too (it dies with oxy)
    assert time.monotonic() - sent < 5, err  # not after the server's 60 s startup
    assert "oxy models: stopping" in err and "ready at" not in err
    assert none_left(upstream)


def test_a_server_does_not_outlive_a_killed_oxy(tmp_path: Path, upstream: ScriptedModelServer) -> None:
    root = project(tmp_path, upstream, free_port())
    upstream.set_script([Reply(text="late", delay=30)])
    proc = subprocess.Popen(
        [OXY, "run", "agents/a.agent.yml", "hi", "--with-models"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not upstream.requests and time.monotonic() < deadline:  # the server is up and the run asks it
        time.sleep(0.1)
    assert upstream.requests and fake_pids(upstream)
    proc.kill()  # no chance to clean up
    proc.wait(timeout=10)
    assert none_left(upstream)  # the kernel told it to stop when oxy died
