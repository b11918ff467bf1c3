"""Position-tracking YAML: every key and value has a line and column; broken YAML is one located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.config._yaml import Position, format_path, load_yaml, parse_yaml
from oxy.errors import ConfigError

TEXT = """\
model: small
tools:
  - name: sql
    type: execute_sql
  - {name: chart, type: visualize}
"""


def test_positions_of_keys_and_values() -> None:
    doc = parse_yaml(TEXT, file="a.agent.yml")

    assert doc.data == {
        "model": "small",
        "tools": [{"name": "sql", "type": "execute_sql"}, {"name": "chart", "type": "visualize"}],
    }
    assert doc.position(("model",)) == Position(1, 8)
    assert doc.position(("model",), at_key=True) == Position(1, 1)
    assert doc.position(("tools", 0, "type")) == Position(4, 11)
    assert doc.position(("tools", 1, "type")) == Position(5, 25)
    assert doc.position(("tools", 1, "nothing", "here")) == Position(5, 5)


def test_error_is_located() -> None:
    doc = parse_yaml(TEXT, file="a.agent.yml")

    error = doc.error("bad", ("tools", 0, "name"))

    assert (str(error), error.key) == ("a.agent.yml:3:11: bad", "tools[0].name")


def test_broken_yaml() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: 1\n  b: 2\n", file="x.yml")

    assert str(caught.value) == (
        "x.yml:2:4: invalid YAML: mapping values are not allowed in this context — check this line's "
        "indentation against the line above (a key indented deeper than its siblings), or quote a value "
        "that contains ': '"
    )


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("tasks:\n  - name: a\n    name: b\n", file="w.workflow.yml")

    assert str(caught.value) == "w.workflow.yml:3:5: duplicate key 'name' (first written at line 2); keep one"


def test_empty_document() -> None:
    assert parse_yaml("# nothing\n", file="x.yml").data is None


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "latin1.yml").write_bytes(b"a: \xe9\n")

    with pytest.raises(ConfigError, match=r"^gone\.yml: file not found$"):
        load_yaml(tmp_path / "gone.yml", file="gone.yml")
    with pytest.raises(ConfigError, match=r"^latin1\.yml: file is not UTF-8 text"):
        load_yaml(tmp_path / "latin1.yml", file="latin1.yml")


def test_format_path() -> None:
    assert format_path(("tasks", 2, "tasks", 0, "database")) == "tasks[2].tasks[0].database"
    assert format_path(()) == ""


def test_recursive_alias_does_not_loop() -> None:
    doc = parse_yaml("a: &x [1, *x]\nb: *x\n", file="x.yml")

    assert doc.data["a"][1] is doc.data["a"]
    assert doc.position(("b",), at_key=True) == Position(2, 1)
    assert doc.position(("b",)) == Position(1, 4)  # an alias's value is where its anchor was written
