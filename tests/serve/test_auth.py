"""API keys: `oxy keys`, Bearer auth on every route but /health, and tenants that see only their own."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.storage import KeyStore
from oxy.storage._keys import hash_token
from oxy.testing import Reply, ScriptedModelServer

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio


def create_key(project: Path, tenant: str) -> str:
    result = CliRunner().invoke(cli, ["keys", "create", "--tenant", tenant, "--project", str(project)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("oxy_") and len(token) > 40
    assert f"for tenant {tenant!r}" in result.stderr
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_keys_are_stored_hashed_listed_and_revoked(project: Path) -> None:
    token = create_key(project, "acme")
    with KeyStore.open(project_root=project) as keys:
        (key,) = keys.list_keys()
        assert (key.tenant, key.active) == ("acme", True)
        assert keys.verify(token) == key
    raw = (project / ".oxy" / "oxy.db").read_bytes()
    assert token.encode() not in raw and hash_token(token).encode() in raw

    listed = CliRunner().invoke(cli, ["keys", "list", "--project", str(project)])
    header, row = listed.stdout.splitlines()
    assert header == "id\ttenant\tname\tcreated\trevoked"
    assert row.split("\t")[:3] == [key.id, "acme", "-"]
    revoked = CliRunner().invoke(cli, ["keys", "revoke", key.id, "--project", str(project)])
    assert revoked.exit_code == 0 and f"revoked key {key.id}" in revoked.stderr
    none = CliRunner().invoke(cli, ["keys", "list", "--project", str(project)])
    assert (none.stdout, none.stderr) == (
        "",
        "no active API keys: create one with `oxy keys create --tenant NAME`\n",
    )
    again = CliRunner().invoke(cli, ["keys", "revoke", key.id, "--project", str(project)])
    assert again.exit_code == 1 and "no active API key" in again.stderr


async def test_every_route_but_health_needs_a_key(project: Path) -> None:
    token = create_key(project, "acme")
    from oxy.serve import create_app

    async for client in open_client(create_app(settings_for(project))):
        assert (await client.get("/health")).status_code == 200
        for method, path in [
            ("GET", "/ready"),
            ("GET", "/openapi.json"),
            ("GET", "/api/agents"),
            ("GET", "/api/threads"),
            ("POST", "/api/agents/chat/runs"),
            ("GET", "/v1/models"),
            ("POST", "/v1/chat/completions"),
        ]:
            response = await client.request(method, path)
            assert response.status_code == 401, path
            assert response.json()["error"]["type"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
            wrong = await client.request(method, path, headers=bearer("oxy_wrong"))
            assert wrong.json()["error"]["message"] == "The API key is not valid (unknown or revoked)."
        assert (await client.get("/api/agents", headers=bearer(token))).status_code == 200


async def test_a_tenant_sees_only_its_own_threads_and_runs(project: Path, model: ScriptedModelServer) -> None:
    acme, globex = create_key(project, "acme"), create_key(project, "globex")
    model.set_script([Reply(text="For acme."), Reply(text="For globex.")])
    from oxy.serve import create_app

    async for client in open_client(create_app(settings_for(project))):
        mine = (
            await client.post(
                "/api/agents/chat/runs", json={"prompt": "Hi", "stream": False}, headers=bearer(acme)
            )
        ).json()
        theirs = (
            await client.post(
                "/api/agents/chat/runs", json={"prompt": "Hi", "stream": False}, headers=bearer(globex)
            )
        ).json()
        run_id, thread_id = mine["run_id"], mine["thread_id"]
        for path in (
            f"/api/runs/{run_id}",
            f"/api/runs/{run_id}/events",
            f"/api/threads/{thread_id}",
        ):
            assert (await client.get(path, headers=bearer(acme))).status_code == 200
            other = await client.get(path, headers=bearer(globex))
            assert other.status_code == 404 and other.json()["error"]["type"] == "not_found"
        cancel = await client.post(f"/api/runs/{run_id}/cancel", headers=bearer(globex))
        assert cancel.status_code == 404
        borrow = await client.post(
            "/api/agents/chat/runs",
            json={"prompt": "Hi", "thread_id": thread_id, "stream": False},
            headers=bearer(globex),
        )
        assert borrow.status_code == 404
        threads = (await client.get("/api/threads", headers=bearer(globex))).json()
        assert [t["thread_id"] for t in threads] == [theirs["thread_id"]]
        runs = (await client.get("/api/runs", headers=bearer(globex))).json()
        assert [r["run_id"] for r in runs] == [theirs["run_id"]]
        assert len(model.requests) == 2  # the refused run never reached the model


async def test_a_revoked_key_stops_working(project: Path) -> None:
    token = create_key(project, "acme")
    from oxy.serve import create_app

    async for client in open_client(create_app(settings_for(project, key_cache_s=0.05))):
        assert (await client.get("/api/agents", headers=bearer(token))).status_code == 200
        with KeyStore.open(project_root=project) as keys:
            keys.revoke(keys.list_keys()[0].id)
        await anyio.sleep(0.1)
        assert (await client.get("/api/agents", headers=bearer(token))).status_code == 401
