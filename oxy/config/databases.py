"""`databases:` entries of `config.yml`, one model per `type`, Oxy-compatible plus `sqlite`.

Secrets never sit in the file: each model names the environment variable that holds one
(`password_var`, `token_var`, `key_path_var`, ...). Ports may be written as strings (Oxy's own
examples do) or integers. Every model knows its sqlglot dialect without connecting, so templates
can render `databases.<name>.dialect` cheaply.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, JsonValue, model_validator

from oxy.config._base import StrictModel

__all__ = [
    "AirhouseDatabase",
    "AirhouseManagedDatabase",
    "BigQueryDatabase",
    "ClickHouseDatabase",
    "DatabaseConfig",
    "DomoDatabase",
    "DuckDBDatabase",
    "MotherDuckDatabase",
    "MySQLDatabase",
    "PostgresDatabase",
    "RedshiftDatabase",
    "SQLiteDatabase",
    "SnowflakeDatabase",
]

Port = int | str
"""A TCP port: Oxy's examples quote it (`port: "5432"`), people often don't."""


class _Database(StrictModel):
    name: str = Field(description="How agents, workflows and `.sql` files refer to this database.")

    dialect: ClassVar[str]
    """The sqlglot dialect its SQL is written in."""


class _ServerDatabase(_Database):
    """A database reached over the network with host/port/user/password/database, each also by env var."""

    host: str | None = None
    host_var: str | None = Field(None, description="Environment variable holding the host.")
    port: Port | None = None
    port_var: str | None = Field(None, description="Environment variable holding the port.")
    user: str | None = None
    user_var: str | None = Field(None, description="Environment variable holding the user name.")
    password_var: str | None = Field(None, description="Environment variable holding the password.")
    database: str | None = None
    database_var: str | None = Field(None, description="Environment variable holding the database name.")


class DuckDBDatabase(_Database):
    """DuckDB, in one of three shapes.

    - `dataset:` a folder of CSV/Parquet files (relative to the project root), one table per file stem;
    - `path:` a `.duckdb` file, opened read-only;
    - DuckLake (`data_path:` + `schema_name:` + S3 settings), accepted for compatibility, not run.
    """

    type: Literal["duckdb"]
    dialect: ClassVar[str] = "duckdb"

    dataset: str | None = Field(
        None, description="Folder of CSV/Parquet files, relative to the project root."
    )
    path: str | None = Field(
        None, description="A .duckdb file, relative to the project root; opened read-only."
    )
    key_path: str | None = Field(None, description="Ignored; Oxy's examples set it on DuckDB entries.")

    # DuckLake (Oxy's `DuckLakeConfig`), flattened into the entry as Oxy does.
    data_path: str | None = None
    schema_name: str | None = None
    catalog_path: str | None = Field(
        None, description="Secret name holding the catalog's connection URL (default DUCKLAKE_CATALOG_PATH)."
    )
    s3_secret_type: Literal["config", "credential_chain"] | None = None
    key_id: str | None = None
    secret: str | None = Field(None, description="Secret name holding the S3 secret key.")
    region: str | None = None
    endpoint_url: str | None = None
    url_style: str | None = None
    use_ssl: bool | None = None
    chain: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [key for key in ("dataset", "path", "data_path") if getattr(self, key) is not None]
        if len(given) != 1:
            shown = ", ".join(repr(key) for key in given) if given else "none"
            raise ValueError(
                f"a duckdb database needs exactly one of 'dataset' (a folder of CSV/Parquet files), "
                f"'path' (a .duckdb file) or 'data_path' (DuckLake); got {shown}"
            )
        if self.data_path is not None and self.schema_name is None:
            raise ValueError("a DuckLake database ('data_path') also needs 'schema_name'")
        return self


class SQLiteDatabase(_Database):
    """A SQLite file, opened read-only. Not in Oxy; additive."""

    type: Literal["sqlite"]
    dialect: ClassVar[str] = "sqlite"

    path: str = Field(description="The SQLite file, relative to the project root.")


class PostgresDatabase(_ServerDatabase):
    type: Literal["postgres"]
    dialect: ClassVar[str] = "postgres"


class RedshiftDatabase(_ServerDatabase):
    type: Literal["redshift"]
    dialect: ClassVar[str] = "redshift"


class MySQLDatabase(_ServerDatabase):
    type: Literal["mysql"]
    dialect: ClassVar[str] = "mysql"


class AirhouseDatabase(_ServerDatabase):
    """Airhouse: Postgres wire protocol, DuckDB SQL dialect."""

    type: Literal["airhouse"]
    dialect: ClassVar[str] = "duckdb"


class AirhouseManagedDatabase(_Database):
    """Airhouse with credentials managed by Oxy's hosted platform; no fields of its own."""

    type: Literal["airhouse_managed"]
    dialect: ClassVar[str] = "duckdb"


class ClickHouseDatabase(_ServerDatabase):
    type: Literal["clickhouse"]
    dialect: ClassVar[str] = "clickhouse"

    role: str | None = None
    settings_prefix: str | None = None
    schemas: dict[str, list[str]] = Field(
        default_factory=dict[str, list[str]], description="Tables to expose per schema (globs)."
    )
    filters: dict[str, dict[str, JsonValue]] = Field(default_factory=dict[str, dict[str, JsonValue]])


class BigQueryDatabase(_Database):
    type: Literal["bigquery"]
    dialect: ClassVar[str] = "bigquery"

    key_path: str | None = Field(None, description="Service-account key file, relative to the project root.")
    key_path_var: str | None = Field(None, description="Environment variable holding the key file's path.")
    dataset: str | None = None
    datasets: dict[str, list[str]] = Field(
        default_factory=dict[str, list[str]], description="Tables to expose per dataset (globs)."
    )
    dry_run_limit: int | None = Field(None, ge=0)


class SnowflakeDatabase(_Database):
    type: Literal["snowflake"]
    dialect: ClassVar[str] = "snowflake"

    account: str
    username: str
    warehouse: str
    database: str
    password_var: str | None = Field(None, description="Environment variable holding the password.")
    private_key_path: str | None = None
    role: str | None = None
    schema_: str | None = Field(None, alias="schema")
    browser_timeout_secs: int | None = Field(None, ge=0)
    cache_dir: str | None = None
    datasets: dict[str, list[str]] = Field(default_factory=dict[str, list[str]])
    filters: dict[str, dict[str, JsonValue]] = Field(default_factory=dict[str, dict[str, JsonValue]])

    @model_validator(mode="before")
    @classmethod
    def _no_inline_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "passwords are not written into config.yml: put it in an environment variable "
                "and name that variable with 'password_var'"
            )
        return data


class DomoDatabase(_Database):
    type: Literal["domo"]
    dialect: ClassVar[str] = "mysql"

    dataset_id: str
    developer_token_var: str
    instance: str


class MotherDuckDatabase(_Database):
    type: Literal["motherduck"]
    dialect: ClassVar[str] = "duckdb"

    token_var: str
    database: str | None = None
    schemas: dict[str, list[str]] = Field(default_factory=dict[str, list[str]])


DatabaseConfig = Annotated[
    DuckDBDatabase
    | SQLiteDatabase
    | PostgresDatabase
    | RedshiftDatabase
    | MySQLDatabase
    | AirhouseDatabase
    | AirhouseManagedDatabase
    | ClickHouseDatabase
    | BigQueryDatabase
    | SnowflakeDatabase
    | DomoDatabase
    | MotherDuckDatabase,
    Field(discriminator="type"),
]
"""One `databases:` entry; pydantic picks the model by `type`."""
