"""`oxy keys create|list|revoke`: API keys for `oxy serve`, each for one tenant, stored hashed."""

from __future__ import annotations

from pathlib import Path

import click

from oxy.cli._options import project_option
from oxy.storage import KeyStore


def _open(project_dir: Path | None) -> KeyStore:
    from oxy.config import find_project_root  # lazy: loaded when the command runs, not for --help

    return KeyStore.open(project_root=(project_dir or find_project_root(Path.cwd())).resolve())


@click.group()
def keys() -> None:
    """Create, list and revoke API keys for `oxy serve`."""


@keys.command()
@click.option("--tenant", default="default", show_default=True, help="Whose threads and runs the key sees.")
@click.option("--name", help="A label to tell keys apart in `oxy keys list`.")
@project_option
def create(tenant: str, name: str | None, project_dir: Path | None) -> None:
    """Create a key and print it: it is shown this once and stored only as a hash."""
    with _open(project_dir) as store:
        key, token = store.create(tenant=tenant, name=name)
    click.echo(token)
    click.echo(f"key {key.id} for tenant {key.tenant!r}: keep it now, it cannot be shown again", err=True)


@keys.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@project_option
def list_keys(include_revoked: bool, project_dir: Path | None) -> None:
    """List keys (never the keys themselves): id, tenant, name, created, revoked."""
    with _open(project_dir) as store:
        found = store.list_keys(include_revoked=include_revoked)
    if not found:
        which = "API keys" if include_revoked else "active API keys"
        click.echo(f"no {which}: create one with `oxy keys create --tenant NAME`", err=True)
        return
    click.echo("id\ttenant\tname\tcreated\trevoked")
    for key in found:
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
        created = key.created_at.isoformat(timespec="seconds")
        click.echo(f"{key.id}\t{key.tenant}\t{key.name or '-'}\t{created}\t{revoked}")


@keys.command()
@click.argument("key_id")
@project_option
def revoke(key_id: str, project_dir: Path | None) -> None:
    """Revoke the key KEY_ID (from `oxy keys list`); servers stop accepting it within seconds."""
    with _open(project_dir) as store:
        key = store.revoke(key_id)
    click.echo(f"revoked key {key.id} of tenant {key.tenant!r}", err=True)
