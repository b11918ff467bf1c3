"""A 'billion laughs' YAML document: a few lines of nested aliases (issue 9, item 8)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from oxy.cli import cli
from oxy.config._yaml import parse_yaml

BOMB = """\
variables:
  a: &a {type: string, default: "lol"}
  b: &b {x1: *a, x2: *a, x3: *a, x4: *a, x5: *a, x6: *a, x7: *a, x8: *a, x9: *a}
  c: &c {x1: *b, x2: *b, x3: *b, x4: *b, x5: *b, x6: *b, x7: *b, x8: *b, x9: *b}
  d: &d {x1: *c, x2: *c, x3: *c, x4: *c, x5: *c, x6: *c, x7: *c, x8: *c, x9: *c}
  e: &e {x1: *d, x2: *d, x3: *d, x4: *d, x5: *d, x6: *d, x7: *d, x8: *d, x9: *d}
  f: &f {x1: *e, x2: *e, x3: *e, x4: *e, x5: *e, x6: *e, x7: *e, x8: *e, x9: *e}
  g: &g {x1: *f, x2: *f, x3: *f, x4: *f, x5: *f, x6: *f, x7: *f, x8: *f, x9: *f}
tasks: []
"""


def test_an_alias_bomb_is_refused_when_loaded(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text("databases: []\n")
    (tmp_path / "bomb.workflow.yml").write_text(BOMB)
    result = CliRunner().invoke(cli, ["validate", "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        "bomb.workflow.yml:7: the document expands to more than 100,000 values through its aliases"
        in result.output
    )


def test_ordinary_aliases_still_load() -> None:
    doc = parse_yaml("base: &b {type: string}\nother: *b\nlist: [*b, *b]\n", file="x.yml")
    assert doc.data == {
        "base": {"type": "string"},
        "other": {"type": "string"},
        "list": [{"type": "string"}] * 2,
    }


def test_a_long_string_repeated_by_aliases_is_refused() -> None:
    """Few values, but each a 100 KB string: weighed by characters, not only by count."""
    import pytest

    from oxy.errors import ConfigError

    long = "x" * 100_000
    text = f"a: &a '{long}'\nb: &b [{', '.join(['*a'] * 300)}]\nc: [{', '.join(['*b'] * 300)}]\n"
    with pytest.raises(ConfigError, match="expands to more than 20,000,000 characters"):
        parse_yaml(text, file="big.yml")
