"""`oxy serve` under load: streamed agent runs against one server (one or more worker processes).

The model is the scripted server in its own process; `oxy serve` runs as it ships (uvicorn, SQLite
run store, every run and event recorded, a thread per conversation); the load generator is this
process (raw HTTP/1.1, one connection per run). Two modes:

- burst: `--runs` requests sent in the same instant (at most `--concurrency` open), each answered
  with a few words at once. Measures how fast a pile of runs is worked off.
- steady: runs arrive at `--rate` per second for `--seconds`, each model answer streamed over
  `--answer-seconds` (in `--pieces` chunks), so about rate x answer-seconds runs are live at once (1,000 by
  default) — the shape of a busy chat service. Measures whether each new run still starts at once.

Reported: time from sending the request to the first SSE event (`run_started`), p50 and p99; time to
`run_finished`; completed runs/s; the most runs live at once; each worker's peak RSS (VmHWM) and
the server's CPU; errors.

    python -m benchmarks.serve_load [--mode burst|steady] [--workers 1] [--runs 1000] [--rate 100]
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
WORDS = "The shop sold 240 orders of coffee and tea last month, mostly on weekends.".split()
CONFIG = "models:\n  - name: scripted\n    vendor: vllm\n    model_ref: scripted\n    api_url: {url}\n"
AGENT = "description: Chats.\nmodel: scripted\nsystem_instructions: You are a helpful assistant.\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def oxy_serve(
    project: Path, *, max_concurrent_runs: int, workers: int = 1
) -> Generator[tuple[int, str], None, None]:
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
        "--workers",
        str(workers),
        "--max-connections",
        "4096",
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


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's worker processes)."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found.extend(_tree(int(child)))
    return found


def cpu_s(pid: int) -> float:
    total = 0.0
    for each in _tree(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mib(pid: int, field: str = "VmHWM") -> list[float]:
    """`field` (VmHWM: peak RSS; VmRSS: now) of each process that serves (the workers; the lone
    process with one worker), in MiB."""
    pids = _tree(pid)
    workers = [p for p in pids[1:] if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
    values: list[float] = []
    for each in workers or pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                values.append(int(line.split()[1]) / 1024)
    return values


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


class Live:
    """Runs in flight at the load generator, and the most at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def enter(self) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        self.now -= 1


async def burst(url: str, *, runs: int, concurrency: int, live: Live) -> tuple[list[Outcome], float]:
    host, port = url.removeprefix("http://").split(":")
    outcomes: list[Outcome] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def run(index: int) -> None:
        async with limiter:
            live.enter()
            outcomes.append(await one_run(host, int(port), index))
            live.leave()

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index in range(runs):
            tg.start_soon(run, index)
    return outcomes, time.perf_counter() - started


