"""`oxy make DIR --from DATA`: scaffold a runnable project around a data file, folder or .duckdb file."""

from __future__ import annotations

import shlex
from pathlib import Path

import click


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, dir_okay=True, file_okay=False))
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A CSV or Parquet file, a folder of them, or a .duckdb file.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def make(directory: Path, source: Path, force: bool) -> None:
    """Create a project in DIRECTORY: config.yml, the data, its schema, agents, a workflow, a query."""
    from oxy.make import make_project  # lazy: loaded when the command runs, not for --help

    made = make_project(directory, source=source, force=force)
    click.echo(f"Created an oxy project in {directory} ({len(made.files)} files):")
    for name in made.files:
        click.echo(f"  {name}")
    click.echo("\nNext:")
    click.echo(f"  cd {shlex.quote(str(directory))}")
    for command in made.next_commands:
        click.echo(f"  {command}")
    click.echo(
        "\nThe agents use the local SmolLM2 model (oxy models install-local); for a server model,"
        " uncomment one in config.yml and add --model NAME."
    )
