"""`build_index`: incremental (one file changed, one re-embedded), removals, `--drop`, stale checks."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from oxy.config import load_project
from oxy.models.embeddings import LocalEmbedder
from oxy.retrieval.build import BuildSummary, build_index, index_specs, source_files
from oxy.retrieval.index import VectorIndex

AGENT = """\
model: m
system_instructions: You answer from the handbook.
tools:
  - name: handbook
    type: retrieval
    src: [docs/**/*.md, queries/*.sql]
    embed_model: local
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "docs" / "hr").mkdir(parents=True)
    (root / "queries").mkdir()
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    (root / "agents" / "a.agent.yml").write_text(AGENT)
    (root / "docs" / "returns.md").write_text("# Returns\n\nCustomers may return beans within 30 days.\n")
    (root / "docs" / "hr" / "leave.md").write_text(
        "# Parental leave\n\nStaff get 12 weeks of paid parental leave.\n"
    )
    (root / "queries" / "sales.sql").write_text(
        "/*\n  oxy:\n    embed: [weekly sales per store]\n*/\nSELECT 1\n"
    )
    return root


def build(root: Path, *, drop: bool = False) -> BuildSummary:
    project = load_project(root)
    (spec,) = index_specs(project)
    return anyio.run(lambda: build_index(project, spec, drop=drop))


def test_only_changed_files_are_embedded_again(project: Path) -> None:
    first = build(project)
    assert first.embedded == ["docs/hr/leave.md", "docs/returns.md", "queries/sales.sql"]
    assert (first.unchanged, first.chunks) == (0, 4)  # the query is embedded twice: itself and its question
    assert first.spec.used_by == ("agents/a.agent.yml › handbook",)

    again = build(project)
    assert (again.embedded, again.unchanged) == ([], 3)

    (project / "docs" / "returns.md").write_text("# Returns\n\nCustomers may return beans within 60 days.\n")
    os.utime(project / "docs" / "hr" / "leave.md")  # touched, not changed: nothing to embed
    changed = build(project)
    assert (changed.embedded, changed.unchanged) == (["docs/returns.md"], 2)

    (project / "docs" / "hr" / "leave.md").unlink()
    removed = build(project)
    assert (removed.removed, removed.chunks) == (["docs/hr/leave.md"], 3)
    assert build(project, drop=True).embedded == ["docs/returns.md", "queries/sales.sql"]


def test_the_index_answers_searches_and_tells_when_it_is_stale(project: Path) -> None:
    summary = build(project)
    index = VectorIndex.open(summary.spec.folder(project))
    assert index is not None and len(index) == 4
    query = LocalEmbedder().embed_now(["how long is maternity leave"])[0]
    best = index.search(query, 2)[0]
    assert (best.source, best.start_line, best.end_line) == ("docs/hr/leave.md", 1, 3)
    assert "12 weeks" in best.text and 0 < best.score <= 1
    sql = index.search(LocalEmbedder().embed_now(["weekly sales per store"])[0], 1)[0]
    assert (sql.source, sql.text) == ("queries/sales.sql", "SELECT 1")  # found by its question

    def now() -> dict[str, tuple[int, int]]:
        files = source_files(project, summary.spec)
        return {s: (p.stat().st_mtime_ns, p.stat().st_size) for s, p in files.items()}

    assert index.stale(now()) == []
    (project / "docs" / "new.md").write_text("New.\n")
    (project / "docs" / "returns.md").unlink()
    assert index.stale(now()) == ["docs/new.md", "docs/returns.md"]


def test_a_broken_index_folder_is_rebuilt(project: Path) -> None:
    summary = build(project)
    (summary.spec.folder(project) / "entries.json").write_text("{not json")
    assert VectorIndex.open(summary.spec.folder(project)) is None
    assert len(build(project).embedded) == 3


def test_src_globs_stay_inside_the_project(project: Path) -> None:
    agent = project / "agents" / "a.agent.yml"
    agent.write_text(AGENT.replace("queries/*.sql", "../*.md"))
    from oxy.errors import ConfigError

    with pytest.raises(ConfigError, match="outside the project"):
        build(project)


def test_hidden_files_the_run_store_and_binaries_are_never_indexed(project: Path) -> None:
    agent = project / "agents" / "a.agent.yml"
    agent.write_text(AGENT.replace("[docs/**/*.md, queries/*.sql]", '["**/*"]'))
    (project / ".env").write_text("OPENAI_API_KEY=secret\n")
    (project / "docs" / "logo.png").write_bytes(b"\x89PNG\x00\x00binary")
    build(project)  # makes .oxy/retrieval/... and, with it, what a second build must not take in
    (spec,) = index_specs(load_project(project))
    files = source_files(project, spec)
    assert not [f for f in files if f.startswith(".") or "/." in f or f.endswith(".png")]
    assert "docs/returns.md" in files and "agents/a.agent.yml" in files
    assert build(project).embedded == []  # the index does not index itself


def test_a_pair_of_files_left_apart_reads_as_no_index(project: Path) -> None:
    summary = build(project)
    folder = summary.spec.folder(project)
    entries = folder / "entries.json"
    import json

    data = json.loads(entries.read_text())
    data["entries"]["999"] = ["docs/x.md", 1, 1, "ghost"]  # a key the vectors file does not have
    entries.write_text(json.dumps(data))
    assert VectorIndex.open(folder) is None
    assert len(build(project).embedded) == 3  # rebuilt from scratch, no "duplicate keys"
