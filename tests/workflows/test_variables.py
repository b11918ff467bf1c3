"""Workflow variables: JSON Schemas with defaults; a wrong value names the variable and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from oxy.errors import ConfigError
from oxy.workflows import resolve_variables

SCHEMAS: dict[str, dict[str, Any]] = {
    "fruit": {"type": "string", "enum": ["apple", "banana"], "default": "apple"},
    "calories": {"type": "array", "items": {"type": "number"}, "default": [80, 105]},
    "limit": {"type": "integer", "minimum": 1},
}


def test_defaults_fill_in_and_given_values_win() -> None:
    assert resolve_variables(SCHEMAS, {"limit": 3}, file="w.yml") == {
        "fruit": "apple",
        "calories": [80, 105],
        "limit": 3,
    }
    assert resolve_variables(SCHEMAS, {"fruit": "banana", "calories": (1, 2.5), "limit": 1}, file="w.yml")[
        "calories"
    ] == (1, 2.5)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"fruit": "mango", "limit": 1},
            "w.yml: variable 'fruit': 'mango' is not one of ['apple', 'banana'] (enum)",
        ),
        ({"limit": 0}, "w.yml: variable 'limit': 0 is less than the minimum of 1 (minimum)"),
        ({"limit": "3"}, "w.yml: variable 'limit': '3' is not of type 'integer' (type)"),
        (
            {"calories": [1, "x"], "limit": 1},
            "w.yml: variable 'calories'[1]: 'x' is not of type 'number' (type)",
        ),
        ({}, "w.yml: variable 'limit' has no default and was not given; pass it with -v limit=VALUE"),
        (
            {"fruits": "apple", "limit": 1},
            "w.yml: variable 'fruits' is not declared by the workflow — did you mean 'fruit'?",
        ),
    ],
)
def test_wrong_values_name_the_variable_and_the_rule(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_variables(SCHEMAS, given, file="w.yml")
    assert str(caught.value) == message


def test_a_number_given_for_a_string_variable_is_text() -> None:
    assert resolve_variables({"code": {"type": "string"}}, {"code": 42}, file="w.yml") == {"code": "42"}


def test_a_workflow_without_variables_takes_none() -> None:
    assert resolve_variables(None, {}, file="w.yml") == {}
    with pytest.raises(ConfigError, match="'x' was given but the workflow declares no variables"):
        resolve_variables(None, {"x": 1}, file="w.yml")


def test_a_broken_schema_is_reported() -> None:
    with pytest.raises(ConfigError, match="variable 'x': its schema is not valid JSON Schema"):
        resolve_variables({"x": {"type": "strng", "default": "a"}}, {}, file="w.yml")
