"""JSON Schemas of the project file kinds, generated from the pydantic models.

`python -m oxy.config.schema_export [DIR]` writes them into DIR (default: the repository's `schemas/`);
`--check` exits 1 and names the files that differ instead of writing. Editors use them through a
`# yaml-language-server: $schema=...` line at the top of each file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from oxy.config.agent import AgentConfig
from oxy.config.agent_test import AgentTestFile
from oxy.config.project import ProjectConfig
from oxy.config.workflow import WorkflowConfig

__all__ = ["SCHEMA_DIR", "check_schemas", "render_schemas", "write_schemas"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
"""The repository's `schemas/` folder."""

_FILES: dict[str, tuple[Any, str]] = {
    "config.json": (ProjectConfig, "oxy config.yml"),
    "agent.json": (AgentConfig, "oxy agent (*.agent.yml)"),
    "workflow.json": (WorkflowConfig, "oxy workflow (*.workflow.yml, *.procedure.yml, *.automation.yml)"),
    "agent-test.json": (AgentTestFile, "oxy agent test (*.agent.test.yml)"),
}


def render_schemas() -> dict[str, str]:
    """File name -> JSON text of each schema, as written to disk."""
    out: dict[str, str] = {}
    for name, (root, title) in _FILES.items():
        schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
        schema.update(TypeAdapter(root).json_schema(mode="validation"))
        schema["title"] = title
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema into `directory`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of the schema files in `directory` that are missing or differ from the models."""
    stale: list[str] = []
    for name, text in render_schemas().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    directory = Path(args[0]) if args else SCHEMA_DIR
    if check:
        stale = check_schemas(directory)
        for name in stale:
            print(f"{directory / name} is out of date; run `python -m oxy.config.schema_export`")
        return 1 if stale else 0
    for path in write_schemas(directory):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
