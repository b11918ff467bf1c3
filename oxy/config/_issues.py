"""Collected config errors, and the wording helpers every check shares."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from oxy.errors import ConfigError

__all__ = ["ConfigErrors", "did_you_mean", "known_names", "sort_errors", "unknown_name"]


class ConfigErrors(ConfigError):
    """Several `ConfigError`s found in one pass; `str()` puts each on its own line.

    Being a `ConfigError` itself, it is caught by `except ConfigError` and shown by the CLI as is.
    """

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        if not errors:
            raise ValueError("ConfigErrors needs at least one error")
        self.errors: tuple[ConfigError, ...] = tuple(sort_errors(errors))
        first = self.errors[0]
        if len(self.errors) == 1:
            super().__init__(
                first.message, file=first.file, line=first.line, column=first.column, key=first.key
            )
        else:
            lines = "\n".join(str(error) for error in self.errors)
            super().__init__(f"{len(self.errors)} errors in project files:\n{lines}")


def sort_errors(errors: Iterable[ConfigError]) -> list[ConfigError]:
    """By file, then line, then column; errors without a location keep their order, first."""
    return sorted(errors, key=lambda e: (e.file or "", e.line or 0, e.column or 0))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` — did you mean 'x'?` when a choice is close to `word`, else ``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def known_names(names: Iterable[str]) -> str:
    """`local, warehouse`, or `none` for an empty list."""
    listed = ", ".join(names)
    return listed or "none"


def unknown_name(kind: str, name: str, known: Sequence[str]) -> str:
    """`Database 'x' not found in config.yml; known: local, warehouse — did you mean 'local'?`"""
    return f"{kind} {name!r} not found in config.yml; known: {known_names(known)}{did_you_mean(name, known)}"