async def steady(url: str, *, rate: float, seconds: float, live: Live) -> tuple[list[Outcome], float]:
    """Start a run every 1/rate s for `seconds` (on schedule, however the server keeps up)."""
    host, port = url.removeprefix("http://").split(":")
    outcomes: list[Outcome] = []

    async def run(index: int) -> None:
        live.enter()
        outcomes.append(await one_run(host, int(port), index))
        live.leave()

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index in range(round(rate * seconds)):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await anyio.sleep(delay)
            tg.start_soon(run, index)
    return outcomes, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mode", choices=("burst", "steady"), default="burst")
    parser.add_argument("--workers", type=int, default=1, help="oxy serve --workers")
    parser.add_argument("--runs", type=int, default=1000, help="burst: runs sent at once")
    parser.add_argument("--concurrency", type=int, default=1000, help="burst: connections open at most")
    parser.add_argument("--rate", type=float, default=100.0, help="steady: runs started per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="steady: how long runs keep arriving")
    parser.add_argument(
        "--answer-seconds", type=float, default=10.0, help="steady: each answer streams this long"
    )
    parser.add_argument("--pieces", type=int, default=10, help="steady: text chunks per answer")
    parser.add_argument("--max-concurrent-runs", type=int, default=2048, help="oxy serve's own bound")
    args = parser.parse_args()

    if args.mode == "steady":
        text = " ".join(WORDS[i % len(WORDS)] for i in range(args.pieces))
        # The stream is the pieces plus a role, a finish and a usage chunk, each after the delay.
        answer = Reply(text=text, chunk_delay=args.answer_seconds / (args.pieces + 3))
    else:
        answer = ANSWER

    def script(request: ScriptedRequest) -> Turn:
        return answer

    folder = Path(tempfile.mkdtemp(prefix="oxy-serve-load-"))
    live = Live()
    try:
        with scripted_backend(script) as model_url:
            (folder / "config.yml").write_text(CONFIG.format(url=model_url))
            (folder / "agents").mkdir()
            (folder / "agents" / "chat.agent.yml").write_text(AGENT)
            with oxy_serve(folder, max_concurrent_runs=args.max_concurrent_runs, workers=args.workers) as (
                pid,
                url,
            ):
                warm = Live()
                anyio.run(
                    lambda: burst(url, runs=10 * args.workers, concurrency=10, live=warm)
                )  # imports, pools
                idle_rss = rss_mib(pid, "VmRSS")
                model_pids = [p for p in _tree(os.getpid())[1:] if p not in _tree(pid)]
                model_cpu = sum(cpu_s(p) for p in model_pids)
                server_cpu = cpu_s(pid)
                client_cpu = time.process_time()
                if args.mode == "steady":
                    outcomes, elapsed = anyio.run(
                        lambda: steady(url, rate=args.rate, seconds=args.seconds, live=live)
                    )
                else:
                    outcomes, elapsed = anyio.run(
                        lambda: burst(url, runs=args.runs, concurrency=args.concurrency, live=live)
                    )
                server_cpu = cpu_s(pid) - server_cpu
                model_cpu = sum(cpu_s(p) for p in model_pids) - model_cpu
                client_cpu = time.process_time() - client_cpu
                rss = rss_mib(pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    errors = [o.error for o in outcomes if o.error is not None]
    firsts = [o.first_event_s for o in outcomes if o.first_event_s is not None]
    totals = [o.total_s for o in outcomes if o.total_s is not None and o.error is None]
    if args.mode == "steady":
        shape = (
            f"steady: {args.rate:g} runs/s for {args.seconds:g} s, each answer streamed in {args.pieces} "
            f"chunks over {args.answer_seconds:g} s"
        )
    else:
        shape = f"burst: {args.runs} runs at once ({args.concurrency} connections at most)"
    print(
        f"oxy serve --workers {args.workers} --max-concurrent-runs {args.max_concurrent_runs}, {shape}, "
        f"{os.cpu_count()} CPUs\n"
    )
    rows = [
        ("time to first event p50", f"{statistics.median(firsts) * 1000:.0f} ms" if firsts else "-"),
        ("time to first event p99", f"{percentile(firsts, 0.99) * 1000:.0f} ms" if firsts else "-"),
        ("time to run_finished p50", f"{statistics.median(totals) * 1000:.0f} ms" if totals else "-"),
        ("time to run_finished p99", f"{percentile(totals, 0.99) * 1000:.0f} ms" if totals else "-"),
        ("completed runs/s", f"{len(totals) / elapsed:.0f}"),
        ("most runs live at once", str(live.peak)),
        ("wall time", f"{elapsed:.1f} s"),
        ("peak RSS per worker", ", ".join(f"{r:.0f} MiB" for r in rss)),
        ("RSS before the load, per worker", ", ".join(f"{r:.0f} MiB" for r in idle_rss)),
        (
            "RSS per live run (peak - before) / live per worker",
            f"{(sum(rss) - sum(idle_rss)) * 1024 / max(1, live.peak):.0f} KiB",
        ),
        ("server CPU", f"{server_cpu:.1f} s ({server_cpu / elapsed * 100:.0f}% of one core)"),
        ("load generator CPU", f"{client_cpu:.1f} s"),
        ("scripted model server CPU", f"{model_cpu:.1f} s"),
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
