"""`open_database` and `Databases`: which types open, lazily, and what the others say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import TypeAdapter
from sqlalchemy import URL

from oxy.config.databases import DatabaseConfig, MySQLDatabase, PostgresDatabase
from oxy.databases import Databases, open_database
from oxy.databases._sqlalchemy import SQLAlchemyConnector
from oxy.databases._urls import server_url
from oxy.errors import DatabaseError, NotSupported

CONFIG = TypeAdapter(DatabaseConfig)


def config(**entry: Any) -> DatabaseConfig:
    return CONFIG.validate_python({"name": "db", **entry})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "bigquery", "key_path": "k.json"}, "Database 'db': type 'bigquery' is not supported yet;"),
        (
            {"type": "snowflake", "account": "a", "username": "u", "warehouse": "w", "database": "d"},
            "type 'snowflake' is not supported yet",
        ),
        ({"type": "clickhouse", "host": "ch"}, "type 'clickhouse' is not supported yet"),
        ({"type": "domo", "dataset_id": "x", "developer_token_var": "T", "instance": "i"}, "type 'domo'"),
        ({"type": "motherduck", "token_var": "MD"}, "type 'motherduck' is not supported yet"),
        ({"type": "airhouse_managed"}, "type 'airhouse_managed' is not supported yet"),
        (
            {
                "type": "duckdb",
                "data_path": "s3://lake/",
                "schema_name": "lake",
                "s3_secret_type": "credential_chain",
            },
            "DuckLake (duckdb with 'data_path') is not supported yet",
        ),
    ],
)
def test_unsupported_types_say_so_in_one_line(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    with pytest.raises(NotSupported, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        open_database(config(**entry), project_root=tmp_path)
    assert "\n" not in str(error.value)


def test_server_url_from_values_and_env() -> None:
    entry = PostgresDatabase(
        name="pg", type="postgres", host_var="PGHOST", port=5432, user="admin",
        password_var="PGPASSWORD", database_var="PGDB",
    )  # fmt: skip
    url = server_url(entry, environ={"PGHOST": "db.internal", "PGPASSWORD": "p@ss/word:1", "PGDB": "shop"})
    assert url == URL.create(
        "postgresql+psycopg",
        username="admin",
        password="p@ss/word:1",
        host="db.internal",
        port=5432,
        database="shop",
    )
    assert "p@ss" not in repr(url)
    assert (
        url.render_as_string(hide_password=False)
        == "postgresql+psycopg://admin:p%40ss%2Fword%3A1@db.internal:5432/shop"
    )


def test_mysql_url_and_string_port() -> None:
    entry = MySQLDatabase(
        name="my", type="mysql", port="3306", user="root", password_var="MYSQL_PW", database="d"
    )
    url = server_url(entry, environ={"MYSQL_PW": "secret"})
    assert url.render_as_string(hide_password=True) == "mysql+pymysql://root:***@localhost:3306/d"


@pytest.mark.parametrize(
    ("entry", "environ", "message"),
    [
        ({"password_var": "MISSING"}, {}, "pg (postgres): the environment variable 'MISSING' named by 'password_var' is not set."),
        ({"port": "54x"}, {}, "pg (postgres): the port must be a number, not '54x'."),
        ({"port_var": "PORT"}, {"PORT": "abc"}, "pg (postgres): the port must be a number, not 'abc'."),
    ],
)  # fmt: skip
def test_server_url_errors(entry: dict[str, Any], environ: dict[str, str], message: str) -> None:
    with pytest.raises(DatabaseError) as error:
        server_url(PostgresDatabase(name="pg", type="postgres", **entry), environ=environ)
    assert str(error.value) == message


def test_mysql_opens_lazily_and_reports_the_drivers_error(tmp_path: Path) -> None:
    """No MySQL server here: opening builds an engine, the first query reports the connection failure."""
    entry = config(type="mysql", host="127.0.0.1", port=1, user="u", database="d")
    with open_database(entry, project_root=tmp_path) as my:
        assert isinstance(my, SQLAlchemyConnector)
        assert my.dialect == "mysql"
        assert my.engine.url.render_as_string() == "mysql+pymysql://u@127.0.0.1:1/d"
        with pytest.raises(DatabaseError, match=r"^db \(mysql\): .*Can't connect to MySQL server"):
            my.query("SELECT 1")


@pytest.mark.parametrize(("type_", "dialect"), [("redshift", "redshift"), ("airhouse", "duckdb")])
def test_postgres_wire_types_use_their_own_dialect(tmp_path: Path, type_: str, dialect: str) -> None:
    with open_database(config(type=type_, host="127.0.0.1", port="1"), project_root=tmp_path) as connector:
        assert connector.dialect == dialect
        assert connector.label == f"db ({dialect})"
        with pytest.raises(DatabaseError, match=r"connection (failed|refused)"):
            connector.query("SELECT 1")


def test_registry_is_lazy(dataset_project: Path) -> None:
    entries = [
        config(name="local", type="duckdb", dataset=".db/"),
        config(name="remote", type="postgres", host="127.0.0.1", port="1", password_var="NOT_SET_ANYWHERE"),
        config(name="bq", type="bigquery"),
    ]
    with Databases(entries, project_root=dataset_project) as databases:
        assert databases.names() == ["local", "remote", "bq"]
        assert databases.dialect("remote") == "postgres"  # known without connecting
        assert databases.dialect("bq") == "bigquery"
        local = databases.get("local")
        assert databases.get("local") is local
        assert local.query("SELECT count(*) FROM orders").rows == ((4,),)
        with pytest.raises(DatabaseError, match="'NOT_SET_ANYWHERE' named by 'password_var' is not set"):
            databases.get("remote")
        with pytest.raises(NotSupported):
            databases.get("bq")
    with pytest.raises(DatabaseError, match="closed"):
        local.query("SELECT 1")


def test_registry_unknown_name(tmp_path: Path) -> None:
    databases = Databases([config(name="local", type="sqlite", path="x.sqlite")], project_root=tmp_path)
    with pytest.raises(
        DatabaseError, match=r"^No database named 'locale' in config.yml; did you mean 'local'\?$"
    ):
        databases.get("locale")
    with pytest.raises(DatabaseError, match=r"^No database named 'x' in config.yml; known: 'local'.$"):
        databases.config("x")
    assert "local" in databases
    assert "x" not in databases


def test_registry_rejects_duplicate_names(tmp_path: Path) -> None:
    entry = config(name="dup", type="sqlite", path="x.sqlite")
    with pytest.raises(DatabaseError, match="Two databases are named 'dup'"):
        Databases([entry, entry], project_root=tmp_path)


def test_registry_async(dataset_project: Path) -> None:
    async def main() -> tuple[int, bool]:
        databases = Databases(
            [config(name="local", type="duckdb", dataset=".db/")], project_root=dataset_project
        )
        try:
            async with anyio.create_task_group() as tasks:
                for _ in range(4):  # concurrent first use opens the database once
                    tasks.start_soon(databases.aget, "local")
            local = await databases.aget("local")
            result = await local.aquery("SELECT * FROM numbers", limit=7)
            return result.row_count, result.truncated
        finally:
            await databases.aclose_all()

    assert anyio.run(main) == (7, True)
