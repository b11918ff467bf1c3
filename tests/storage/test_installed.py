"""The migrations ship inside the package: a store opens from a built copy, away from the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from oxy.storage._migrate import HEAD

REPO = Path(__file__).resolve().parents[2]


def test_a_built_package_migrates_a_new_store(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "oxy", source / "oxy", ignore=shutil.ignore_patterns("__pycache__"))
    build = tmp_path / "lib"
    # What an install copies: the packages and their package data (setuptools' build_py step).
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import setup; setup()",
            "-q",
            "build_py",
            "--build-lib",
            str(build),
        ],
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "deprecated" not in built.stderr.lower(), built.stderr  # pyproject.toml as setuptools wants it
    assert not (build / "oxy" / "storage" / "migrations" / "alembic.ini").exists()  # for developers only

    code = (
        "import pathlib, sqlite3, oxy.storage; print(oxy.storage.__file__); "
        "oxy.storage.Store.open(project_root=pathlib.Path('project')).close(); "
        "print(sqlite3.connect('project/.oxy/oxy.db').execute('SELECT version_num FROM alembic_version').fetchone()[0])"
    )
    env = {**os.environ, "PYTHONPATH": str(build)}
    env.pop("OXY_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(build / "oxy" / "storage" / "__init__.py"), HEAD]
