"""Connection URLs from config entries, with secrets read from the environment variables they name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import URL

from oxy.config.databases import AirhouseDatabase, MySQLDatabase, PostgresDatabase, RedshiftDatabase
from oxy.errors import DatabaseError

__all__ = ["ServerDatabase", "server_url", "sqlite_url"]

ServerDatabase = PostgresDatabase | RedshiftDatabase | AirhouseDatabase | MySQLDatabase

_DRIVERS: dict[str, str] = {
    "postgres": "postgresql+psycopg",
    "redshift": "postgresql+psycopg",
    "airhouse": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
}


def server_url(config: ServerDatabase, *, environ: Mapping[str, str] | None = None) -> URL:
    """The SQLAlchemy URL for a host/port/user/password/database entry; `*_var` keys win over plain ones."""
    env = os.environ if environ is None else environ
    label = f"{config.name} ({config.type})"

    def pick(key: str, value: str | int | None, var: str | None) -> str | None:
        if var is None:
            return None if value is None else str(value)
        if var not in env:
            raise DatabaseError(f"{label}: the environment variable {var!r} named by '{key}_var' is not set.")
        return env[var]

    port = pick("port", config.port, config.port_var)
    if port is not None and not port.strip().isdigit():
        raise DatabaseError(f"{label}: the port must be a number, not {port!r}.")
    return URL.create(
        _DRIVERS[config.type],
        username=pick("user", config.user, config.user_var),
        password=pick("password", None, config.password_var),
        host=pick("host", config.host, config.host_var) or "localhost",
        port=None if port is None else int(port),
        database=pick("database", config.database, config.database_var),
    )


def sqlite_url(path: Path) -> URL:
    """A read-only SQLite URL (`file:...?mode=ro`); the file must exist, SQLite won't create it."""
    return URL.create(
        "sqlite+pysqlite", database=path.resolve().as_uri(), query={"mode": "ro", "uri": "true"}
    )
