"""`oxy serve` under load: N concurrent streaming agent runs against one server process.

The model is the scripted server in its own process (one streamed answer of a few words per
request); `oxy serve` runs as it ships (uvicorn, SQLite run store, every run and event recorded,
a thread per run); the load generator is this process (raw HTTP/1.1, one connection per run). Reported:
time from sending the request to the first SSE event (`run_started`), p50 and p99; time to
`run_finished`; completed runs/s over the whole batch; the server's peak RSS (VmHWM); errors.

    python -m benchmarks.serve_load [--runs 1000] [--concurrency 1000] [--max-concurrent-runs 256]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from benchmarks._scripted_backend import scripted_backend
from oxy.testing import Reply, ScriptedRequest, Turn

ANSWER = Reply(text="The shop sold 240 orders of coffee and tea last month.")
CONFIG = "models:\n  - name: scripted\n    vendor: vllm\n    model_ref: scripted\n    api_url: {url}\n"
AGENT = "description: Chats.\nmodel: scripted\nsystem_instructions: You are a helpful assistant.\n"


def _answer(request: ScriptedRequest) -> Turn:
    return ANSWER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def oxy_serve(project: Path, *, max_concurrent_runs: int) -> Generator[tuple[int, str], None, None]:
    """`oxy serve` in a child process; yields its pid and base URL."""
    port = _free_port()
    command = [
        sys.executable,
        *(os.environ.get("OXY_BENCH_PYTHON_ARGS", "").split()),
        "-c",
        os.environ.get("OXY_BENCH_SERVE_CODE", "from oxy.cli import main; main()"),
        "serve",
        "--project",
        str(project),
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--max-concurrent-runs",
        str(max_concurrent_runs),
    ]
    env = {k: v for k, v in os.environ.items() if k != "OXY_DATABASE_URL"}
    child = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("oxy serve did not start")
            time.sleep(0.1)
        yield child.pid, url
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Outcome:
    first_event_s: float | None = None
    total_s: float | None = None
    error: str | None = None


async def one_run(host: str, port: int, index: int) -> Outcome:
    """One streamed run over a raw connection (httpx would cost the load generator more than the server)."""
    outcome = Outcome()
    body = json.dumps({"prompt": f"How many orders? ({index})"}).encode()
    request = (
        f"POST /api/agents/chat/runs HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    try:
        stream = await anyio.connect_tcp(host, port)
    except OSError as exc:
        outcome.error = f"connect: {exc}"
        return outcome
    async with stream:
        await stream.send(request)
        buffer = b""
        while True:
            try:
                chunk = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                break
            buffer += chunk
            if outcome.first_event_s is None and b"event: " in buffer:
                outcome.first_event_s = time.perf_counter() - started
            end = buffer.find(b"event: run_finished")
            if end >= 0 and buffer.find(b"\n\n", end) >= 0:
                break
    if not buffer.startswith(b"HTTP/1.1 200"):
        outcome.error = buffer[:300].decode(errors="replace")
    elif b"event: run_finished" not in buffer:
        outcome.error = "the stream ended before run_finished"
    elif b'"status":"ok"' not in buffer[buffer.find(b"event: run_finished") :]:
        outcome.error = buffer[buffer.find(b"event: run_finished") :][:300].decode(errors="replace")
    else:
        outcome.total_s = time.perf_counter() - started
    return outcome


async def load(url: str, *, runs: int, concurrency: int) -> tuple[list[Outcome], float]:
    host, port = url.removeprefix("http://").split(":")
    outcomes: list[Outcome] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def run(index: int) -> None:
        async with limiter:
            outcomes.append(await one_run(host, int(port), index))

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index in range(runs):
            tg.start_soon(run, index)
    return outcomes, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--max-concurrent-runs", type=int, default=256, help="oxy serve's own bound")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="oxy-serve-load-"))
    try:
        with scripted_backend(_answer) as model_url:
            (folder / "config.yml").write_text(CONFIG.format(url=model_url))
            (folder / "agents").mkdir()
            (folder / "agents" / "chat.agent.yml").write_text(AGENT)
            with oxy_serve(folder, max_concurrent_runs=args.max_concurrent_runs) as (pid, url):
                anyio.run(lambda: load(url, runs=10, concurrency=10))  # warm up: imports, connections
                server_cpu = cpu_s(pid)
                client_cpu = time.process_time()
                outcomes, elapsed = anyio.run(lambda: load(url, runs=args.runs, concurrency=args.concurrency))
                server_cpu = cpu_s(pid) - server_cpu
                client_cpu = time.process_time() - client_cpu
                rss = peak_rss_mib(pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    errors = [o.error for o in outcomes if o.error is not None]
    firsts = [o.first_event_s for o in outcomes if o.first_event_s is not None]
    totals = [o.total_s for o in outcomes if o.total_s is not None and o.error is None]
    print(
        f"oxy serve, {args.runs} streaming agent runs, {args.concurrency} at once "
        f"(--max-concurrent-runs {args.max_concurrent_runs}), {os.cpu_count()} CPUs\n"
    )
    rows = [
        ("time to first event p50", f"{statistics.median(firsts) * 1000:.0f} ms" if firsts else "-"),
        ("time to first event p99", f"{percentile(firsts, 0.99) * 1000:.0f} ms" if firsts else "-"),
        ("time to run_finished p50", f"{statistics.median(totals) * 1000:.0f} ms" if totals else "-"),
        ("time to run_finished p99", f"{percentile(totals, 0.99) * 1000:.0f} ms" if totals else "-"),
        ("completed runs/s", f"{len(totals) / elapsed:.0f}"),
        ("wall time", f"{elapsed:.1f} s"),
        ("server peak RSS", f"{rss:.0f} MiB"),
        ("server CPU", f"{server_cpu:.1f} s ({server_cpu / elapsed * 100:.0f}% of one core)"),
        ("load generator CPU", f"{client_cpu:.1f} s"),
        ("errors", str(len(errors))),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'metric'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    for error in errors[:5]:
        print("error:", error)
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
