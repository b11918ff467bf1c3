"""Options several commands share (this module imports only click, so `--help` stays cheap)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["project_option"]

project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The project folder (default: the nearest config.yml above the current folder).",
)
"""`--project DIR`, passed to the command as `project_dir`."""
