"""Options several commands share (this module imports only click, so `--help` stays cheap)."""

from __future__ import annotations

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
    """`--record` / `--replay` and `--cassette PATH`, passed as `cassette_mode` and `cassette`."""
    command = click.option(
        "--cassette",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The cassette file (default: .oxy/cassettes/default.json in the project).",
    )(command)
    command = click.option(
        "--replay",
        "cassette_mode",
        flag_value="replay",
        help="Answer every model request from the cassette: no network; a request it lacks fails the run.",
    )(command)
    return click.option(
        "--record",
        "cassette_mode",
        flag_value="record",
        help="Ask the real models and write each exchange to the cassette.",
    )(command)
