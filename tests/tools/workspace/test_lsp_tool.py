"""The `lsp` tool of a workspace: definition, references, hover and workspace symbols on a small
Python package, answered by the real pyright language server, which the runtime keeps between calls
and stops when it closes."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.events.sinks import ListSink
from oxy.events.types import ToolResultEvent
from oxy.testing import Reply, ScriptedModel, tool_call
from oxy.tools.workspace.lsp import LanguageServer

BIN = str(Path(sys.executable).parent)
PYRIGHT = shutil.which("pyright-langserver", path=BIN) or shutil.which("pyright-langserver")
pytestmark = pytest.mark.skipif(
    PYRIGHT is None, reason="pyright-langserver is not installed (pip install pyright)"
)

SHAPES = '''\
class Circle:
    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        """The area inside the circle."""
        return 3.14159 * self.radius**2
'''
USE = "from pkg.shapes import Circle\n\nsmall = Circle(1.0).area()\nbig = Circle(10.0).area()\n"


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    (root / "agents" / "reader.agent.yml").write_text(
        "model: m\nsystem_instructions: You read code.\ntools:\n  - type: workspace\n    tools: [lsp]\n"
        f"    lsp: {{python: '{PYRIGHT} --stdio'}}\npermissions:\n  allow: [lsp]\n"
    )
    package = root / "workspace" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "shapes.py").write_text(SHAPES)
    (package / "use.py").write_text(USE)
    return root


AT_AREA = {"path": "pkg/use.py", "line": 3, "column": 21}


def test_the_model_asks_the_language_server(tmp_path: Path) -> None:
    root = project(tmp_path)
    at_area = AT_AREA
    calls = [
        ("lsp", {"operation": "definition", **at_area}),
        ("lsp", {"operation": "references", **at_area}),
        ("lsp", {"operation": "hover", **at_area}),
        ("lsp", {"operation": "workspace_symbols", "query": "Circle"}),
        ("lsp", {"operation": "definition", "path": "../outside.py", "line": 1, "column": 1}),
    ]
    script = [Reply(tool_calls=[tool_call(n, a, id=f"c{i}")]) for i, (n, a) in enumerate(calls)]
    model = ScriptedModel([*script, Reply(text="done")], name="m")
    runtime = Runtime.for_project(load_project(root), models={"m": model})
    sink = ListSink()
    pids: list[int | None] = []

    async def main() -> Any:
        async with runtime:
            result = await run_file(
                root / "agents/reader.agent.yml", runtime=runtime, prompt="Where?", sink=sink
            )
            pids.extend(server.pid for server in runtime.kept(LanguageServer))
            return result

    result = anyio.run(main)
    assert result.status == "ok", result.error
    results = [e.content for e in sink.events if isinstance(e, ToolResultEvent)]
    assert results[0] == "pkg/shapes.py:5:9  def area(self) -> float:"
    assert results[1].splitlines() == [
        "pkg/shapes.py:5:9  def area(self) -> float:",
        "pkg/use.py:3:21  small = Circle(1.0).area()",
        "pkg/use.py:4:20  big = Circle(10.0).area()",
    ]
    assert results[2] == "(method) def area() -> float\n\nThe area inside the circle."
    assert results[3] == "class Circle at pkg/shapes.py:1:7  class Circle:"
    assert "outside the workspace" in results[4]
    assert len(pids) == 1 and pids[0] is not None  # one server for every call
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_a_language_server_that_died_is_started_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    definition = tool_call("lsp", {"operation": "definition", **AT_AREA}, id="d")
    model = ScriptedModel([Reply(tool_calls=[definition]), Reply(text="one")] * 2, name="m")
    runtime = Runtime.for_project(load_project(root), models={"m": model})
    sink = ListSink()
    pids: list[int | None] = []

    async def main() -> None:
        async with runtime:
            for _ in range(2):
                result = await run_file(
                    root / "agents/reader.agent.yml", runtime=runtime, prompt="?", sink=sink
                )
                assert result.status == "ok", result.error
                (server,) = [s for s in runtime.kept(LanguageServer) if s.alive]
                pids.append(server.pid)
                assert server.pid is not None
                os.killpg(server.pid, signal.SIGKILL)  # it dies between runs
                with anyio.fail_after(10):
                    while server.alive:
                        await anyio.sleep(0.05)

    anyio.run(main)
    results = [e.content for e in sink.events if isinstance(e, ToolResultEvent)]
    assert results == ["pkg/shapes.py:5:9  def area(self) -> float:"] * 2
    assert pids[0] != pids[1]
