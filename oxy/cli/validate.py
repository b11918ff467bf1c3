"""`oxy validate [PATH...]`: check project files and print each problem on one line."""

from __future__ import annotations

from pathlib import Path

import click

from oxy.cli._errors import EXIT_ERROR, fail
from oxy.config.loader import CONFIG_FILE, find_project_root
from oxy.config.validation import validate as validate_project
from oxy.errors import ConfigError


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--project",
    "project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The project folder (holding config.yml). Default: the nearest one above PATH or the current folder.",
)
def validate(paths: tuple[Path, ...], project: Path | None) -> None:
    """Check every file of the project, or only PATH... (files or folders).

    Prints each problem as `file:line:column: message`, warnings and skipped files likewise, then a
    summary; exits with status 1 when there is an error.
    """
    try:
        if project is not None:
            root = project.resolve()
            if not (root / CONFIG_FILE).is_file():
                fail(f"no {CONFIG_FILE} in {root}; run `oxy make` to create a project there")
        else:
            root = find_project_root(paths[0] if paths else Path.cwd())
    except ConfigError as exc:
        fail(exc)
    resolved = [path.resolve() for path in paths]
    outside = [str(path) for path in resolved if not path.is_relative_to(root)]
    if outside:
        fail(f"{', '.join(outside)} not inside the project {root}")
    from oxy.databases import database_types  # lazy: loaded when the command runs, not for --help

    report = validate_project(root, resolved or None, database_types=database_types())
    for line in report.lines():
        click.echo(line)
    click.echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(EXIT_ERROR)
