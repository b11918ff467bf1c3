"""A fresh store per test: a SQLite file in tmp_path, and an empty schema on the test PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import URL

from oxy.storage import Store


@contextmanager
def empty_postgres_schema(server: URL) -> Iterator[URL]:
    """A URL whose connections see only a new, empty schema (dropped afterwards)."""
    schema = f"oxy_store_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield server.update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a new SQLite file, or a new schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'oxy.db'}"
        return
    with empty_postgres_schema(request.getfixturevalue("postgres_url")) as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_store_url(postgres_url: URL) -> Iterator[URL]:
    with empty_postgres_schema(postgres_url) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as store:
        yield store
