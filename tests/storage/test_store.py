"""Opening a store: where it lives, migrations, SQLite's pragmas, which runs count as interrupted."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import oxy.storage
from oxy.storage import Store, StoreError
from oxy.storage._migrate import HEAD, SCRIPT_LOCATION

TABLES = [
    "alembic_version",
    "api_keys",
    "events",
    "input_requests",
    "memories",
    "messages",
    "owners",
    "rate_buckets",
    "run_leases",
    "runs",
    "task_outputs",
    "threads",
    "workspace_tasks",
]


def test_exported_names_are_sorted_and_pinned() -> None:
    assert oxy.storage.__all__ == sorted(oxy.storage.__all__)
    assert oxy.storage.__all__ == [
        "ApiKey",
        "AsyncStore",
        "FinalState",
        "InputRequestRecord",
        "InputStatus",
        "KeyStore",
        "LOCAL_TENANT",
        "Memory",
        "NotFound",
        "Run",
        "RunEvent",
        "RunKind",
        "RunState",
        "RunWrites",
        "Store",
        "StoreError",
        "StoreSink",
        "StoreWriter",
        "TaskOutput",
        "TaskRecord",
        "Thread",
        "ThreadMessage",
    ]


def test_the_default_store_is_a_file_in_the_projects_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OXY_DATABASE_URL", raising=False)
    with Store.open(project_root=tmp_path) as store:
        assert store.url == f"sqlite+pysqlite:///{tmp_path / '.oxy' / 'oxy.db'}"
    assert (tmp_path / ".oxy" / "oxy.db").is_file()
    # git ignores the state, not the recorded model answers (`oxy test --record`), which CI replays.
    (tmp_path / ".oxy" / "cassettes").mkdir()
    (tmp_path / ".oxy" / "cassettes" / "default.json").write_text("{}")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    checked = subprocess.run(
        ["git", "check-ignore", ".oxy/oxy.db", ".oxy/cassettes/default.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.stdout.splitlines() == [".oxy/oxy.db"]


def test_a_state_folder_ignored_whole_by_an_older_oxy_lets_cassettes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OXY_DATABASE_URL", raising=False)
    (tmp_path / ".oxy").mkdir()
    old = "# oxy's local state (runs, threads); not for version control\n*\n"
    (tmp_path / ".oxy" / ".gitignore").write_text(old)
    with Store.open(project_root=tmp_path):
        pass
    assert (tmp_path / ".oxy" / ".gitignore").read_text().splitlines()[-2:] == [
        "!cassettes/",
        "!cassettes/**",
    ]


def test_oxy_database_url_wins_over_the_project_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OXY_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with Store.open(project_root=tmp_path / "project") as store:
        assert store.url == f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert not (tmp_path / "project").exists()


def test_no_url_and_no_project_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OXY_DATABASE_URL", raising=False)
    with pytest.raises(StoreError, match="pass a database URL, set OXY_DATABASE_URL or a project root"):
        Store.open()


def test_an_unreachable_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(
        StoreError, match=r"^could not write to the run store at sqlite:///.*/missing/oxy.db: "
    ):
        Store.open(f"sqlite:///{tmp_path / 'missing' / 'oxy.db'}")


def test_migrations_create_the_schema_once_and_reopening_changes_nothing(store_url: str) -> None:
    Store.open(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        assert sorted(sa.inspect(connection).get_table_names()) == TABLES
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
    with Store.open(store_url) as store:
        run = store.create_run(tenant="local", target="q.sql", kind="sql")
    with Store.open(store_url) as store:
        assert store.get_run(run.id, tenant="local") is not None
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
    engine.dispose()


def test_processes_opening_a_new_store_at_once_migrate_it_once(store_url: str) -> None:
    code = "import sys, oxy.storage; oxy.storage.Store.open(sys.argv[1]).close()"
    children = [subprocess.Popen([sys.executable, "-c", code, store_url]) for _ in range(4)]
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0, 0]
    with Store.open(store_url) as store:
        assert store.list_runs(tenant="local") == []


def test_head_is_alembics_newest_revision() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


@pytest.mark.postgres
def test_postgresql_urls_use_psycopg_3(postgres_store_url: sa.URL) -> None:
    with Store.open(postgres_store_url.set(drivername="postgresql")) as store:
        assert store.url.startswith("postgresql+psycopg://")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with Store.open(project_root=tmp_path) as store:
        engine = store._engine  # pyright: ignore[reportPrivateUsage]
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30000}
    with sqlite3.connect(tmp_path / ".oxy" / "oxy.db") as connection:  # WAL is a property of the file
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_importing_the_package_doesnt_import_alembic_nor_does_opening_a_current_store(tmp_path: Path) -> None:
    Store.open(project_root=tmp_path).close()
    code = (
        "import sys, pathlib, oxy.storage; print('alembic' in sys.modules); "
        f"oxy.storage.Store.open(project_root=pathlib.Path({str(tmp_path)!r})).close(); "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def _owner_of(store_url: str, run_id: str) -> str:
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        owner = connection.execute(
            sa.text("SELECT owner FROM runs WHERE id = :id"), {"id": run_id}
        ).scalar_one()
    engine.dispose()
    return owner


def _move_owner(store_url: str, owner: str, *, host: str, expires_at: datetime) -> None:
    """Make `owner` look like a process on another host (what a second server replica is)."""
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE owners SET host = :host, pid = 999999, expires_at = :expires WHERE id = :id"),
            {"host": host, "expires": expires_at.replace(tzinfo=None), "id": owner},
        )
    engine.dispose()


def test_a_live_stores_runs_are_left_alone_and_a_closed_ones_are_interrupted(store_url: str) -> None:
    first = Store.open(store_url)
    run = first.create_run(tenant="local", target="a.agent.yml", kind="agent")
    with Store.open(store_url) as second:
        assert second.get_run(run.id, tenant="local") == run  # still running
        assert second.mark_interrupted() == 0
        first.close()
        assert second.mark_interrupted() == 1
        interrupted = second.get_run(run.id, tenant="local")
        assert interrupted is not None
        assert (interrupted.status, interrupted.error) == (
            "interrupted",
            "The process running it stopped before the run finished.",
        )
        assert interrupted.finished_at is not None


def test_a_replica_on_another_host_counts_as_alive_until_its_lease_expires(store_url: str) -> None:
    with Store.open(store_url) as replica, Store.open(store_url) as other:
        run = replica.create_run(tenant="local", target="a.agent.yml", kind="agent")
        owner = _owner_of(store_url, run.id)
        now = datetime.now(UTC)
        _move_owner(store_url, owner, host="replica-2", expires_at=now + timedelta(minutes=1))
        assert other.mark_interrupted() == 0  # pid 999999 doesn't exist here, but that host isn't ours
        _move_owner(store_url, owner, host="replica-2", expires_at=now - timedelta(seconds=1))
        assert other.mark_interrupted() == 1
        finished = replica.finish_run(run.id, tenant="local", status="ok", output=1)  # it was alive after all
        assert finished.status == "ok"


def test_a_store_heartbeats_while_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'oxy.db'}"
    with Store.open(url, lease_s=0.3) as store:
        run = store.create_run(tenant="local", target="a.agent.yml", kind="agent")
        owner = _owner_of(url, run.id)
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            query = sa.text("SELECT expires_at FROM owners WHERE id = :id")
            first = connection.execute(query, {"id": owner}).scalar_one()
            connection.rollback()
            time.sleep(0.25)
            later = connection.execute(query, {"id": owner}).scalar_one()
        engine.dispose()
        assert later > first
        with Store.open(url) as other:
            assert other.mark_interrupted() == 0
    with sqlite3.connect(tmp_path / "oxy.db") as connection:
        assert connection.execute("SELECT count(*) FROM owners").fetchone() == (0,)


def test_the_local_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    import stat

    from oxy.storage import Store

    with Store.open(project_root=tmp_path) as store:
        store.create_run(tenant="local", target="a.workflow.yml", kind="workflow")
        state = tmp_path / ".oxy"
        modes = {
            p.name: stat.S_IMODE(p.stat().st_mode) for p in state.iterdir() if p.name.startswith("oxy.db")
        }
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert modes and set(modes.values()) == {0o600}, modes  # the database and its -wal/-shm files
