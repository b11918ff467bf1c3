"""Where the store lives and how we connect: the URL, SQLite's pragmas, write transactions.

SQLite (the default, `<project>/.oxy/oxy.db`) runs in WAL mode, so readers never block the writer,
with `synchronous=NORMAL`: a commit survives the process being killed (SIGKILL, OOM), and only an OS
crash or power cut can lose the last commits, never corrupt the file. Write transactions start with
`BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of failing halfway through.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import DBAPIError

from oxy.storage._errors import StoreError

DATABASE_URL_VAR = "OXY_DATABASE_URL"
STATE_DIR = ".oxy"
SQLITE_FILE = "oxy.db"
BUSY_TIMEOUT_S = 30.0
_WRITE = "oxy_write"


_OLD_IGNORE = "# oxy's local state (runs, threads); not for version control\n*\n"
_IGNORE = (
    "# oxy's local state (runs, threads) is not for version control; recorded model answers\n"
    "# (`oxy test --record`) are, so that CI can replay them.\n*\n!cassettes/\n!cassettes/**\n"
)


def database_url(url: str | URL | None, *, project_root: Path | None) -> URL:
    """`url`, else `$OXY_DATABASE_URL`, else `<project_root>/.oxy/oxy.db` (the folder is created)."""
    chosen = url if url is not None else os.environ.get(DATABASE_URL_VAR) or None
    if chosen is not None:
        parsed = make_url(chosen)
        if parsed.drivername in ("postgresql", "postgres"):  # we ship psycopg 3, not psycopg2
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if project_root is None:
        raise StoreError(
            f"no run store to open: pass a database URL, set {DATABASE_URL_VAR} or a project root"
        )
    state = project_root / STATE_DIR
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    state.chmod(0o700)  # runs, threads and keys are nobody else's to read
    ignore = state / ".gitignore"
    if not ignore.exists() or ignore.read_text() == _OLD_IGNORE:
        ignore.write_text(_IGNORE)
    database = state / SQLITE_FILE
    # Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    # Never open (and close) a file that exists: closing any descriptor of it drops every POSIX lock
    # this process holds on it, SQLite's included. Another process's SQLite then took itself for the
    # last connection and deleted the WAL under this one, whose writes nobody saw again.
    try:
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        if database.stat().st_mode & 0o077:
            database.chmod(0o600)
    return URL.create("sqlite+pysqlite", database=str(database))


def _json_dumps(value: Any) -> str:
    return json.dumps(value, default=to_jsonable_python, ensure_ascii=False)


def create_engine(url: URL) -> sa.Engine:
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, json_serializer=_json_dumps)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, json_serializer=_json_dumps)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _describe(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def reading(engine: sa.Engine) -> Generator[sa.Connection, None, None]:
    """A read-only transaction; database failures become `StoreError`."""
    try:
        with engine.connect() as connection, connection.begin():
            yield connection
    except DBAPIError as error:
        raise StoreError(f"could not read the run store at {_describe(engine)}: {error.orig}") from error


@contextmanager
def writing(engine: sa.Engine) -> Generator[sa.Connection, None, None]:
    """A write transaction, committed on exit (`BEGIN IMMEDIATE` on SQLite)."""
    try:
        with engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection
    except DBAPIError as error:
        raise StoreError(f"could not write to the run store at {_describe(engine)}: {error.orig}") from error
