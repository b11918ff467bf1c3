"""Rendering minijinja templates (system instructions, prompts, SQL, formatters) against a context.

Undefined values are errors, never empty strings: a typo in a template is a `ConfigError` naming
the file and the line of the template inside it. Values may be lazy Python objects (attribute and
item access is resolved when the template asks), so `{{ databases.local.tables }}` connects to
`local` only in a template that names it.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import minijinja

from oxy.errors import ConfigError
from oxy.execution.sql_literal import sql_literal


@dataclass(frozen=True, slots=True)
class TemplateOrigin:
    """Where a template came from: a file and the line its first character is on."""

    file: str
    line: int | None = None
    key: str | None = None


_UNDEFINED_NAME = re.compile(r"`([^`]+)` is undefined")


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
            # minijinja JSON-escapes output for names ending in .yml/.json; we render plain text.
            auto_escape_callback=_never_escape,
            filters={"sql_literal": sql_literal, **(filters or {})},
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

    def undeclared_variables(self, source: str) -> set[str]:
        """The top-level names `source` reads that it does not set itself (globals included)."""
        if "{" not in source:
            return set()
        try:
            return set(self._env.undeclared_variables_in_str(source))
        except minijinja.TemplateError:
            return set()  # a syntax error: rendering reports it, with its line

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
            raise _config_error(exc, origin, known=context) from None

    async def arender(
        self, source: str, variables: Mapping[str, Any] | None = None, *, origin: TemplateOrigin | None = None
    ) -> str:
        """`render`, in a worker thread when the template may block: naming `databases` connects to one
        and reads its schema, and `context` reads files. Everything else renders on the event loop."""
        if "databases" in source or "context" in source:
            return await anyio.to_thread.run_sync(
                functools.partial(self.render, source, variables, origin=origin)
            )
        return self.render(source, variables, origin=origin)

    async def aeval(
        self,
        expression: str,
        variables: Mapping[str, Any] | None = None,
        *,
        origin: TemplateOrigin | None = None,
    ) -> Any:
        """`eval`, in a worker thread when the expression may block (see `arender`)."""
        if _may_block(expression):
            return await anyio.to_thread.run_sync(
                functools.partial(self.eval, expression, variables, origin=origin)
            )
        return self.eval(expression, variables, origin=origin)

    def eval(
        self,
        expression: str,
        variables: Mapping[str, Any] | None = None,
        *,
        origin: TemplateOrigin | None = None,
    ) -> Any:
        """Evaluate one expression (`loop.value`, `t.col[0]`) keeping its type."""
        context = {**self._globals, **(variables or {})}
        try:
            return self._env.eval_expr(expression, **context)
        except minijinja.TemplateError as exc:
            raise _config_error(exc, origin, known=context) from None


def _may_block(template: str) -> bool:
    """Whether rendering may wait on I/O: `databases.*` connects and reads schemas, `context.*` reads files."""
    return "databases" in template or "context" in template


def may_block(value: Any) -> bool:
    """`_may_block` over every string in a value (lists and dicts too)."""
    if isinstance(value, str):
        return _may_block(value)
    if isinstance(value, list | tuple):
        return any(may_block(v) for v in value)  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return any(may_block(v) for v in value.values())  # pyright: ignore[reportUnknownVariableType]
    return False


def _suggestion(path: str, known: Mapping[str, Any]) -> str:
    """` — did you mean 'context'?` for a misspelt top-level name, else the names there are."""
    if "." in path or "[" in path:
        return ""
    visible = [name for name in known if not name.startswith("__")]  # `__sql_dialect__` and the like
    close = difflib.get_close_matches(path, visible, n=1)
    if close:
        return f" — did you mean {close[0]!r}?"
    names = ", ".join(sorted(visible)) or "none"
    return f" — variables here: {names}"


def _never_escape(name: str) -> bool:
    return False


def _name(origin: TemplateOrigin | None) -> str:
    return origin.file if origin is not None else "<template>"


def _config_error(
    exc: minijinja.TemplateError, origin: TemplateOrigin | None, *, known: Mapping[str, Any]
) -> ConfigError:
    detail = exc.detail or exc.message
    message = f"template error: {detail}"
    undefined = _UNDEFINED_NAME.search(detail)
    if undefined is not None:
        message += _suggestion(undefined.group(1), known)
    if origin is None:
        return ConfigError(message)
    line = origin.line
    if line is not None and exc.line is not None:
        line = line + exc.line - 1
    if origin.key:
        message = f"{origin.key}: {message}"
    return ConfigError(message, file=origin.file, line=line)
