"""Real databases in `tmp_path` (DuckDB, SQLite) and a real PostgreSQL server when one is reachable."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import sqlalchemy
from sqlalchemy import URL

ORDERS_CSV = """id,customer,amount,ordered_on
1,alice,10.5,2024-01-02
2,bob,3.25,2024-01-03
3,carol,,2024-02-10
4,alice,7.0,2024-03-01
"""


@pytest.fixture
def dataset_project(tmp_path: Path) -> Path:
    """A project folder with `.db/` holding two CSVs and a Parquet file, like Oxy's examples."""
    data = tmp_path / ".db"
    data.mkdir()
    (data / "orders.csv").write_text(ORDERS_CSV)
    (data / "customers.csv").write_text("name,city\nalice,Paris\nbob,Oslo\ncarol,Lima\n")
    (data / "notes.txt").write_text("not a table")
    with duckdb.connect() as connection:
        connection.execute(
            f"COPY (SELECT range AS n, 'item ' || range AS label FROM range(250)) "
            f"TO '{data / 'numbers.parquet'}' (FORMAT parquet)"
        )
    return tmp_path


@pytest.fixture
def duckdb_file(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE sales (id INTEGER, region VARCHAR, revenue DECIMAL(10, 2))")
        connection.execute(
            "INSERT INTO sales VALUES (1, 'north', 100.50), (2, 'south', 80.25), (3, 'north', 5)"
        )
        connection.execute("CREATE SCHEMA marts")
        connection.execute(
            "CREATE VIEW marts.revenue_by_region AS SELECT region, sum(revenue) AS revenue FROM sales GROUP BY region"
        )
    return path


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.sqlite"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, signed_up DATE, score)"
        )
        connection.executemany(
            "INSERT INTO users (name, signed_up, score) VALUES (?, ?, ?)",
            [(f"user{i}", f"2024-01-{i:02d}", i * 1.5) for i in range(1, 21)],
        )
        connection.execute("CREATE VIEW top_users AS SELECT name, score FROM users WHERE score > 20")
    connection.close()
    return path


@pytest.fixture
def postgres_schema(postgres_url: URL) -> Iterator[str]:
    """A fresh schema with a `shop.orders` table and a view, dropped afterwards; yields its name."""
    schema = f"oxy_test_{os.getpid()}"
    engine = sqlalchemy.create_engine(postgres_url)
    setup = f"""
        DROP SCHEMA IF EXISTS {schema} CASCADE;
        CREATE SCHEMA {schema};
        CREATE TABLE {schema}.orders (id serial PRIMARY KEY, customer varchar(20) NOT NULL,
                                      amount numeric(10, 2), ordered_at timestamptz, tags text[]);
        INSERT INTO {schema}.orders (customer, amount, ordered_at, tags)
            SELECT 'c' || i, i * 1.25, timestamptz '2024-01-01 00:00+00' + i * interval '1 day', ARRAY['a', 'b']
            FROM generate_series(1, 100) AS i;
        CREATE VIEW {schema}.big_orders AS SELECT id, amount FROM {schema}.orders WHERE amount > 100;
    """
    with engine.begin() as connection:
        connection.exec_driver_sql(setup)
    try:
        yield schema
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()
