"""Chunks keep their source and lines; documents overlap; a .sql file is found by its questions."""

from __future__ import annotations

from pathlib import Path

from oxy.retrieval.chunks import chunk_file, chunk_text


def test_documents_are_cut_on_lines_with_overlap() -> None:
    text = "\n".join(f"line {i} " + "word " * 9 for i in range(1, 41))  # ten words a line
    chunks = chunk_text(text, source="docs/a.md", size=50, overlap=15)
    assert [(c.start_line, c.end_line) for c in chunks][:3] == [(1, 5), (4, 8), (7, 11)]
    assert chunks[-1].end_line == 40
    assert all(c.source == "docs/a.md" and c.text == c.embed for c in chunks)
    assert chunks[0].text.startswith("line 1 ") and chunks[0].text.endswith("line 5 " + "word " * 8 + "word")


def test_blank_text_has_no_chunks_and_a_long_line_is_one() -> None:
    assert chunk_text("\n  \n", source="x.md") == []
    (chunk,) = chunk_text("\n\n" + "w " * 500, source="x.md", size=50)
    assert (chunk.start_line, chunk.end_line) == (3, 3)


def test_a_sql_file_is_embedded_as_its_query_and_each_question(tmp_path: Path) -> None:
    path = tmp_path / "q.sql"
    path.write_text(
        "/*\n  oxy:\n    embed:\n      - total sales by store\n      - revenue per shop\n*/\nSELECT 1;\n"
    )
    chunks = chunk_file(path, source="queries/q.sql")
    assert [c.embed for c in chunks] == ["SELECT 1;", "total sales by store", "revenue per shop"]
    assert {(c.text, c.start_line, c.end_line) for c in chunks} == {("SELECT 1;", 7, 7)}
