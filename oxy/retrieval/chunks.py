"""Chunks: what gets embedded, and what a search hit gives back, with the source and lines it came from.

Documents are cut into overlapping chunks of about `size` words on line boundaries, so a hit can say
`docs/returns.md:12-30`. A `.sql` file is one chunk (its query), embedded once for its text and once
more for each question in its front matter's `embed:` list, as Oxy does: a question that matches
finds the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from oxy.config.sql_file import parse_sql_text

__all__ = ["Chunk", "chunk_file", "chunk_text"]


@dataclass(frozen=True, slots=True)
class Chunk:
    source: str
    """Project-relative file."""
    start_line: int
    end_line: int
    text: str
    """What a hit returns."""
    embed: str
    """What is embedded for it (the text itself, or one of a query's `embed:` questions)."""


def chunk_text(text: str, *, source: str, size: int = 120, overlap: int = 30) -> list[Chunk]:
    """`text` in chunks of about `size` words (whole lines), each starting `overlap` words before the
    previous one ended; blank-only text gives none."""
    lines = _lines(text)
    words = [max(len(line.split()), len(line) // MAX_WORD_CHARS) for line in lines]
    chunks: list[Chunk] = []
    start = 0
    while start < len(lines):
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start >= len(lines):
            break
        end, count = start, 0
        while end < len(lines) and (count < size or end == start):
            count += words[end]
            end += 1
        body = "\n".join(lines[start:end]).strip()
        chunks.append(Chunk(source, start + 1, end, body, body))
        if end >= len(lines):
            break
        back, kept = end, 0  # the next chunk starts `overlap` words back, but always moves on
        while back > start + 1 and kept < overlap:
            back -= 1
            kept += words[back]
        start = back
    return chunks


MAX_WORD_CHARS = 12
"""A line counts as at least one word per this many characters: text without spaces (CJK, a long
URL, minified code) still makes chunks of bounded size."""


def _lines(text: str) -> list[str]:
    """Lines as an editor numbers them: split on newlines only (not form feeds, U+2028, ...)."""
    lines = text.replace("\r\n", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def chunk_file(path: Path, *, source: str, size: int = 120, overlap: int = 30) -> list[Chunk]:
    """The chunks of one file (read as UTF-8; undecodable bytes replaced)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if source.endswith(".sql"):
        return _sql_chunks(text, path=path, source=source)
    return chunk_text(text, source=source, size=size, overlap=overlap)


def _sql_chunks(text: str, *, path: Path, source: str) -> list[Chunk]:
    parsed = parse_sql_text(text, path=path, file=source)
    query = parsed.sql.strip()
    if not query:
        return []
    first = text[: text.find(query)].count("\n") + 1 if query in text else 1
    last = first + query.count("\n")
    questions = parsed.front_matter.embed if parsed.front_matter is not None else []
    return [Chunk(source, first, last, query, embed) for embed in [query, *questions]]
