"""Alembic's entry point for oxy's store.

`Store.open` runs `upgrade head` on its own connection (passed in `config.attributes["connection"]`).
To write a new migration, from the repository root:

    alembic -c oxy/storage/migrations/alembic.ini revision --autogenerate -m "what changes"

then copy the table changes into the new file by hand if needed: migrations keep their own copy of the
schema, so editing `_schema.py` later never rewrites history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from oxy.storage._schema import metadata


def run_migrations(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if isinstance(connection, sa.Connection):
    run_migrations(connection)
else:  # the alembic command line, for developers
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url in alembic.ini"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        run_migrations(connection)
        connection.commit()
    engine.dispose()
