"""Bring a store's schema to the newest revision with alembic (imported only when needed)."""

from __future__ import annotations

import sqlalchemy as sa

SCRIPT_LOCATION = "oxy.storage:migrations"
HEAD = "0006"
"""The newest revision in `migrations/versions`; a test keeps it equal to alembic's head."""
_PG_LOCK_KEY = 0x6F78795F6D6967  # "oxy_mig": one migrator at a time across processes sharing Postgres


def current_revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(connection: sa.Connection) -> None:
    """`alembic upgrade head` on `connection`, inside its open write transaction.

    A database already at `HEAD` costs one query and never imports alembic, so `oxy run` stays quick.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    if current_revision(connection) == HEAD:
        return
    from alembic import command  # lazy: alembic loads only when the schema is checked
    from alembic.config import Config  # lazy: alembic loads only when the schema is checked

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
