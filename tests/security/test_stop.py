"""Every way of stopping a run stops a long query in the database (issue 9, item 2).

A cross join that DuckDB would grind through for minutes runs under a run timeout, a cancel request, a
client that goes away, Ctrl-C; SQLite's and PostgreSQL's statements are interrupted the same way. Each
test bounds the wait generously (the old code took 18 to 111 s): `benchmarks/stop_times.py` measures.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest

from oxy.config.databases import SQLiteDatabase
from oxy.databases import open_database
from oxy.errors import RunCancelled
from oxy.events.types import RunFinished, event_from_json
from oxy.serve import ServeSettings, create_app

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"
OXY = Path(sys.executable).parent / "oxy"
CROSS_JOIN = "select count(*) as n from range(100000000) a, range(100000000) b where a.range + b.range = 7"
SQLITE_LOOP = "with recursive r(i) as (select 1 union all select i + 1 from r where i < 2000000000) select count(*) from r"

SLOW_WORKFLOW = f"""\
tasks:
  - name: slow
    type: execute_sql
    database: shop
    sql_query: {CROSS_JOIN}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    (root / "queries" / "slow.sql").write_text(CROSS_JOIN + "\n")
    (root / "workflows" / "slow.workflow.yml").write_text(SLOW_WORKFLOW)
    return root


def test_ctrl_c_interrupts_a_long_duckdb_query(project: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen(
        [OXY, "run", str(project / "queries/slow.sql"), "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # run_started: the query is about to run
    assert '"run_started"' in first, first
    time.sleep(1.0)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert (proc.returncode, err.strip()) == (130, "Cancelled."), err
    finished = event_from_json(out.splitlines()[-1])
    assert isinstance(finished, RunFinished) and finished.status == "cancelled"
    assert took < 10, f"Ctrl-C took {took:.1f} s"
    assert list(scratch.iterdir()) == []  # the dataset's temporary DuckDB folder is gone


@pytest.mark.anyio
async def test_run_timeout_and_cancel_stop_a_served_query(project: Path) -> None:
    app = create_app(ServeSettings(project=project, run_timeout_s=1.0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=30) as client:
            started = time.monotonic()
            timed = await client.post("/api/workflows/slow/runs", json={"stream": False})
            assert time.monotonic() - started < 10
            body = timed.json()
            assert (body["status"], body["error"]) == (
                "error",
                "The run took longer than the server's run timeout of 1 s.",
            )

            background = await client.post(
                "/api/workflows/slow/runs", json={"background": True, "stream": False}
            )
            run_id = background.json()["run_id"]
            await anyio.sleep(0.5)
            cancelled_at = time.monotonic()
            await client.post(f"/api/runs/{run_id}/cancel")
            while (info := (await client.get(f"/api/runs/{run_id}")).json())["status"] == "running":
                assert time.monotonic() - cancelled_at < 10, "the cancelled query kept running"
                await anyio.sleep(0.05)
            assert (info["status"], info["error"]) == ("cancelled", "The run was cancelled by request.")


@pytest.mark.anyio
async def test_a_cancelled_sqlite_statement_is_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("create table t (a)")
    connector = open_database(
        SQLiteDatabase(name="app", type="sqlite", path=path.name), project_root=tmp_path
    )
    started = time.monotonic()
    with anyio.move_on_after(0.5):
        await connector.aquery(SQLITE_LOOP)
    # The cancel alone stops it (closing would interrupt it again, so it is not what is tested).
    while connector._statements.running_count:  # pyright: ignore[reportPrivateUsage]
        assert time.monotonic() - started < 10, "the cancelled statement kept running"
        await anyio.sleep(0.01)
    connector.close()


def test_a_statement_cancelled_before_it_starts_never_runs(tmp_path: Path) -> None:
    from oxy.databases._interrupt import Statement

    path = tmp_path / "app.db"
    sqlite3.connect(path).close()
    connector = open_database(
        SQLiteDatabase(name="app", type="sqlite", path=path.name), project_root=tmp_path
    )
    statement = Statement()
    statement.cancel()
    with pytest.raises(RunCancelled):
        connector.query("select 1", statement=statement)
    connector.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM is POSIX")
def test_sigterm_stops_a_server_running_a_long_query(project: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "OXY_DATABASE_URL"} | {"TMPDIR": str(scratch)}
    log = tmp_path / "serve.log"
    command = [OXY, "serve", "--project", str(project), "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as stderr:
        child = subprocess.Popen(command, env=env, stderr=stderr)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert child.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            run = client.post("/api/workflows/slow/runs", json={"background": True, "stream": False}).json()
            while client.get(f"/api/runs/{run['run_id']}").json()["status"] != "running":
                time.sleep(0.05)
            time.sleep(0.5)  # the cross join is running now
        sent = time.monotonic()
        child.send_signal(signal.SIGTERM)
        child.wait(30)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM is a clean stop.
    assert child.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Traceback" not in log.read_text()
    assert took < 10, f"SIGTERM took {took:.1f} s"
    assert list(scratch.iterdir()) == []  # the dataset's temporary DuckDB folder is gone


def test_a_cancel_racing_the_statements_start_is_not_lost(tmp_path: Path) -> None:
    """Cancelled at every moment around `attach` and the driver's start: each statement still ends."""
    import threading

    from oxy.databases._interrupt import Statement

    path = tmp_path / "app.db"
    sqlite3.connect(path).close()
    connector = open_database(
        SQLiteDatabase(name="app", type="sqlite", path=path.name), project_root=tmp_path
    )
    outcomes: list[str] = []
    for delay in (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01):
        statement = Statement()
        timer = threading.Timer(delay, statement.cancel)
        timer.start()
        started = time.monotonic()
        try:
            connector.query(SQLITE_LOOP, statement=statement)
            outcomes.append("finished")
        except RunCancelled:
            outcomes.append("cancelled")
        assert time.monotonic() - started < 10, f"cancel after {delay} s was lost"
    connector.close()
    assert outcomes == ["cancelled"] * 6
