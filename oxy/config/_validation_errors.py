"""Turn a pydantic `ValidationError` into `ConfigError`s a person can act on, placed on YAML lines."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from oxy.config._issues import did_you_mean
from oxy.config._locate import Located, field_keys, locate
from oxy.config._yaml import DataPath, YamlDocument, format_path
from oxy.errors import ConfigError

__all__ = ["translate_validation_error"]

_NOUNS = {
    "tasks": "task",
    "else": "task",
    "tools": "tool",
    "databases": "database",
    "models": "model",
    "context": "context",
    "tests": "test",
    "metrics": "metric",
    "integrations": "integration",
}

_SHAPES = {
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def translate_validation_error(
    exc: ValidationError, root: Any, doc: YamlDocument, *, kind: str
) -> list[ConfigError]:
    """One `ConfigError` per problem in `exc` (raised validating `doc.data` as `root`); `kind` names the file."""
    plain: list[tuple[ErrorDetails, Located]] = []
    branches: dict[DataPath, list[tuple[ErrorDetails, Located]]] = {}
    for error in exc.errors(include_url=False):
        located = locate(root, error["loc"])
        if located.branch is None:
            plain.append((error, located))
        else:
            branches.setdefault(located.branch[0], []).append((error, located))
    for at, group in branches.items():
        plain.extend(_pick_branch(at, group))
    out: list[ConfigError] = []
    seen: set[str] = set()
    typos = [(loc.path[:-1], str(loc.path[-1])) for e, loc in plain if e["type"] == "extra_forbidden"]
    for error, located in plain:
        if error["type"] == "missing" and _misspelt(located.path, typos):
            continue  # the unknown key's "did you mean" says it: one error for one typo
        issue = _issue(error, located, doc, kind)
        if str(issue) not in seen:
            seen.add(str(issue))
            out.append(issue)
    return out


def _misspelt(path: DataPath, typos: list[tuple[DataPath, str]]) -> bool:
    """The missing key at `path` is there, misspelt, as one of the unknown keys beside it."""
    return any(parent == path[:-1] and did_you_mean(key, [str(path[-1])]) for parent, key in typos)


def _pick_branch(
    at: DataPath, group: list[tuple[ErrorDetails, Located]]
) -> list[tuple[ErrorDetails, Located]]:
    """Errors of a plain union (`str | list`): the member that took the value's shape, or one summary."""
    by_member: dict[str, list[tuple[ErrorDetails, Located]]] = {}
    for item in group:
        assert item[1].branch is not None
        by_member.setdefault(item[1].branch[1], []).append(item)
    deeper = [errors for errors in by_member.values() if any(len(loc.path) > len(at) for _, loc in errors)]
    if deeper:
        return min(deeper, key=len)
    shapes = [_SHAPES.get(errors[0][0]["type"], label) for label, errors in by_member.items()]
    first, located = group[0]
    summary: ErrorDetails = {
        "type": "oxy_shape",
        "loc": first["loc"],
        "msg": " or ".join(dict.fromkeys(shapes)),
        "input": first["input"],
    }
    return [(summary, located)]


def _issue(error: ErrorDetails, located: Located, doc: YamlDocument, kind: str) -> ConfigError:
    path = located.path
    message, at_key, where = _message(error, located, kind)
    return doc.error(message, where if where is not None else path, at_key=at_key)


def _message(error: ErrorDetails, located: Located, kind: str) -> tuple[str, bool, DataPath | None]:
    """The sentence, whether to point at the key rather than the value, and a path to point at instead."""
    kind_of = error["type"]
    path = located.path
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    name = _name(path)
    if kind_of == "extra_forbidden":
        return _unknown_key(located), True, None
    if kind_of == "missing":
        return f"missing required key {path[-1]!r}", False, path[:-1]
    if kind_of in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = str(ctx.get("discriminator", "'type'")).strip("'")
        if discriminator.endswith("()"):
            discriminator = "type"
        noun = _noun(path, kind)
        tags = _quoted(str(ctx.get("expected_tags", ""))) or list(located.union_tags)
        if kind_of == "union_tag_not_found":
            return (
                f"missing key {discriminator!r}: every {noun} needs one; one of: {', '.join(tags)}",
                False,
                None,
            )
        tag = str(ctx.get("tag"))
        hint = did_you_mean(tag, tags) or f"; expected one of: {', '.join(tags)}"
        return f"unknown {noun} {discriminator} {tag!r}{hint}", False, (*path, discriminator)
    if kind_of in ("literal_error", "enum"):
        options = _quoted(str(ctx.get("expected", "")))
        value = error["input"]
        hint = did_you_mean(value, options) if isinstance(value, str) else ""
        return f"{name} must be one of {', '.join(options)}; got {_describe(value)}{hint}", False, None
    if kind_of in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        text = str(cause) if cause is not None else error["msg"]
        return (f"{name}: {text}" if path else text), False, None
    if kind_of == "oxy_shape":
        return f"{name} must be {error['msg']}; got {_describe(error['input'])}", False, None
    if kind_of in _SHAPES:
        if not path:
            return f"the file must be {_SHAPES[kind_of]}; got {_describe(error['input'])}", False, None
        return f"{name} must be {_SHAPES[kind_of]}; got {_describe(error['input'])}", False, None
    text = error["msg"].replace("Input should be", "must be").replace("Input should have", "must have")
    return f"{name} {text[0].lower()}{text[1:]}; got {_describe(error['input'])}", False, None


def _unknown_key(located: Located) -> str:
    key = str(located.path[-1])
    if located.owner is None:
        return f"unknown key {key!r}"
    allowed = field_keys(located.owner)
    hint = did_you_mean(key, allowed)
    if hint:
        return f"unknown key {key!r}{hint}"
    for tag, sibling in located.siblings:
        if sibling is not located.owner and key in field_keys(sibling):
            return f"unknown key {key!r} here; it belongs to type {tag!r}"
    return f"unknown key {key!r}; valid keys: {', '.join(sorted(allowed))}"


def _name(path: DataPath) -> str:
    """How a message names the value at `path`: `'max_tool_calls'`, `'routes[2]'`, or `the value`."""
    tail: list[str | int] = []
    for part in reversed(path):
        tail.insert(0, part)
        if isinstance(part, str):
            break
    return repr(format_path(tuple(tail))) if tail else "the value"


def _noun(path: DataPath, kind: str) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return _NOUNS.get(part, part)
    return kind


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
