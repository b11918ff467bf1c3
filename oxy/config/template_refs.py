"""Static checks of the templates in project files, so `oxy validate` says first what `oxy run` would.

minijinja lists the top-level names a template reads without rendering it. Two mistakes are
reported: `{{ databases.shop.schemaa }}` (a database or attribute that does not exist: the context's
`databases.<name>` has exactly the attributes below) and, in workflows, a name no variable, task or
loop provides that is close to one (`{{ topp }}` — did you mean 'top'?). Names with no close match
are left alone: they may come from the global context, which this layer does not build.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterator
from typing import Any

import minijinja

from oxy.config._yaml import DataPath

__all__ = [
    "DATABASE_ATTRIBUTES",
    "TEMPLATE_BUILTINS",
    "check_database_refs",
    "close_unknown_names",
    "template_strings",
]

DATABASE_ATTRIBUTES = ("name", "dialect", "tables", "ddl", "schema", "datasets")
"""What `{{ databases.<name>.* }}` offers (oxy.execution.global_context.DatabaseView)."""

TEMPLATE_BUILTINS = frozenset(
    {
        "databases",
        "context",
        "loop",
        "range",
        "dict",
        "namespace",
        "debug",
        "lipsum",
        "cycler",
        "joiner",
        "self",
    }
)
"""Names every workflow template may read besides its variables and tasks (minijinja's own included)."""

_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_DATABASE_REF = re.compile(r"\bdatabases\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_]\w*))?")
_ENV = minijinja.Environment()

Report = Callable[[str, DataPath], None]


def template_strings(data: Any, path: DataPath = ()) -> Iterator[tuple[DataPath, str]]:
    """Every string in `data` that has template syntax, with where it is."""
    if isinstance(data, str):
        if "{{" in data or "{%" in data:
            yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():  # pyright: ignore[reportUnknownVariableType]
            yield from template_strings(value, (*path, str(key)))  # pyright: ignore[reportUnknownArgumentType]
    elif isinstance(data, list):
        for i, value in enumerate(data):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            yield from template_strings(value, (*path, i))


def check_database_refs(text: str, path: DataPath, databases: Collection[str] | None, report: Report) -> None:
    """`databases.<name>.<attribute>` inside a template block must name a database of config.yml and
    one of its attributes (outside one, `FROM databases.orders` is plain SQL)."""
    matches = (m for block in _BLOCK.finditer(text) for m in _DATABASE_REF.finditer(block.group(0)))
    for match in matches:
        name, attribute = match.group(1), match.group(2)
        if databases is not None and name not in databases:
            report(
                f"template: {match.group(0)!r}: no database {name!r} in config.yml{_hint(name, databases)}",
                path,
            )
        elif attribute is not None and attribute not in DATABASE_ATTRIBUTES:
            report(
                f"template: {match.group(0)!r}: databases have no {attribute!r} (they have "
                f"{', '.join(DATABASE_ATTRIBUTES)}){_hint(attribute, DATABASE_ATTRIBUTES)}",
                path,
            )


def close_unknown_names(text: str, known: Collection[str]) -> list[tuple[str, str]]:
    """`(name, the known name it is close to)` for each name the template reads that is not known."""
    try:
        read = _ENV.undeclared_variables_in_str(text)
    except minijinja.TemplateError:
        return []  # a syntax error: rendering reports it with its line
    found: list[tuple[str, str]] = []
    for name in sorted(read):
        if name in known:
            continue
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
        if close:
            found.append((name, close[0]))
    return found


def _hint(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" — did you mean {close[0]!r}?" if close else ""
