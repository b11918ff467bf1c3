"""Templates in workflow files: where each one is written, and rendering values that keep their type.

A value that is exactly one `{{ expr }}` (`"{{ calories.calories }}"`, `"{{ t.col[0] }}"`) is
evaluated, not rendered, so a list stays a list and a number a number; any other string is rendered
to text. Errors name the workflow file and the line the template is on.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio

from oxy.config._yaml import DataPath, YamlDocument, format_path, load_yaml
from oxy.execution.templates import Renderer, TemplateOrigin, may_block

__all__ = ["Origins", "arender_value", "exact_expression", "render_value"]

_EXACT = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)
_BLOCK = re.compile(r"^[|>][+-]?\d*\s*(#.*)?$")


def exact_expression(text: str) -> str | None:
    """`expr` when `text` is exactly `{{ expr }}` (surrounding spaces allowed), else None."""
    match = _EXACT.match(text)
    return match.group("expr").strip() if match else None


def render_value(
    renderer: Renderer, value: Any, variables: Mapping[str, Any], *, origin: TemplateOrigin | None
) -> Any:
    """Render every string in `value` (lists and dicts too); exactly `{{ expr }}` keeps its type."""
    if isinstance(value, str):
        expr = exact_expression(value)
        if expr is not None:
            return renderer.eval(expr, variables, origin=origin)
        return renderer.render(value, variables, origin=origin)
    if isinstance(value, list):
        return [render_value(renderer, v, variables, origin=origin) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return {k: render_value(renderer, v, variables, origin=origin) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value


async def arender_value(
    renderer: Renderer, value: Any, variables: Mapping[str, Any], *, origin: TemplateOrigin | None
) -> Any:
    """`render_value`, in a worker thread when a template in it may block (names `databases` or `context`)."""
    if may_block(value):
        render = functools.partial(render_value, renderer, value, variables, origin=origin)
        return await anyio.to_thread.run_sync(render)
    return render_value(renderer, value, variables, origin=origin)


class Origins:
    """Where each key of a workflow file is written, for template errors with a line."""

    def __init__(self, file: str, doc: YamlDocument | None, lines: list[str]) -> None:
        self.file = file
        self._doc = doc
        self._lines = lines

    @classmethod
    def load(cls, path: Path, *, file: str) -> Origins:
        doc = load_yaml(path, file=file)
        return cls(file, doc, path.read_text(encoding="utf-8").splitlines())

    @classmethod
    def unknown(cls, file: str) -> Origins:
        return cls(file, None, [])

    def of(self, path: DataPath) -> TemplateOrigin:
        """The origin of the template at `path` (its first character's line; `|` blocks start below)."""
        key = format_path(path) or None
        if self._doc is None:
            return TemplateOrigin(file=self.file, key=key)
        pos = self._doc.values.get(path)
        if pos is None:
            found = self._doc.position(path)
            return TemplateOrigin(file=self.file, line=found.line if found else None, key=key)
        line = pos.line
        if 0 < line <= len(self._lines) and _BLOCK.match(self._lines[line - 1][pos.column - 1 :].strip()):
            line += 1
        return TemplateOrigin(file=self.file, line=line, key=key)
