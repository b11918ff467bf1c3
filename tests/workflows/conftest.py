"""A small project for workflow tests: DuckDB over a CSV folder, one agent on the scripted model server."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from oxy.application.runner import run_file
from oxy.application.runtime import Runtime
from oxy.config import load_project
from oxy.events.sinks import ListSink
from oxy.events.types import Event
from oxy.execution.run import RunResult
from oxy.testing import ScriptedModelServer

SALES = """fruit,sales,day
apple,325,2024-01-01
banana,2000,2024-01-02
cherry,18,2024-01-03
"""


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "sales.csv").write_text(SALES)
    (root / "agents").mkdir()
    (root / "workflows").mkdir()
    (root / "queries").mkdir()
    (root / "config.yml").write_text(
        textwrap.dedent(
            f"""\
            databases:
              - name: local
                type: duckdb
                dataset: data/
            models:
              - name: scripted
                vendor: vllm
                model_ref: scripted
                api_url: {server.base_url}
            """
        )
    )
    (root / "agents" / "writer.agent.yml").write_text(
        "model: scripted\nsystem_instructions: You write short reports.\n"
    )
    (root / "queries" / "by_fruit.sql").write_text(
        "/*\n oxy:\n    database: local\n*/\nselect sales from sales where fruit = '{{ fruit }}'\n"
    )
    return root


def write(root: Path, name: str, text: str) -> Path:
    path = root / "workflows" / name
    path.write_text(textwrap.dedent(text))
    return path


class Run:
    """One workflow run through `run_file`, with its events."""

    def __init__(self, result: RunResult[dict[str, Any]], events: list[Event]) -> None:
        self.result = result
        self.events = events

    @property
    def output(self) -> dict[str, Any]:
        assert self.result.error is None, self.result.error
        assert self.result.output is not None
        return self.result.output


def run(root: Path, path: Path, *, streams_text: bool = False, **kwargs: Any) -> Run:
    runtime = Runtime.for_project(load_project(root))
    sink = ListSink(streams_text=streams_text)

    async def main() -> RunResult[dict[str, Any]]:
        return await run_file(path, runtime=runtime, sink=sink, **kwargs)

    try:
        return Run(anyio.run(main), sink.events)
    finally:
        runtime.close()
