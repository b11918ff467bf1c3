"""`.sql` front matter: a leading `/* oxy: ... */` comment, YAML inside, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.config import ConfigErrors, SqlFrontMatter, parse_sql_file
from oxy.config.sql_file import parse_sql_text


def test_one_line_front_matter() -> None:
    sql = parse_sql_text(
        "/* oxy: {database: local, embed: [fruit sales]} */\nSELECT 1;\n", path=Path("q.sql"), file="q.sql"
    )

    assert sql.front_matter == SqlFrontMatter(database="local", embed=["fruit sales"])
    assert (sql.database, sql.sql) == ("local", "SELECT 1;\n")


def test_block_front_matter_with_string_embed(tmp_path: Path) -> None:
    path = tmp_path / "q.sql"
    path.write_text(
        "/*\n oxy:\n    database: local\n    embed: |\n        Calories in fruit\n*/\n\nselect 1\n"
    )

    sql = parse_sql_file(path)

    assert sql.front_matter == SqlFrontMatter(database="local", embed=["Calories in fruit\n"])
    assert sql.sql == "select 1\n"


def test_plain_comment_is_not_front_matter() -> None:
    text = "/* monthly numbers */\nSELECT 1"

    sql = parse_sql_text(text, path=Path("q.sql"), file="q.sql")

    assert (sql.front_matter, sql.database, sql.sql) == (None, None, text)


def test_bad_front_matter_keeps_file_positions() -> None:
    with pytest.raises(ConfigErrors) as caught:
        parse_sql_text(
            "\n/*\n oxy:\n   databse: local\n   embed: {a: 1}\n*/\nselect 1", path=Path("q.sql"), file="q.sql"
        )

    assert [str(e) for e in caught.value.errors] == [
        "q.sql:4:4: unknown key 'databse' — did you mean 'database'?",
        "q.sql:5:11: 'embed' must be a list; got a mapping",
    ]
