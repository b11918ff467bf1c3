"""Shared fixtures. Async tests use anyio's pytest plugin on the asyncio backend."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def oxy_compat() -> Path:
    path = SHARED / "oxy-compat"
    if not path.is_dir():
        pytest.skip(f"Oxy's example corpus is not beside the repo (looked in {path})")
    return path
