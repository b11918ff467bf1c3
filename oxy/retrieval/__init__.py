"""Retrieval: project files chunked, embedded and indexed (`oxy build`), searched by the retrieval tool."""

from oxy.retrieval.chunks import Chunk, chunk_file, chunk_text
from oxy.retrieval.index import Hit, VectorIndex

__all__ = ["Chunk", "Hit", "VectorIndex", "chunk_file", "chunk_text"]
