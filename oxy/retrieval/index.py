"""A vector index of chunks in a folder: usearch for the vectors, a JSON file for what they point at.

`vectors.usearch` holds unit vectors under integer keys; `entries.json` maps each key to its chunk
(source, lines, text) and records each indexed file's content hash and stat, so a rebuild embeds
only the files that changed and a search can tell that the index is stale. Opening checks that the
two files hold the same keys; a pair left apart (a crash between their renames) reads as no index,
and the next build starts afresh. Below `EXACT_BELOW`
vectors a search is exact (a brute-force scan is fast and has perfect recall); above, it walks the
HNSW graph with `EXPANSION_SEARCH` candidates. Both files are written to temporary names and
renamed, so a crash never leaves half an index.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oxy.models.embeddings import Vectors
from oxy.models.local import prime_before_usearch
from oxy.retrieval.chunks import Chunk

__all__ = ["EXACT_BELOW", "FileStamp", "Hit", "VectorIndex"]

EXACT_BELOW = 50_000
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 96
_VECTORS = "vectors.usearch"
_ENTRIES = "entries.json"


@dataclass(frozen=True, slots=True)
class Hit:
    source: str
    start_line: int
    end_line: int
    text: str
    score: float
    """Cosine similarity, 1 for the same direction."""


@dataclass(frozen=True, slots=True)
class FileStamp:
    sha256: str
    mtime_ns: int
    size: int


class VectorIndex:
    """The index in `folder` for one embedder (`embedder`, `dims`)."""

    def __init__(self, folder: Path, *, embedder: str, dims: int) -> None:
        self.folder = folder
        self.embedder = embedder
        self.dims = dims
        self._index = _new_index(dims)
        self._entries: dict[int, tuple[str, int, int, str]] = {}
        self._files: dict[str, tuple[FileStamp, list[int]]] = {}
        self._next_key = 1

    @classmethod
    def open(cls, folder: Path) -> VectorIndex | None:
        """The index saved in `folder`, or None when there is none (or it is unreadable)."""
        try:
            data: dict[str, Any] = json.loads((folder / _ENTRIES).read_text(encoding="utf-8"))
            index = cls(folder, embedder=data["embedder"], dims=int(data["dims"]))
            index._entries = {int(k): (v[0], v[1], v[2], v[3]) for k, v in data["entries"].items()}
            index._files = {
                source: (FileStamp(f["sha256"], f["mtime_ns"], f["size"]), [int(k) for k in f["keys"]])
                for source, f in data["files"].items()
            }
            index._next_key = int(data["next_key"])
            if index._entries:
                restored = usearch_index().Index.restore(str(folder / _VECTORS))
                # The two files are renamed one after the other: a crash between leaves them apart.
                if restored is None or {int(k) for k in restored.keys} != set(index._entries):
                    return None
                index._index = restored
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return None
        return index

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def files(self) -> dict[str, FileStamp]:
        return {source: stamp for source, (stamp, _) in self._files.items()}

    def replace_file(self, source: str, stamp: FileStamp, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        """Index `chunks` (with their `vectors`) as the whole of `source`, dropping what it had."""
        self.remove_file(source)
        keys = list(range(self._next_key, self._next_key + len(chunks)))
        self._next_key += len(chunks)
        if keys:
            self._index.add(np.array(keys, dtype=np.uint64), vectors)
        for key, chunk in zip(keys, chunks, strict=True):
            self._entries[key] = (chunk.source, chunk.start_line, chunk.end_line, chunk.text)
        self._files[source] = (stamp, keys)

    def restamp(self, source: str, stamp: FileStamp) -> None:
        """`source` was touched but its content is the same: keep its vectors, note its new stat."""
        found = self._files.get(source)
        if found is not None:
            self._files[source] = (stamp, found[1])

    def remove_file(self, source: str) -> None:
        found = self._files.pop(source, None)
        if found is None:
            return
        for key in found[1]:
            self._index.remove(key)
            self._entries.pop(key, None)

    def search(self, vector: Vectors, k: int, *, exact: bool | None = None) -> list[Hit]:
        """The `k` nearest chunks to `vector`, best first; a chunk embedded under several texts (a
        query and its questions) counts once, at its best score."""
        if not self._entries or k <= 0:
            return []
        exact = len(self._entries) < EXACT_BELOW if exact is None else exact
        wanted = min(len(self._entries), k * 4)  # room for duplicates of one chunk
        matches: Any = self._index.search(vector.reshape(-1), wanted, exact=exact)
        hits: dict[tuple[str, int, int], Hit] = {}
        for key, distance in zip(matches.keys.tolist(), matches.distances.tolist(), strict=True):
            entry = self._entries.get(int(key))
            if entry is None:
                continue
            source, start, end, text = entry
            place = (source, start, end)
            if place not in hits:
                hits[place] = Hit(source, start, end, text, round(1.0 - float(distance), 4))
        return sorted(hits.values(), key=lambda h: -h.score)[:k]

    def stale(self, current: dict[str, tuple[int, int]]) -> list[str]:
        """Files (given as source -> (mtime_ns, size)) that were added, changed or removed since the
        index was built."""
        changed = [
            s
            for s, (mtime, size) in current.items()
            if s not in self._files or _moved(self._files[s][0], mtime, size)
        ]
        return sorted([*changed, *(s for s in self._files if s not in current)])

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._entries:
            _atomic(self.folder / _VECTORS, lambda tmp: self._index.save(str(tmp)))
        data = {
            "version": 1,
            "embedder": self.embedder,
            "dims": self.dims,
            "next_key": self._next_key,
            "files": {
                source: {"sha256": s.sha256, "mtime_ns": s.mtime_ns, "size": s.size, "keys": keys}
                for source, (s, keys) in self._files.items()
            },
            "entries": {str(k): list(v) for k, v in self._entries.items()},
        }
        text = json.dumps(data, ensure_ascii=False)
        _atomic(self.folder / _ENTRIES, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _new_index(dims: int) -> Any:
    return usearch_index().Index(
        ndim=dims,
        metric="cos",
        dtype="f32",
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


def usearch_index() -> Any:
    """`usearch.index`, imported on first use, after llama.cpp has read a vocabulary (see
    `prime_before_usearch`: the two wheels' C++ runtimes clash the other way round)."""
    prime_before_usearch()
    return importlib.import_module("usearch.index")


def _moved(stamp: FileStamp, mtime_ns: int, size: int) -> bool:
    return stamp.mtime_ns != mtime_ns or stamp.size != size


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
