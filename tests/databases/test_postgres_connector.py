"""A real PostgreSQL server (scripts/ci/postgres.sh starts one); skipped, saying why, without one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import URL

from oxy.config.databases import PostgresDatabase
from oxy.databases import Column, Connector, TableInfo, open_database
from oxy.errors import DatabaseError, ReadOnlyViolation

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(
    postgres_url: URL, postgres_schema: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Connector]:
    monkeypatch.setenv("OXY_TEST_PG_PASSWORD", postgres_url.password or "")
    config = PostgresDatabase(
        name="pg",
        type="postgres",
        host=postgres_url.host,
        port=str(postgres_url.port),
        user=postgres_url.username,
        password_var="OXY_TEST_PG_PASSWORD",
        database=postgres_url.database,
    )
    with open_database(config, project_root=tmp_path) as connector:
        yield connector


def test_tables_and_ddl(pg: Connector, postgres_schema: str) -> None:
    tables = [table for table in pg.tables() if table.schema == postgres_schema]
    s = postgres_schema
    assert tables == [
        TableInfo(
            schema=s,
            name="big_orders",
            columns=(Column(name="id", type="INTEGER"), Column(name="amount", type="NUMERIC(10, 2)")),
            ddl=f'CREATE TABLE "{s}"."big_orders" ("id" INTEGER, "amount" NUMERIC(10, 2));',
        ),
        TableInfo(
            schema=s,
            name="orders",
            columns=(
                Column(name="id", type="INTEGER"),
                Column(name="customer", type="VARCHAR(20)"),
                Column(name="amount", type="NUMERIC(10, 2)"),
                Column(name="ordered_at", type="TIMESTAMP WITH TIME ZONE"),
                Column(name="tags", type="TEXT[]"),
            ),
            ddl=(
                f'CREATE TABLE "{s}"."orders" ("id" INTEGER, "customer" VARCHAR(20), "amount" NUMERIC(10, 2), '
                '"ordered_at" TIMESTAMP WITH TIME ZONE, "tags" TEXT[]);'
            ),
        ),
    ]


def test_query_values_are_json_friendly(pg: Connector, postgres_schema: str) -> None:
    result = pg.query(
        f"SELECT id, customer, amount, ordered_at, tags FROM {postgres_schema}.orders ORDER BY id", limit=2
    )
    assert result.columns == ("id", "customer", "amount", "ordered_at", "tags")
    assert result.rows == (
        (1, "c1", 1.25, "2024-01-02T00:00:00+00:00", ["a", "b"]),
        (2, "c2", 2.5, "2024-01-03T00:00:00+00:00", ["a", "b"]),
    )
    assert result.truncated


@pytest.mark.parametrize(
    ("limit", "rows", "truncated"), [(None, 100, False), (99, 99, True), (100, 100, False), (0, 0, True)]
)
def test_limit(pg: Connector, postgres_schema: str, limit: int | None, rows: int, truncated: bool) -> None:
    result = pg.query(f"SELECT id FROM {postgres_schema}.orders ORDER BY id", limit=limit)
    assert (result.row_count, result.truncated) == (rows, truncated)


def test_limit_on_statements_a_cursor_cannot_stream(pg: Connector) -> None:
    assert pg.query("SHOW search_path", limit=5).rows == (('"$user", public',),)
    assert pg.query("EXPLAIN SELECT 1", limit=1).row_count == 1


def test_percent_and_colon_reach_the_database_untouched(pg: Connector) -> None:
    assert pg.query("SELECT 'a%' AS p, ':name' AS c, '%(x)s' AS f").rows == (("a%", ":name", "%(x)s"),)


def test_errors_carry_postgres_message(pg: Connector) -> None:
    with pytest.raises(DatabaseError) as error:
        pg.query("SELECT * FROM nope")
    assert str(error.value).startswith(
        'pg (postgres): relation "nope" does not exist\nLINE 1: SELECT * FROM nope'
    )


def test_explain_checks_without_running(pg: Connector, postgres_schema: str) -> None:
    plan = pg.explain(f"SELECT * FROM {postgres_schema}.orders WHERE id = 3")
    assert "Index Scan using orders_pkey" in plan
    with pytest.raises(DatabaseError, match='column "nope" does not exist'):
        pg.explain(f"SELECT nope FROM {postgres_schema}.orders")


ATTACKS = [
    "DELETE FROM {s}.orders",
    "DROP TABLE {s}.orders",
    "UPDATE {s}.orders SET amount = 0",
    "WITH gone AS (DELETE FROM {s}.orders RETURNING *) SELECT count(*) FROM gone",
    "SELECT 1; DELETE FROM {s}.orders",
    "SELECT * INTO {s}.copy FROM {s}.orders",
    "SELECT * FROM {s}.orders FOR UPDATE",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "EXPLAIN ANALYZE DELETE FROM {s}.orders",
    "COPY {s}.orders TO STDOUT",
    "TRUNCATE {s}.orders",
    "CREATE TABLE {s}.x (a int)",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_writes_are_refused(pg: Connector, postgres_schema: str, attack: str) -> None:
    with pytest.raises(ReadOnlyViolation, match="^Refused: "):
        pg.query(attack.format(s=postgres_schema))
    assert pg.query(f"SELECT count(*) FROM {postgres_schema}.orders").rows == ((100,),)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM {s}.orders",
        "CREATE TABLE {s}.x (a int)",
        "SELECT set_config('default_transaction_read_only', 'off', false); DELETE FROM {s}.orders",
    ],
)
def test_session_itself_is_read_only(pg: Connector, postgres_schema: str, sql: str) -> None:
    """Defence in depth: past the SQL gate, every transaction is READ ONLY on the server."""
    with pytest.raises(DatabaseError, match="cannot execute .* in a read-only transaction"):
        pg._fetch(sql.format(s=postgres_schema), limit=None)  # pyright: ignore[reportPrivateUsage]
    assert pg.query(f"SELECT count(*) FROM {postgres_schema}.orders").rows == ((100,),)


def test_async_concurrent_queries(pg: Connector, postgres_schema: str) -> None:
    async def main() -> list[int]:
        counts: list[int] = []

        async def one(n: int) -> None:
            result = await pg.aquery(f"SELECT count(*) FROM {postgres_schema}.orders WHERE id > {n}")
            counts.append(int(result.rows[0][0]))  # type: ignore[arg-type]

        async with anyio.create_task_group() as tasks:
            for n in range(0, 100, 10):
                tasks.start_soon(one, n)
        return counts

    assert sorted(anyio.run(main)) == sorted(100 - n for n in range(0, 100, 10))


def test_wrong_password_is_reported_without_the_password(
    postgres_url: URL, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OXY_TEST_PG_PASSWORD", "not-the-password")
    config = PostgresDatabase(
        name="pg", type="postgres", host=postgres_url.host, port=postgres_url.port, user=postgres_url.username,
        password_var="OXY_TEST_PG_PASSWORD", database=postgres_url.database,
    )  # fmt: skip
    with open_database(config, project_root=tmp_path) as pg, pytest.raises(DatabaseError) as error:
        pg.query("SELECT 1")
    assert "password authentication failed" in str(error.value)
    assert "not-the-password" not in str(error.value)


@pytest.mark.anyio
async def test_a_cancelled_query_is_cancelled_on_the_server(pg: Connector) -> None:
    started = anyio.current_time()
    with anyio.move_on_after(0.5):
        await pg.aquery("select count(*) from generate_series(1, 2000000000) a")
    while pg._statements.running_count:  # pyright: ignore[reportPrivateUsage]  # the cancel alone stops it
        assert anyio.current_time() - started < 10, "the cancelled query kept running"
        await anyio.sleep(0.01)
    assert pg.query("select 1 as one").rows == ((1,),)  # the pooled connection still works
