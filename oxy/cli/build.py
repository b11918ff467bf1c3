"""`oxy build`: index the files the project's retrieval tools search (incremental; `--drop` rebuilds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import click

from oxy.cli._options import project_option
from oxy.cli._progress import Progress


@click.command()
@click.option("--drop", is_flag=True, help="Throw the indexes away and embed every file again.")
@project_option
def build(drop: bool, project_dir: Path | None) -> None:
    """Chunk, embed and index what the project's retrieval tools search, under .oxy/retrieval/; only
    files that changed since the last build are embedded again."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help
    from oxy.models import aclose_clients  # lazy: loaded when the command runs, not for --help
    from oxy.retrieval.build import build_index, index_specs, source_files  # lazy: as above

    runtime = load_runtime(project_dir=project_dir)
    project = runtime.project
    specs = index_specs(project)
    if not specs:
        click.echo("nothing to index: no agent has a `type: retrieval` tool", err=True)
        return

    async def main() -> list[Any]:
        summaries: list[Any] = []
        try:
            for spec in specs:
                total = len(source_files(project.root, spec))
                with Progress(f"Indexing {', '.join(spec.src)}", total) as progress:
                    summaries.append(await build_index(project, spec, drop=drop, on_file=progress.advance))
        finally:
            await aclose_clients()
        return summaries

    for summary in anyio.run(main):
        spec = summary.spec
        files = len(summary.embedded) + summary.unchanged
        where = spec.folder(project.root).relative_to(project.root).as_posix()
        removed = f", {len(summary.removed)} removed" if summary.removed else ""
        click.echo(
            f"{', '.join(spec.src)} ({spec.embed_model}): {files} files, {len(summary.embedded)} embedded, "
            f"{summary.unchanged} unchanged{removed}; {summary.chunks} chunks in {summary.seconds:.1f} s → {where}"
        )
        for user in spec.used_by:
            click.echo(f"  used by {user}")
