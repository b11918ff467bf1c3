"""`databases:` entries: every Oxy type and key parses, secrets stay in environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from oxy.config.databases import (
    AirhouseDatabase,
    AirhouseManagedDatabase,
    BigQueryDatabase,
    ClickHouseDatabase,
    DatabaseConfig,
    DomoDatabase,
    DuckDBDatabase,
    MotherDuckDatabase,
    MySQLDatabase,
    PostgresDatabase,
    RedshiftDatabase,
    SnowflakeDatabase,
    SQLiteDatabase,
)

DATABASES = TypeAdapter(list[DatabaseConfig])


def parse(entry: dict[str, Any]) -> DatabaseConfig:
    return DATABASES.validate_python([entry])[0]


@pytest.mark.parametrize("config_file", ["examples/config.yml", "demo_project/config.yml"])
def test_corpus_databases_parse(oxy_compat: Path, config_file: str) -> None:
    path = oxy_compat / config_file
    entries = yaml.safe_load(path.read_text())["databases"]
    parsed = DATABASES.validate_python(entries)
    assert [(database.name, database.type) for database in parsed] == [
        (entry["name"], entry["type"]) for entry in entries
    ]


def test_examples_config_values(oxy_compat: Path) -> None:
    path = oxy_compat / "examples/config.yml"
    by_name = {
        database.name: database
        for database in DATABASES.validate_python(yaml.safe_load(path.read_text())["databases"])
    }
    assert by_name["local"] == DuckDBDatabase(name="local", type="duckdb", dataset=".db/", key_path="None")
    assert by_name["postgres"] == PostgresDatabase(
        name="postgres", type="postgres", host="localhost", port="5432", user="admin",
        password_var="POSTGRES_PASSWORD", database="default",
    )  # fmt: skip
    assert isinstance(by_name["primary_database"], BigQueryDatabase)
    assert by_name["primary_database"].datasets["dbt_prod_core"] == ["*"]
    assert isinstance(by_name["clickhouse"], ClickHouseDatabase)
    assert by_name["clickhouse"].schemas == {"default": ["hacker_news_*"]}


@pytest.mark.parametrize(
    ("entry", "model", "dialect"),
    [
        ({"type": "duckdb", "dataset": ".db/"}, DuckDBDatabase, "duckdb"),
        ({"type": "duckdb", "path": "db.duckdb"}, DuckDBDatabase, "duckdb"),
        (
            {"type": "duckdb", "data_path": "s3://lake/", "schema_name": "lake", "s3_secret_type": "config",
             "key_id": "AKIA", "secret": "LAKE_SECRET", "region": "eu-west-1", "use_ssl": True},
            DuckDBDatabase,
            "duckdb",
        ),
        ({"type": "sqlite", "path": "app.sqlite"}, SQLiteDatabase, "sqlite"),
        ({"type": "postgres", "host_var": "PGHOST", "port": 5432, "user_var": "PGUSER"}, PostgresDatabase, "postgres"),
        ({"type": "redshift", "host": "r.example.com", "port": "5439", "database_var": "RS_DB"}, RedshiftDatabase, "redshift"),
        ({"type": "mysql", "port_var": "MYSQL_PORT"}, MySQLDatabase, "mysql"),
        ({"type": "airhouse", "host": "localhost", "port": "5445"}, AirhouseDatabase, "duckdb"),
        ({"type": "airhouse_managed"}, AirhouseManagedDatabase, "duckdb"),
        (
            {"type": "clickhouse", "host": "ch", "role": "reader", "settings_prefix": "oxy_",
             "filters": {"events": {"type": "object"}}},
            ClickHouseDatabase,
            "clickhouse",
        ),
        ({"type": "bigquery", "key_path_var": "GOOGLE_KEY", "dataset": "core", "dry_run_limit": 10}, BigQueryDatabase, "bigquery"),
        (
            {"type": "snowflake", "account": "a", "username": "u", "warehouse": "w", "database": "d",
             "password_var": "SNOW_PW", "role": "r", "schema": "public", "browser_timeout_secs": 30},
            SnowflakeDatabase,
            "snowflake",
        ),
        ({"type": "domo", "dataset_id": "x", "developer_token_var": "DOMO", "instance": "i"}, DomoDatabase, "mysql"),
        ({"type": "motherduck", "token_var": "MD", "database": "db", "schemas": {"main": ["*"]}}, MotherDuckDatabase, "duckdb"),
    ],
)  # fmt: skip
def test_every_type_parses(entry: dict[str, Any], model: type, dialect: str) -> None:
    database = parse({"name": "db", **entry})
    assert type(database) is model
    assert database.dialect == dialect


def test_snowflake_schema_alias() -> None:
    database = parse({"name": "s", "type": "snowflake", "account": "a", "username": "u", "warehouse": "w",
                      "database": "d", "schema": "analytics"})  # fmt: skip
    assert isinstance(database, SnowflakeDatabase)
    assert database.schema_ == "analytics"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "postgres", "password": "hunter2"}, "Extra inputs are not permitted"),
        (
            {
                "type": "snowflake",
                "account": "a",
                "username": "u",
                "warehouse": "w",
                "database": "d",
                "password": "x",
            },
            "name that variable with 'password_var'",
        ),
        ({"type": "duckdb"}, "exactly one of 'dataset'"),
        ({"type": "duckdb", "dataset": "a", "path": "b"}, "got 'dataset', 'path'"),
        ({"type": "duckdb", "data_path": "s3://x"}, "also needs 'schema_name'"),
        ({"type": "sqlite"}, "Field required"),
        ({"type": "oracle"}, "does not match any of the expected tags"),
        ({"type": "mysql", "pasword_var": "X"}, "pasword_var"),
    ],
)
def test_invalid_entries_are_rejected(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse({"name": "db", **entry})


def test_models_are_frozen() -> None:
    database = parse({"name": "db", "type": "sqlite", "path": "a.sqlite"})
    with pytest.raises(ValidationError):
        database.name = "other"  # type: ignore[misc]


def test_json_schema_is_discriminated_on_type() -> None:
    schema = DATABASES.json_schema()
    assert schema["items"]["discriminator"]["propertyName"] == "type"
    assert set(schema["items"]["discriminator"]["mapping"]) == {
        "duckdb", "sqlite", "postgres", "redshift", "mysql", "airhouse", "airhouse_managed", "clickhouse",
        "bigquery", "snowflake", "domo", "motherduck",
    }  # fmt: skip
