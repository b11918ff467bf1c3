"""A workflow's `variables`: JSON Schemas (draft 7) by name; values given, checked and defaulted.

`resolve_variables(schemas, given, file=...)` fills in each `default`, checks every value against
its schema, and raises a `ConfigError` naming the variable and the rule it breaks:
`procedures/report.procedure.yml: variable 'fruit': 'mango' is not one of ['apple', 'banana'] (enum)`.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from oxy.errors import ConfigError

__all__ = ["resolve_variables"]


def resolve_variables(
    schemas: Mapping[str, Mapping[str, Any]] | None, given: Mapping[str, Any], *, file: str
) -> dict[str, Any]:
    """The workflow's variables: `given` over the defaults, each checked against its schema."""
    schemas = schemas or {}
    for name in given:
        if name not in schemas:
            raise ConfigError(_unknown(name, schemas), file=file)
    values: dict[str, Any] = {}
    for name, schema in schemas.items():
        if name in given:
            values[name] = _coerce(given[name], schema)
        elif "default" in schema:
            values[name] = copy.deepcopy(schema["default"])
        else:
            raise ConfigError(
                f"variable {name!r} has no default and was not given; pass it with -v {name}=VALUE",
                file=file,
            )
        _check(name, values[name], schema, file=file)
    return values


def _unknown(name: str, schemas: Mapping[str, Any]) -> str:
    if not schemas:
        return f"variable {name!r} was given but the workflow declares no variables"
    close = difflib.get_close_matches(name, list(schemas), n=1)
    hint = f" — did you mean {close[0]!r}?" if close else f"; it declares: {', '.join(schemas)}"
    return f"variable {name!r} is not declared by the workflow{hint}"


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    """`-v name=5` parses as a number; a string variable keeps it as text."""
    if schema.get("type") == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _check(name: str, value: Any, schema: Mapping[str, Any], *, file: str) -> None:
    from jsonschema import Draft7Validator  # lazy: jsonschema loads only when a workflow declares variables

    # lazy: jsonschema loads only when a workflow declares variables
    from jsonschema.exceptions import SchemaError, best_match

    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        raise ConfigError(
            f"variable {name!r}: its schema is not valid JSON Schema: {exc.message}", file=file
        ) from None
    error = best_match(Draft7Validator(schema).iter_errors(_plain(value)))
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.absolute_path)
        raise ConfigError(f"variable {name!r}{where}: {error.message} ({error.validator})", file=file)


def _plain(value: Any) -> Any:
    """Lists and tuples as lists, so JSON Schema sees arrays (column values come as lists already)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value
