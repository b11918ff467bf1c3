"""Shared fixtures. Async tests use anyio's pytest plugin on the asyncio backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import URL, make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
# scripts/ci/postgres.sh prints this URL; the default is the same server it starts.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://oxy_test:oxy_test@127.0.0.1:5433/oxy_test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def oxy_compat() -> Path:
    path = SHARED / "oxy-compat"
    if not path.is_dir():
        pytest.skip(f"Oxy's example corpus is not beside the repo (looked in {path})")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> URL:
    """The test server's URL, or a skip saying how to start one."""
    url = make_url(os.environ.get("OXY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        pytest.skip(
            f"no PostgreSQL at {url.render_as_string(hide_password=True)} ({reason}); "
            'run eval "$(scripts/ci/postgres.sh)" to start one'
        )
    finally:
        engine.dispose()
    return url
