"""`oxy build`: index what the project marks for retrieval, embedding only files that changed.

Each retrieval tool (`type: retrieval` in an agent) names files by `src` globs and an embedder; its
index lives in `.oxy/retrieval/<key>/`, the key a hash of the globs and the embedder, so tools that
agree share one index and a changed embedder gets a fresh one. A file whose content hash is the one
indexed is skipped; a new or changed file is re-chunked and re-embedded; a file gone is dropped.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oxy.config._kinds import PRUNED, FileKind, classify, walk_project
from oxy.config._paths import confine_glob
from oxy.config.agent import DefaultAgentConfig
from oxy.config.loader import Project, load_agent
from oxy.config.tools import RetrievalTool
from oxy.errors import ConfigError
from oxy.models.embeddings import Embedder, embedder_for
from oxy.retrieval.chunks import Chunk, chunk_file
from oxy.retrieval.index import FileStamp, VectorIndex

__all__ = [
    "BuildSummary",
    "IndexSpec",
    "build_index",
    "current_stamps",
    "index_specs",
    "retrieval_spec",
    "source_files",
]

INDEX_DIR = Path(".oxy") / "retrieval"


@dataclass(frozen=True)
class IndexSpec:
    """One index: the files (`src` globs) and the embedder that fills it, and who uses it."""

    src: tuple[str, ...]
    embed_model: str
    api_url: str | None
    key_var: str | None
    api_key: str | None
    dims: int | None
    used_by: tuple[str, ...] = ()
    """`agent file › tool` of each tool that searches it."""

    @property
    def key(self) -> str:
        what = json.dumps([sorted(self.src), self.embed_model, self.api_url, self.dims])
        return hashlib.sha256(what.encode()).hexdigest()[:12]

    def folder(self, root: Path) -> Path:
        return root / INDEX_DIR / self.key

    def embedder(self, project: Project) -> Embedder:
        return embedder_for(
            self.embed_model,
            models=project.config.models,
            api_url=self.api_url,
            key_var=self.key_var,
            api_key=self.api_key,
            dims=self.dims,
        )


@dataclass
class BuildSummary:
    spec: IndexSpec
    embedded: list[str] = field(default_factory=list[str])
    unchanged: int = 0
    removed: list[str] = field(default_factory=list[str])
    chunks: int = 0
    """Chunks in the index after the build."""
    seconds: float = 0.0


def retrieval_spec(tool: RetrievalTool, *, used_by: str = "") -> IndexSpec:
    """The index a retrieval tool searches (Oxy's `embed_model`, `api_url`, `key_var`, `api_key`,
    `n_dims`; the `local` embedder has its own size)."""
    local = tool.embed_model == "local"
    return IndexSpec(
        src=tuple(tool.src),
        embed_model=tool.embed_model,
        api_url=None if local else tool.api_url,
        key_var=None if local else tool.key_var,
        api_key=None if local else tool.api_key,
        dims=None if local else tool.n_dims,
        used_by=(used_by,) if used_by else (),
    )


def index_specs(project: Project) -> list[IndexSpec]:
    """Every index the project's agents search, merged where two tools agree."""
    specs: dict[str, IndexSpec] = {}
    for path in walk_project(project.root):
        rel = project.relative(path)
        if classify(rel) is not FileKind.AGENT:
            continue
        agent = load_agent(rel, project)
        if not isinstance(agent, DefaultAgentConfig):
            continue
        for tool in agent.tools:
            if isinstance(tool, RetrievalTool):
                spec = retrieval_spec(tool, used_by=f"{rel} › {tool.name}")
                known = specs.get(spec.key)
                if known is not None:
                    spec = dataclasses.replace(known, used_by=(*known.used_by, *spec.used_by))
                specs[spec.key] = spec
    return list(specs.values())


def source_files(root: Path, spec: IndexSpec) -> dict[str, Path]:
    """The files `spec.src` matches now, by project-relative name: confined to the project, and never
    hidden files or folders (`.env`, `.oxy/` with the run store and the indexes themselves), build
    output folders or binary files."""
    found: dict[str, Path] = {}
    base = root.resolve()
    for pattern in spec.src:
        for path in confine_glob(root, pattern, what="retrieval src", strict=False):
            rel = path.resolve().relative_to(base)
            if any(part.startswith(".") or part in PRUNED for part in rel.parts):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            if not _binary(path, stat.st_mtime_ns, stat.st_size):
                found[rel.as_posix()] = path
    return dict(sorted(found.items()))


def current_stamps(root: Path, spec: IndexSpec) -> dict[str, tuple[int, int]]:
    """`source_files` by name -> (mtime_ns, size): what a search compares with the index's stamps."""
    stamps: dict[str, tuple[int, int]] = {}
    for source, path in source_files(root, spec).items():
        stat = path.stat()
        stamps[source] = (stat.st_mtime_ns, stat.st_size)
    return stamps


@functools.lru_cache(maxsize=65536)
def _binary(path: Path, mtime_ns: int, size: int) -> bool:
    """A NUL byte in its first 8 KB; asked again only when the file changed (the tool checks for
    staleness on every search)."""
    try:
        with path.open("rb") as file:
            return b"\0" in file.read(8192)
    except OSError:
        return True


async def build_index(
    project: Project,
    spec: IndexSpec,
    *,
    drop: bool = False,
    on_file: Callable[[str], None] | None = None,
) -> BuildSummary:
    """Bring `spec`'s index up to date (from scratch with `drop`); `on_file` hears of each file as
    it is looked at."""
    started = time.perf_counter()
    root = project.root
    folder = spec.folder(root)
    embedder = spec.embedder(project)
    if drop:
        shutil.rmtree(folder, ignore_errors=True)
    index = VectorIndex.open(folder)
    if index is not None and index.embedder != embedder.name:
        index = None  # another embedder made it: its vectors cannot be mixed with new ones
    files = source_files(root, spec)
    summary = BuildSummary(spec)
    known = index.files if index is not None else {}
    for source in [s for s in known if s not in files]:
        assert index is not None
        index.remove_file(source)
        summary.removed.append(source)
    for source, path in files.items():
        data = path.read_bytes()
        stat = path.stat()
        stamp = FileStamp(hashlib.sha256(data).hexdigest(), stat.st_mtime_ns, stat.st_size)
        old = known.get(source)
        if index is not None and old is not None and old.sha256 == stamp.sha256:
            if old != stamp:  # touched, same content: remember the new stat, embed nothing
                index.restamp(source, stamp)
            summary.unchanged += 1
        else:
            chunks = _chunks(path, source)
            vectors = await embedder.embed([c.embed for c in chunks])
            if index is None:
                if not len(vectors):
                    continue  # nothing to embed yet: the index takes its size from real vectors
                index = VectorIndex(folder, embedder=embedder.name, dims=int(vectors.shape[1]))
            index.replace_file(source, stamp, chunks, vectors)
            summary.embedded.append(source)
        if on_file is not None:
            on_file(source)
    if index is not None:
        index.save()
        summary.chunks = len(index)
    summary.seconds = time.perf_counter() - started
    return summary


def _chunks(path: Path, source: str) -> Sequence[Chunk]:
    try:
        return chunk_file(path, source=source)
    except ConfigError:
        raise
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"retrieval src {source!r}: cannot read it ({exc})") from None
