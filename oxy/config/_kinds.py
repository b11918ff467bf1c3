"""Which kind of project file a path is, by its name; and the walk over a project's files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

__all__ = ["PRUNED", "FileKind", "classify", "skip_reason", "walk_project"]


class FileKind(StrEnum):
    CONFIG = "config"
    AGENT = "agent"
    WORKFLOW = "workflow"
    AGENT_TEST = "agent test"
    SQL = "sql"


_KINDS: tuple[tuple[str, FileKind], ...] = (
    (".agent.test.yml", FileKind.AGENT_TEST),
    (".agent.yml", FileKind.AGENT),
    (".workflow.yml", FileKind.WORKFLOW),
    (".procedure.yml", FileKind.WORKFLOW),
    (".automation.yml", FileKind.WORKFLOW),
    (".sql", FileKind.SQL),
)

_SKIPPED: tuple[tuple[str, str], ...] = (
    (".app.yml", "data app (*.app.yml): not run by this engine yet"),
    (".view.yml", "semantic layer view (*.view.yml): not run by this engine yet"),
    (".topic.yml", "semantic layer topic (*.topic.yml): not run by this engine yet"),
    (".aw.yml", "agentic workflow (*.aw.yml): not run by this engine yet"),
    (".agentic.yml", "agentic analytics config (*.agentic.yml): not run by this engine yet"),
    (".schema.yml", "semantic model (*.schema.yml): read as agent context, not checked"),
    (".test.yml", "eval dataset (*.test.yml): read by `tests: [{type: custom}]`, not checked"),
)

PRUNED = frozenset({"node_modules", "__pycache__"})
"""Folders never walked, besides hidden ones."""


def classify(path: str) -> FileKind | None:
    """The kind of the project-relative `path`, or None when oxy does not check such files."""
    name = path.rsplit("/", 1)[-1]
    if path == "config.yml":
        return FileKind.CONFIG
    for suffix, kind in _KINDS:
        if name.endswith(suffix):
            return kind
    return None


def skip_reason(path: str) -> str | None:
    """Why a file that looks like a project file is not checked; None for files that are not YAML."""
    name = path.rsplit("/", 1)[-1]
    for suffix, reason in _SKIPPED:
        if name.endswith(suffix):
            return reason
    if name.endswith((".yml", ".yaml")):
        return "not an oxy file kind (expected *.agent.yml, *.workflow.yml, *.procedure.yml, ...)"
    return None


def walk_project(top: Path) -> Iterator[Path]:
    """Every file under `top`, sorted, skipping hidden folders and `PRUNED` ones."""
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in PRUNED)
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder, name)
