"""`oxy memory list|forget`: what agents with long-term memory remember, and deleting it."""

from __future__ import annotations

from pathlib import Path

import click

from oxy.cli._errors import fail
from oxy.cli._options import project_option

_TENANT = click.option(
    "--tenant",
    default=None,
    help="Whose memories (an API key's tenant in oxy serve; default: the local one).",
)


@click.group()
def memory() -> None:
    """List and forget what agents remember (`memory: {long_term: true}`, `type: memory` tools)."""


@memory.command("list")
@click.option("--user", default=None, help="Only this user's memories.")
@_TENANT
@project_option
def list_(user: str | None, tenant: str | None, project_dir: Path | None) -> None:
    """Each memory: its id, when it was kept, whose it is and what it says; newest first."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help
    from oxy.storage import LOCAL_TENANT  # lazy: loaded when the command runs, not for --help

    runtime = load_runtime(project_dir=project_dir)
    try:
        found = runtime.store().list_memories(tenant=tenant or LOCAL_TENANT, user=user)
    finally:
        runtime.close()
    if not found:
        click.echo("nothing remembered" + (f" for user {user!r}" if user is not None else ""), err=True)
        return
    for item in found:
        text = " ".join(item.text.split())
        click.echo(f"{item.id}  {item.created_at:%Y-%m-%d %H:%M}  {item.user or '-'}  {text}")


@memory.command()
@click.argument("memory_ids", nargs=-1, required=True, metavar="ID...")
@_TENANT
@project_option
def forget(memory_ids: tuple[str, ...], tenant: str | None, project_dir: Path | None) -> None:
    """Delete memories by id (from `oxy memory list`)."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help
    from oxy.storage import LOCAL_TENANT  # lazy: loaded when the command runs, not for --help

    runtime = load_runtime(project_dir=project_dir)
    try:
        missing = [
            i for i in memory_ids if not runtime.store().forget_memory(i, tenant=tenant or LOCAL_TENANT)
        ]
    finally:
        runtime.close()
    forgotten = len(memory_ids) - len(missing)
    if forgotten:
        click.echo(f"forgot {forgotten} {'memory' if forgotten == 1 else 'memories'}")
    if missing:
        fail(f"no memory {', '.join(map(repr, missing))} (oxy memory list shows them)")
