"""How long each way of stopping a run takes while DuckDB grinds through a cross join.

    python -m benchmarks.stop_times [--repeat 3]

Each row starts the same minutes-long query in a fresh copy of the quickstart project, asks it to stop
once it is running, and times from the ask to the answer: a run timeout (the server's `run_timeout_s`,
timed from the deadline), a cancel request, Ctrl-C on `oxy run` (until the process exits) and SIGTERM
on `oxy serve` (until the process exits).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx

from oxy.serve import ServeSettings, create_app

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "projects" / "quickstart"
OXY = Path(sys.executable).parent / "oxy"
CROSS_JOIN = "select count(*) as n from range(100000000) a, range(100000000) b where a.range + b.range = 7"
WORKFLOW = f"tasks:\n  - name: slow\n    type: execute_sql\n    database: shop\n    sql_query: {CROSS_JOIN}\n"
TIMEOUT_S = 1.0


def _project(folder: Path) -> Path:
    root = folder / "shop"
    shutil.copytree(QUICKSTART, root)
    (root / "queries" / "slow.sql").write_text(CROSS_JOIN + "\n")
    (root / "workflows" / "slow.workflow.yml").write_text(WORKFLOW)
    return root


async def _served(project: Path, how: str) -> float:
    app = create_app(ServeSettings(project=project, run_timeout_s=TIMEOUT_S if how == "timeout" else 600))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=120) as client:
            if how == "timeout":
                started = time.monotonic()
                await client.post("/api/workflows/slow/runs", json={"stream": False})
                return time.monotonic() - started - TIMEOUT_S
            run_id = (await client.post("/api/workflows/slow/runs", json={"background": True})).json()[
                "run_id"
            ]
            await anyio.sleep(1.0)
            asked = time.monotonic()
            await client.post(f"/api/runs/{run_id}/cancel")
            while (await client.get(f"/api/runs/{run_id}")).json()["status"] == "running":
                await anyio.sleep(0.01)
            return time.monotonic() - asked


def _ctrl_c(project: Path) -> float:
    proc = subprocess.Popen(
        [OXY, "run", str(project / "queries/slow.sql"), "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(1.0)
    asked = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=300)
    return time.monotonic() - asked


def _sigterm(project: Path) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "OXY_DATABASE_URL"}
    command = [OXY, "serve", "--project", str(project), "--port", str(port), "--log-level", "warning"]
    child = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        while True:
            try:
                if client.get("/ready").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        client.post("/api/workflows/slow/runs", json={"background": True})
        time.sleep(1.0)
    asked = time.monotonic()
    child.send_signal(signal.SIGTERM)
    child.wait(300)
    return time.monotonic() - asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ways: dict[str, Callable[[Path], float]] = {
        "run timeout (after the deadline)": lambda p: anyio.run(_served, p, "timeout"),
        "cancel request": lambda p: anyio.run(_served, p, "cancel"),
        "Ctrl-C on oxy run (to exit)": _ctrl_c,
        "SIGTERM on oxy serve (to exit)": _sigterm,
    }
    print(f"stopping a running DuckDB cross join, {args.repeat} runs each")
    print(f"{'how':<34}  {'median s':>8}  {'max s':>6}")
    print(f"{'-' * 34}  {'-' * 8}  {'-' * 6}")
    for name, stop in ways.items():
        times: list[float] = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as folder:
                times.append(stop(_project(Path(folder))))
        print(f"{name:<34}  {statistics.median(times):>8.3f}  {max(times):>6.3f}", flush=True)


if __name__ == "__main__":
    main()
