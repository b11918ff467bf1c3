from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from oxy.models import aclose_clients
from oxy.testing import ScriptedModelServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def shared_clients() -> AsyncIterator[None]:
    """Close the shared HTTP clients before the test's event loop ends."""
    yield
    await aclose_clients()


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server
