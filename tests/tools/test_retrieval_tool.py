"""The retrieval tool as an agent uses it: the model asks with `query` and reads chunks with their
file, lines and score; a missing index says to run `oxy build` (or is built first with
`auto_build`); a stale one says which files changed; embeddings from an OpenAI-compatible server."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.execution.run import RunResult
from oxy.models import ToolMessage, aclose_clients
from oxy.retrieval.build import build_index, index_specs
from oxy.testing import Reply, ScriptedModel, ScriptedModelServer, tool_call

AGENT = """\
model: m
system_instructions: You answer from the handbook.
tools:
  - name: handbook
    type: retrieval
    src: docs/**/*.md
    embed_model: {embed_model}
    top_k: 2
{extra}"""


def make_project(
    root: Path, *, embed_model: str = "local", extra: str = "", api_url: str = "http://127.0.0.1:9/v1"
) -> Path:
    (root / "agents").mkdir(parents=True)
    (root / "docs" / "hr").mkdir(parents=True)
    (root / "config.yml").write_text(
        f"models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: {api_url}\n"
        f"  - name: embedder\n    vendor: vllm\n    model_ref: bge-small\n    api_url: {api_url}\n"
    )
    (root / "agents" / "a.agent.yml").write_text(AGENT.format(embed_model=embed_model, extra=extra))
    (root / "docs" / "returns.md").write_text("# Returns\n\nCustomers may return beans within 30 days.\n")
    (root / "docs" / "hr" / "leave.md").write_text(
        "# Parental leave\n\nStaff get 12 weeks of paid parental leave.\n"
    )
    (root / "docs" / "hr" / "uniforms.md").write_text(
        "# Uniforms\n\nEach barista gets three aprons a year.\n"
    )
    return root


def ask(root: Path, query: str = "parental leave for new parents") -> str:
    """Run the agent with a model that calls the tool once; the tool's answer, as the model read it."""
    model = ScriptedModel(
        [Reply(tool_calls=[tool_call("handbook", {"query": query})]), Reply(text="Done.")], name="m"
    )
    runtime = Runtime.for_project(load_project(root), models={"m": model})

    async def main() -> RunResult[object]:
        try:
            return await run_file(root / "agents/a.agent.yml", runtime=runtime, prompt="Leave?")
        finally:
            await aclose_clients()  # the embedding server's connections

    result = anyio.run(main)
    assert result.status == "ok", result.error
    message = model.requests[1].messages[-1]
    assert isinstance(message, ToolMessage)
    return message.content


def build(root: Path) -> None:
    project = load_project(root)

    async def main() -> None:
        try:
            for spec in index_specs(project):
                await build_index(project, spec)
        finally:
            await aclose_clients()

    anyio.run(main)


def test_the_model_reads_the_nearest_chunks_with_their_file_lines_and_score(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    build(root)
    answer = ask(root)
    first, second = answer.split("\n\n[2] ")
    assert first.startswith("[1] docs/hr/leave.md:1-3 (score 0.")
    assert "Staff get 12 weeks of paid parental leave." in first
    assert "(score 0." in second and "[3]" not in answer  # top_k: 2


def test_without_an_index_the_tool_says_to_run_oxy_build(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    answer = ask(root)
    assert answer == (
        "Error: the retrieval index of docs/**/*.md has not been built: run `oxy build` in the project "
        "(or set `auto_build: true` on the tool)"
    )


def test_auto_build_builds_on_first_use(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", extra="    auto_build: true\n")
    assert ask(root).startswith("[1] docs/hr/leave.md:1-3")


def test_a_stale_index_answers_and_says_which_files_changed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    build(root)
    (root / "docs" / "returns.md").write_text("# Returns\n\nWithin 60 days now.\n")
    answer = ask(root)
    assert answer.startswith(
        "(The index is older than docs/returns.md: run `oxy build` to update it.)\n\n[1] "
    )
    build(root)
    assert ask(root).startswith("[1] ")


def test_embeddings_from_an_openai_compatible_server(tmp_path: Path) -> None:
    with ScriptedModelServer() as server:
        root = make_project(tmp_path / "p", embed_model="embedder", api_url=server.base_url)
        build(root)
        assert sorted(text for batch in server.embedded for text in batch)[0].startswith("# Parental leave")
        assert ask(root).startswith("[1] docs/hr/leave.md:1-3")
        assert server.embedded[-1] == ["parental leave for new parents"]  # the query, embedded by the server


def test_a_chat_model_cannot_embed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", embed_model="m2")
    config = root / "config.yml"
    config.write_text(config.read_text() + "  - name: m2\n    vendor: anthropic\n    model_ref: claude\n")
    project = load_project(root)
    (spec,) = index_specs(project)
    from oxy.errors import ConfigError

    with pytest.raises(ConfigError, match="embed_model 'm2' is a anthropic model"):
        anyio.run(lambda: build_index(project, spec))
    shutil.rmtree(root)


def test_an_index_another_embedder_made_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    build(root)
    project = load_project(root)
    (spec,) = index_specs(project)
    entries = spec.folder(root) / "entries.json"
    entries.write_text(entries.read_text().replace('"embedder": "local:', '"embedder": "other:', 1))
    assert ask(root).startswith("Error: the retrieval index of docs/**/*.md was built with another embedder")
