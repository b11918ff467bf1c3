"""Values come back JSON-friendly; DDL helpers."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from pathlib import Path

from oxy.config.databases import DuckDBDatabase
from oxy.databases import Column, TableInfo, group_ddl, open_database, to_json_value
from oxy.databases._types import create_table_ddl


def test_to_json_value() -> None:
    values = [
        None, True, 3, 2.5, "x",
        decimal.Decimal("12.50"), decimal.Decimal("7"), decimal.Decimal("NaN"),
        dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), dt.time(12, 30),
        dt.timedelta(days=1, hours=2), uuid.UUID(int=1), b"\x00\xff",
        [1, decimal.Decimal("1.5")], {"a": dt.date(2024, 1, 1), 2: None}, (1, 2), {3},
        Path("/x"),
    ]  # fmt: skip
    converted = [to_json_value(value) for value in values]
    assert converted[:-1] != []
    assert json.loads(json.dumps(converted[:7] + converted[8:])) == [
        None, True, 3, 2.5, "x",
        12.5, 7,
        "2024-01-02", "2024-01-02T03:04:05+00:00", "12:30:00",
        "1 day, 2:00:00", "00000000-0000-0000-0000-000000000001", "AP8=",
        [1, 1.5], {"a": "2024-01-01", "2": None}, [1, 2], [3],
        "/x",
    ]  # fmt: skip


def test_duckdb_types_come_back_json_friendly(dataset_project: Path) -> None:
    sql = """
        SELECT 170141183460469231731687303715884105727::HUGEINT AS huge, 1.25::DECIMAL(5, 2) AS dec,
               {'a': 1, 'b': [1, 2]} AS struct, [DATE '2024-01-01'] AS dates, INTERVAL 90 MINUTE AS span,
               '\\xAA'::BLOB AS blob, gen_random_uuid() IS NOT NULL AS has_uuid, MAP {'k': 1} AS m
    """
    local = open_database(
        DuckDBDatabase(name="local", type="duckdb", dataset=".db/"), project_root=dataset_project
    )
    with local:
        (row,) = local.query(sql).rows
    json.dumps(row)
    assert row == (
        170141183460469231731687303715884105727, 1.25, {"a": 1, "b": [1, 2]}, ["2024-01-01"], "1:30:00",
        "qg==", True, {"k": 1},
    )  # fmt: skip


def test_create_table_ddl_quotes_per_dialect() -> None:
    columns = [Column(name="order id", type="INT"), Column(name='we"ird', type="TEXT")]
    assert (
        create_table_ddl("s", "t", columns, dialect="postgres")
        == 'CREATE TABLE "s"."t" ("order id" INT, "we""ird" TEXT);'
    )
    assert (
        create_table_ddl(None, "t", columns, dialect="mysql")
        == 'CREATE TABLE `t` (`order id` INT, `we"ird` TEXT);'
    )
    assert (
        create_table_ddl(None, "t", [], dialect="duckdb", comment="t.csv") == '-- t.csv\nCREATE TABLE "t" ();'
    )


def test_group_ddl() -> None:
    tables = [
        TableInfo(schema="a", name="x", columns=(), ddl="X;"),
        TableInfo(schema="b", name="y", columns=(), ddl="Y;"),
        TableInfo(schema="a", name="z", columns=(), ddl="Z;"),
    ]
    assert group_ddl(tables) == {"a": "X;\n\nZ;", "b": "Y;"}
