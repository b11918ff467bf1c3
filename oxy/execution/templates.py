"""Rendering minijinja templates (system instructions, prompts, SQL, formatters) against a context.

Undefined values are errors, never empty strings: a typo in a template is a `ConfigError` naming
the file and the line of the template inside it. Values may be lazy Python objects (attribute and
item access is resolved when the template asks), so `{{ databases.local.tables }}` connects to
`local` only in a template that names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import minijinja

from oxy.errors import ConfigError


@dataclass(frozen=True, slots=True)
class TemplateOrigin:
    """Where a template came from: a file and the line its first character is on."""

    file: str
    line: int | None = None
    key: str | None = None


_UNDEFINED = re.compile(r"undefined value")


class Renderer:
    """A minijinja environment in strict mode, with oxy's filters and a global context."""

    def __init__(
        self,
        *,
        globals: Mapping[str, Any] | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self._env = minijinja.Environment(
            undefined_behavior="strict",
            keep_trailing_newline=True,
            filters=dict(filters or {}),
        )
        self._globals: dict[str, Any] = dict(globals or {})

    @property
    def globals(self) -> Mapping[str, Any]:
        return self._globals

    def with_globals(self, extra: Mapping[str, Any]) -> Renderer:
        """A renderer sharing this one's filters, with `extra` added to the global context."""
        clone = Renderer.__new__(Renderer)
        clone._env = self._env
        clone._globals = {**self._globals, **extra}
        return clone

    def render(
        self, source: str, variables: Mapping[str, Any] | None = None, *, origin: TemplateOrigin | None = None
    ) -> str:
        """Render `source`; fast path for text with no template syntax at all."""
        if "{" not in source:
            return source
        context = {**self._globals, **(variables or {})}
        try:
            return self._env.render_str(source, _name(origin), **context)
        except minijinja.TemplateError as exc:
            raise _config_error(exc, origin) from None

    def eval(
        self, expression: str, variables: Mapping[str, Any] | None = None, *, origin: TemplateOrigin | None = None
    ) -> Any:
        """Evaluate one expression (`loop.value`, `t.col[0]`) keeping its type."""
        context = {**self._globals, **(variables or {})}
        try:
            return self._env.eval_expr(expression, **context)
        except minijinja.TemplateError as exc:
            raise _config_error(exc, origin) from None


def _name(origin: TemplateOrigin | None) -> str:
    return origin.file if origin is not None else "<template>"


def _config_error(exc: minijinja.TemplateError, origin: TemplateOrigin | None) -> ConfigError:
    detail = exc.detail or exc.message
    message = f"template error: {detail}"
    if _UNDEFINED.search(message):
        message += " — check the name for a typo; see the variables this template can use in docs/templates.md"
    if origin is None:
        return ConfigError(message)
    line = origin.line
    if line is not None and exc.line is not None:
        line = line + exc.line - 1
    if origin.key:
        message = f"{origin.key}: {message}"
    return ConfigError(message, file=origin.file, line=line)
