"""`oxy tasks list`: the background tasks agents started with `task_start`, per thread."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import click

from oxy.cli._options import project_option


@click.group()
def tasks() -> None:
    """Background tasks agents started (dev servers): which are running, for which thread."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@tasks.command("list")
@click.option("--thread", "thread_id", default=None, help="Only this thread's tasks (or a run's, by its id).")
@click.option("--all", "show_all", is_flag=True, help="Stopped tasks too, not only running ones.")
@project_option
def list_(thread_id: str | None, show_all: bool, project_dir: Path | None) -> None:
    """Each task: its id, state, thread (or run), process id, when it started and its command."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help

    runtime = load_runtime(project_dir=project_dir)
    try:
        found = runtime.store().list_tasks(owner=thread_id)
    finally:
        runtime.close()
    host = socket.gethostname()
    rows: list[str] = []
    for task in found:
        if task.stopped_at is not None:
            state = f"stopped (exit {task.exit_code})"
        elif task.host != host:
            state = f"on {task.host}"
        elif _alive(task.process) and _alive(task.pid):
            state = "running"
        else:
            state = "ended"  # oxy stopped it on exit, or it ended by itself
        if state != "running" and not show_all:
            continue
        started = task.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        rows.append(f"{task.task_id}\t{state}\t{task.owner}\tpid {task.pid}\t{started}\t{task.command}")
    if not rows:
        click.echo("no running tasks" if not show_all else "no tasks", err=True)
        return
    for row in rows:
        click.echo(row)
