from __future__ import annotations

import pytest

from oxy.databases.table import TableOutput
from oxy.errors import ConfigError
from oxy.execution.templates import Renderer, TemplateOrigin


def test_renders_plain_text_without_json_escaping_yaml_named_templates() -> None:
    r = Renderer(globals={"who": "world"})
    origin = TemplateOrigin(file="agents/a.agent.yml", line=4)
    assert r.render('Hello {{ who }} & "friends"', origin=origin) == 'Hello world & "friends"'


def test_undefined_name_is_a_config_error_at_the_template_line_in_its_file() -> None:
    r = Renderer()
    origin = TemplateOrigin(file="agents/a.agent.yml", line=10, key="system_instructions")
    with pytest.raises(ConfigError) as info:
        r.render("line one\n{{ contxt.x }}", {"context": {}}, origin=origin)
    err = info.value
    assert (err.file, err.line) == ("agents/a.agent.yml", 11)
    assert str(err) == (
        "agents/a.agent.yml:11: system_instructions: template error: `contxt` is undefined — did you mean 'context'?"
    )


def test_variables_override_globals_and_expressions_keep_types() -> None:
    r = Renderer(globals={"n": 1})
    assert r.render("{{ n }}", {"n": 2}) == "2"
    assert r.eval("xs[1] + 1", {"xs": [1, 2]}) == 3


def test_table_output_renders_markdown_and_exposes_columns() -> None:
    t = TableOutput(columns=("name", "sales"), rows=(("apple", 325), ("kiwi", 120)))
    r = Renderer()
    assert r.render("{{ t }}", {"t": t}) == "| name | sales |\n| --- | --- |\n| apple | 325 |\n| kiwi | 120 |"
    assert r.eval("t.sales", {"t": t}) == [325, 120]
    assert r.render("{{ t.name[0] }}", {"t": t}) == "apple"
    with pytest.raises(ConfigError, match="undefined"):
        r.render("{{ t.nope }}", {"t": t})


def test_sql_literal_quotes_for_the_dialect_and_cannot_be_broken_out_of() -> None:
    from oxy.execution.sql_literal import SQL_DIALECT_VARIABLE

    renderer = Renderer()
    attack = "x' OR '1'='1"
    template = "select * from t where name = {{ v | sql_literal }}"
    assert renderer.render(template, {"v": attack}) == "select * from t where name = 'x'' OR ''1''=''1'"
    mysql = {"v": "a\\' OR 1=1 -- ", SQL_DIALECT_VARIABLE: "mysql"}
    assert renderer.render(template, mysql) == "select * from t where name = 'a\\\\'' OR 1=1 -- '"
    assert renderer.render("{{ v | sql_literal('mysql') }}", {"v": "a\\b"}) == "'a\\\\b'"
    values = {"n": 42, "f": 1.5, "none": None, "yes": True, "ids": [1, "two"]}
    shown = renderer.render(
        "{{ n | sql_literal }} {{ f | sql_literal }} {{ none | sql_literal }} {{ yes | sql_literal }} {{ ids | sql_literal }}",
        values,
    )
    assert shown == "42 1.5 NULL TRUE (1, 'two')"
