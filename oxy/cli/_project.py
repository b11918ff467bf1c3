"""Finding and loading the project a command works on."""

from __future__ import annotations

from pathlib import Path

from oxy.application.runtime import Runtime
from oxy.config import find_project_root, load_project


def load_runtime(*, file: Path | None = None, project_dir: Path | None = None) -> Runtime:
    """The runtime of `--project DIR`, or of the nearest `config.yml` above FILE (or the cwd)."""

    if project_dir is not None:
        root = project_dir
    else:
        start = file.resolve().parent if file is not None else Path.cwd()
        root = find_project_root(start)
    return Runtime.for_project(load_project(root))
