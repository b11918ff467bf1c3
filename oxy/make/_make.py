"""Plan every file of the new project, refuse to overwrite (unless `force`), then write them."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from oxy.errors import ConfigError
from oxy.make import _files
from oxy.make._sources import stage

__all__ = ["MadeProject", "make_project"]

DATABASE = "local"


@dataclass(frozen=True, slots=True)
class MadeProject:
    root: Path
    files: tuple[str, ...]
    """Every file written, relative to `root`, sorted."""
    next_commands: tuple[str, ...]
    """What to run next, from inside `root`."""


def make_project(dest: Path, *, source: Path, force: bool = False) -> MadeProject:
    """Create a runnable project in `dest` around the data at `source`."""
    staged = stage(source, database=DATABASE)
    tables = staged.tables
    texts: dict[str, str] = {
        "config.yml": _files.config_yml(staged.database),
        "agents/analyst.agent.yml": _files.analyst_agent(tables, database=DATABASE),
        "agents/router.agent.yml": _files.router_agent(),
        "workflows/row_counts.workflow.yml": _files.summary_workflow(tables, database=DATABASE),
        f"queries/{tables[0].slug}_sample.sql": _files.sample_query(tables[0], database=DATABASE),
        **{f"semantics/{t.slug}.schema.yml": _files.semantic_model(t, database=DATABASE) for t in tables},
        **_files.schema_files(),
    }
    planned = sorted([*texts, *(target for _, target in staged.copies)])
    existing = [name for name in planned if (dest / name).exists()]
    if existing and not force:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise ConfigError(f"{dest}: would overwrite {shown}; pass --force to overwrite them")
    for file, target in staged.copies:
        path = dest / target
        path.parent.mkdir(parents=True, exist_ok=True)
        if file.resolve() != path.resolve():
            shutil.copy2(file, path)
    for name, text in texts.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    query = f"queries/{tables[0].slug}_sample.sql"
    commands = (
        "oxy validate",
        f"oxy run {query}",
        "oxy run workflows/row_counts.workflow.yml",
        f'oxy run agents/analyst.agent.yml "How many rows does {tables[0].name} have?"',
        f'oxy run agents/router.agent.yml "Show me a few {tables[0].name} rows"',
    )
    return MadeProject(root=dest, files=tuple(planned), next_commands=commands)
