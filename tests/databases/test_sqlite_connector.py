"""SQLite files, opened read-only through SQLAlchemy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oxy.config.databases import SQLiteDatabase
from oxy.databases import Column, Connector, QueryResult, TableInfo, open_database
from oxy.errors import DatabaseError, ReadOnlyViolation


def open_sqlite(path: Path) -> Connector:
    return open_database(SQLiteDatabase(name="app", type="sqlite", path=path.name), project_root=path.parent)


def test_tables_and_ddl(sqlite_file: Path) -> None:
    with open_sqlite(sqlite_file) as app:
        tables = app.tables()
    assert tables == [
        TableInfo(
            schema="main",
            name="top_users",
            columns=(Column(name="name", type="TEXT"), Column(name="score", type="")),
            ddl='CREATE TABLE "top_users" ("name" TEXT, "score");',
        ),
        TableInfo(
            schema="main",
            name="users",
            columns=(
                Column(name="id", type="INTEGER"),
                Column(name="name", type="TEXT"),
                Column(name="signed_up", type="DATE"),
                Column(name="score", type=""),
            ),
            ddl='CREATE TABLE "users" ("id" INTEGER, "name" TEXT, "signed_up" DATE, "score");',
        ),
    ]


def test_query_limit_and_truncation(sqlite_file: Path) -> None:
    with open_sqlite(sqlite_file) as app:
        first = app.query("SELECT id, name, score FROM users ORDER BY id", limit=3)
        everything = app.query("SELECT count(*) AS n FROM users")
        exact = app.query("SELECT id FROM users", limit=20)
    assert first == QueryResult(
        columns=("id", "name", "score"),
        rows=((1, "user1", 1.5), (2, "user2", 3.0), (3, "user3", 4.5)),
        truncated=True,
    )
    assert everything == QueryResult(columns=("n",), rows=((20,),), truncated=False)
    assert (exact.row_count, exact.truncated) == (20, False)


def test_percent_and_colon_reach_the_database_untouched(sqlite_file: Path) -> None:
    with open_sqlite(sqlite_file) as app:
        result = app.query("SELECT count(*) FROM users WHERE name LIKE 'user1%' AND ':x' = ':x'")
    assert result.rows == ((11,),)


def test_errors_carry_sqlites_message(sqlite_file: Path) -> None:
    with open_sqlite(sqlite_file) as app, pytest.raises(DatabaseError) as error:
        app.query("SELECT * FROM nope")
    assert str(error.value) == "app (sqlite): no such table: nope"


def test_explain(sqlite_file: Path) -> None:
    with open_sqlite(sqlite_file) as app:
        plan = app.explain("SELECT * FROM users WHERE id = 3")
    assert plan == "SEARCH users USING INTEGER PRIMARY KEY (rowid=?)"


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM users",
        "UPDATE users SET name = 'x'",
        "INSERT OR REPLACE INTO users (id, name) VALUES (1, 'x')",
        "PRAGMA journal_mode = DELETE",
        "ATTACH DATABASE 'other.db' AS other",
        "SELECT 1; DELETE FROM users",
        "WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone",
    ],
)
def test_writes_are_refused(sqlite_file: Path, sql: str) -> None:
    with open_sqlite(sqlite_file) as app:
        with pytest.raises(ReadOnlyViolation, match="^Refused: "):
            app.query(sql)
        assert app.query("SELECT count(*) FROM users").rows == ((20,),)


def test_file_is_opened_read_only(sqlite_file: Path) -> None:
    """Defence in depth: past the SQL gate, SQLite itself refuses to write."""
    app = open_sqlite(sqlite_file)
    try:
        with pytest.raises(DatabaseError, match="attempt to write a readonly database"):
            app._fetch("DELETE FROM users", limit=None)  # pyright: ignore[reportPrivateUsage]
    finally:
        app.close()
    connection = sqlite3.connect(sqlite_file)
    assert connection.execute("SELECT count(*) FROM users").fetchall() == [(20,)]
    connection.close()


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"app \(sqlite\): no database file at"):
        open_sqlite(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


def test_path_with_spaces_and_question_mark(tmp_path: Path) -> None:
    folder = tmp_path / "my data?"
    folder.mkdir()
    path = folder / "odd name.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (a)")
    connection.close()
    with open_sqlite(path) as app:
        assert app.query("SELECT count(*) FROM t").rows == ((0,),)


def test_attach_is_refused_at_the_driver_and_creates_no_file(sqlite_file: Path) -> None:
    """Past the SQL gate, ATTACH would create a file beside the database: the connection refuses it."""
    app = open_sqlite(sqlite_file)
    target = sqlite_file.parent / "created.db"
    try:
        with pytest.raises(DatabaseError, match="too many attached databases"):
            app._fetch(f"ATTACH '{target}' AS other", limit=None)  # pyright: ignore[reportPrivateUsage]
        with pytest.raises(DatabaseError, match="readonly database"):
            app._fetch("PRAGMA user_version = 7", limit=None)  # pyright: ignore[reportPrivateUsage]
    finally:
        app.close()
    assert not target.exists()
