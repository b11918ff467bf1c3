"""DuckDB over a folder of CSV/Parquet files and over a `.duckdb` file, for real."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import duckdb
import pytest

from oxy.config.databases import DuckDBDatabase
from oxy.databases import Column, Connector, QueryResult, TableInfo, group_ddl, open_database
from oxy.errors import DatabaseError, ReadOnlyViolation


def open_dataset(dataset_project: Path) -> Connector:
    return open_database(
        DuckDBDatabase(name="local", type="duckdb", dataset=".db/"), project_root=dataset_project
    )


def open_file(path: Path) -> Connector:
    config = DuckDBDatabase(name="warehouse", type="duckdb", path=path.name)
    return open_database(config, project_root=path.parent)


def test_dataset_tables_and_ddl(dataset_project: Path) -> None:
    with open_dataset(dataset_project) as local:
        tables = local.tables()
    assert [(table.schema, table.name) for table in tables] == [
        ("main", "customers"),
        ("main", "numbers"),
        ("main", "orders"),
    ]
    orders = tables[2]
    assert orders == TableInfo(
        schema="main",
        name="orders",
        columns=(
            Column(name="id", type="BIGINT"),
            Column(name="customer", type="VARCHAR"),
            Column(name="amount", type="DOUBLE"),
            Column(name="ordered_on", type="DATE"),
        ),
        ddl='-- orders.csv\nCREATE TABLE "orders" ("id" BIGINT, "customer" VARCHAR, "amount" DOUBLE, "ordered_on" DATE);',
    )
    assert group_ddl(tables)["main"].split("\n\n") == [table.ddl for table in tables]
    assert tables[1].ddl == '-- numbers.parquet\nCREATE TABLE "numbers" ("n" BIGINT, "label" VARCHAR);'


def test_dataset_query_by_table_and_by_file_name(dataset_project: Path) -> None:
    with open_dataset(dataset_project) as local:
        by_table = local.query("SELECT customer, sum(amount) AS total FROM orders GROUP BY 1 ORDER BY 1")
        by_file = local.query("SELECT customer, sum(amount) AS total FROM 'orders.csv' GROUP BY 1 ORDER BY 1")
        joined = local.query(
            "SELECT o.id, c.city, o.ordered_on FROM orders o JOIN customers c ON c.name = o.customer ORDER BY o.id"
        )
    assert by_table == QueryResult(
        columns=("customer", "total"),
        rows=(("alice", 17.5), ("bob", 3.25), ("carol", None)),
        truncated=False,
    )
    assert by_file.rows == by_table.rows
    assert joined.rows == (
        (1, "Paris", "2024-01-02"),
        (2, "Oslo", "2024-01-03"),
        (3, "Lima", "2024-02-10"),
        (4, "Paris", "2024-03-01"),
    )


@pytest.mark.parametrize(
    ("limit", "rows", "truncated"),
    [
        (None, 250, False),
        (10, 10, True),
        (250, 250, False),
        (249, 249, True),
        (0, 0, True),
        (1000, 250, False),
    ],
)
def test_limit_and_truncation(dataset_project: Path, limit: int | None, rows: int, truncated: bool) -> None:
    with open_dataset(dataset_project) as local:
        result = local.query("SELECT * FROM numbers ORDER BY n", limit=limit)
    assert (result.row_count, result.truncated) == (rows, truncated)
    assert result.rows[:2] == ((0, "item 0"), (1, "item 1"))[:rows]


def test_sql_errors_carry_duckdbs_message(dataset_project: Path) -> None:
    with open_dataset(dataset_project) as local, pytest.raises(DatabaseError) as error:
        local.query("SELECT * FROM nope")
    assert str(error.value).startswith("local (duckdb): Catalog Error: Table with name nope does not exist!")


def test_explain_does_not_run(dataset_project: Path) -> None:
    with open_dataset(dataset_project) as local:
        plan = local.explain("SELECT customer FROM orders WHERE amount > 5")
        with pytest.raises(DatabaseError, match='Referenced column "amt" not found'):
            local.explain("SELECT amt FROM orders")
        with pytest.raises(ReadOnlyViolation):
            local.explain("DELETE FROM orders")
    assert "orders" in plan


ATTACKS = [
    "DROP TABLE orders",
    "CREATE OR REPLACE VIEW orders AS SELECT 1 AS id",
    "INSERT INTO orders VALUES (9, 'mallory', 1, DATE '2024-01-01')",
    "COPY orders TO 'stolen.csv'",
    "ATTACH 'other.duckdb' AS other",
    "SET enable_external_access = true",
    "SELECT 1; DROP TABLE orders",
    "WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone",
    "INSTALL httpfs",
]


@pytest.mark.parametrize("sql", ATTACKS)
def test_writes_are_refused_and_nothing_changes(dataset_project: Path, sql: str) -> None:
    with open_dataset(dataset_project) as local:
        with pytest.raises(ReadOnlyViolation, match="^Refused: "):
            local.query(sql)
        assert local.query("SELECT count(*) FROM orders").rows == ((4,),)
    assert sorted(path.name for path in (dataset_project / ".db").iterdir()) == [
        "customers.csv",
        "notes.txt",
        "numbers.parquet",
        "orders.csv",
    ]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("INSERT INTO orders VALUES (9, 'mallory', 1, DATE '2024-01-01')", "read-only mode"),
        ("COPY orders TO 'stolen.csv'", "disabled by configuration"),
        ("SET enable_external_access = true", "the configuration has been locked"),
        ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
    ],
)
def test_database_itself_refuses_writes(dataset_project: Path, sql: str, message: str) -> None:
    """Defence in depth: past the SQL gate, DuckDB itself is read-only with file access off."""
    local = open_dataset(dataset_project)
    try:
        with pytest.raises(DatabaseError, match=message):
            local._fetch(sql, limit=None)  # pyright: ignore[reportPrivateUsage]
    finally:
        local.close()


def test_dataset_files_are_not_read_after_opening(dataset_project: Path) -> None:
    with open_dataset(dataset_project) as local:
        (dataset_project / ".db" / "orders.csv").write_text("id\n99\n")
        assert local.query("SELECT count(*) FROM orders").rows == ((4,),)


def test_close_removes_the_private_copy(dataset_project: Path) -> None:
    local = open_dataset(dataset_project)
    assert isinstance(local, Connector)
    private = local._cleanup  # pyright: ignore[reportAttributeAccessIssue]
    assert isinstance(private, Path) and private.exists()
    local.close()
    local.close()  # twice is fine
    assert not private.exists()
    with pytest.raises(DatabaseError, match="the connection is closed"):
        local.query("SELECT 1")


def test_missing_dataset_folder(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"local \(duckdb\): the dataset folder .* does not exist"):
        open_dataset(tmp_path)


def test_file_database(duckdb_file: Path) -> None:
    with open_file(duckdb_file) as warehouse:
        tables = warehouse.tables()
        result = warehouse.query("SELECT region, revenue FROM marts.revenue_by_region ORDER BY region")
    assert [(table.schema, table.name, table.ddl) for table in tables] == [
        ("main", "sales", 'CREATE TABLE "sales" ("id" INTEGER, "region" VARCHAR, "revenue" DECIMAL(10,2));'),
        ("marts", "revenue_by_region", 'CREATE TABLE "marts"."revenue_by_region" ("region" VARCHAR, "revenue" DECIMAL(38,2));'),
    ]  # fmt: skip
    assert result.rows == (("north", 105.5), ("south", 80.25))


def test_file_database_is_opened_read_only(duckdb_file: Path) -> None:
    warehouse = open_file(duckdb_file)
    try:
        with pytest.raises(DatabaseError, match="read-only mode"):
            warehouse._fetch("DELETE FROM sales", limit=None)  # pyright: ignore[reportPrivateUsage]
    finally:
        warehouse.close()
    with duckdb.connect(str(duckdb_file), read_only=True) as check:
        assert check.execute("SELECT count(*) FROM sales").fetchall() == [(3,)]


def test_missing_file_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"warehouse \(duckdb\): no database file at"):
        open_file(tmp_path / "nope.duckdb")


def test_concurrent_queries_from_threads(dataset_project: Path) -> None:
    errors: list[BaseException] = []
    results: list[int] = []

    def work(i: int) -> None:
        try:
            results.append(local.query(f"SELECT count(*) FROM numbers WHERE n >= {i}").rows[0][0])  # type: ignore[arg-type]
        except BaseException as error:
            errors.append(error)

    with open_dataset(dataset_project) as local:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert sorted(results) == sorted(250 - i for i in range(16))


def test_async_twins(dataset_project: Path) -> None:
    async def main() -> tuple[list[TableInfo], list[QueryResult], str]:
        local = open_dataset(dataset_project)
        try:
            results: list[QueryResult] = []

            async def one(n: int) -> None:
                results.append(await local.aquery(f"SELECT {n} AS n, count(*) FROM orders", limit=5))

            async with anyio.create_task_group() as tasks:
                for n in range(5):
                    tasks.start_soon(one, n)
            return await local.atables(), results, await local.aexplain("SELECT 1")
        finally:
            await local.aclose()

    tables, results, plan = anyio.run(main)
    assert len(tables) == 3
    assert sorted(result.rows for result in results) == [((n, 4),) for n in range(5)]
    assert plan
