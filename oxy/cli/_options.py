"""Options several commands share (this module imports only click, so `--help` stays cheap)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["cassette_options", "project_option"]

project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The project folder (default: the nearest config.yml above the current folder).",
)
"""`--project DIR`, passed to the command as `project_dir`."""


def cassette_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--record` / `--replay` and `--cassette PATH`, passed together as `cassette_mode` ("record",
    "replay" or None) and `cassette`; both flags, or `--cassette` alone, is a usage error."""

    command = click.option(
        "--cassette",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The cassette file (default: .oxy/cassettes/default.json in the project).",
    )(command)
    command = click.option(
        "--replay",
        is_flag=True,
        help="Answer every model request from the cassette: no network; a request it lacks fails the run.",
    )(command)
    command = click.option(
        "--record", is_flag=True, help="Ask the real models and write each exchange to the cassette."
    )(command)
    inner = command

    @functools.wraps(inner)  # keeps the options click collected on the function
    def wrapped(*args: Any, record: bool, replay: bool, cassette: Path | None, **kwargs: Any) -> Any:
        if record and replay:
            raise click.UsageError("--record and --replay exclude each other")
        if cassette is not None and not (record or replay):
            raise click.UsageError("--cassette goes with --record or --replay")
        cassette_mode = "record" if record else "replay" if replay else None
        return inner(*args, cassette_mode=cassette_mode, cassette=cassette, **kwargs)

    return wrapped
