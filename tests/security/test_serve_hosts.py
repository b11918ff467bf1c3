"""DNS rebinding (issue 9, item 7): with no API keys, `oxy serve` answers only loopback host names."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from oxy.serve import ServeSettings, create_app
from oxy.storage import KeyStore

pytestmark = pytest.mark.anyio

CONFIG = "models: []\ndatabases: []\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "config.yml").write_text(CONFIG)
    return root


async def _statuses(project: Path, hosts: list[str], **settings: object) -> dict[str, int]:
    app = create_app(ServeSettings(project=project, **settings))  # type: ignore[arg-type]
    found: dict[str, int] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            for host in hosts:
                response = await client.get("/api/agents", headers={"Host": host})
                found[host] = response.status_code
                if response.status_code == 403:
                    message = response.json()["error"]["message"]
                    assert message.startswith("Host '") and "' is not allowed" in message, message
    return found


async def test_a_rebound_host_name_is_refused_without_keys(project: Path) -> None:
    hosts = [
        "localhost:3000",
        "127.0.0.1:3000",
        "[::1]:3000",
        "app.localhost",
        "evil.example",
        "evil.example:3000",
        "[::1]evil",
    ]
    assert await _statuses(project, hosts) == {
        "localhost:3000": 200,
        "127.0.0.1:3000": 200,
        "[::1]:3000": 200,
        "app.localhost": 200,
        "evil.example": 403,
        "evil.example:3000": 403,
        "[::1]evil": 403,
    }


async def test_allowed_hosts_are_answered(project: Path) -> None:
    statuses = await _statuses(project, ["oxy.internal", "evil.example"], allowed_hosts=("oxy.internal",))
    assert statuses == {"oxy.internal": 200, "evil.example": 403}


async def test_with_keys_the_host_is_not_what_guards_the_api(project: Path) -> None:
    with KeyStore.open(project_root=project) as keys:
        keys.create(tenant="acme")
    assert await _statuses(project, ["evil.example"]) == {"evil.example": 401}  # a key is needed, not a name
