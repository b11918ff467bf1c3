"""Paths named in project files, templates and requests, kept inside the project folder.

Every path oxy derives from a project file (a context's `src`, a database's `dataset`, a task's
`agent_ref`), from a rendered template (`export: {path: "out/{{ customer }}.csv"}`) or from a request
goes through `confine` (one path) or `confine_glob` (a pattern): it is resolved, symbolic links
included, and one that ends up outside the project root is a `ConfigError` naming the file, the value
and the fix. An absolute path is fine when it lies inside the root.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

from oxy.errors import ConfigError

__all__ = ["confine", "confine_glob"]

_FIX = "keep paths inside the project folder"


def confine(
    root: Path, ref: str | PurePath, *, what: str, file: str | None = None, line: int | None = None
) -> Path:
    """`ref` (relative to `root`, or absolute) resolved, links followed; a `ConfigError` if it leaves `root`.

    `what` names the value in the message (`export path`, `context 'docs' src`), `file` and `line` where
    it was written.
    """
    _check_text(str(ref), what=what, file=file, line=line)
    base = root.resolve()
    target = _resolve(base / ref, str(ref), what=what, file=file, line=line)
    if not target.is_relative_to(base):
        raise _outside(base, str(ref), what=what, file=file, line=line)
    return target


def confine_glob(
    root: Path,
    pattern: str,
    *,
    what: str,
    file: str | None = None,
    line: int | None = None,
    strict: bool = True,
) -> list[Path]:
    """The files matching `pattern` (relative to `root`, or absolute inside it), sorted.

    A pattern that leaves `root` is a `ConfigError`. A match that leads outside through a symbolic link
    is one too when `strict`, and is left out otherwise (listing the project's files).
    """
    _check_text(pattern, what=what, file=file, line=line)
    base = root.resolve()
    full = os.path.normpath(base / pattern.removeprefix("./"))
    if not Path(full).is_relative_to(base):
        raise _outside(base, pattern, what=what, file=file, line=line)
    relative = Path(full).relative_to(base).as_posix()
    if relative == ".":
        return []
    try:
        matches = list(base.glob(relative))
    except ValueError as exc:  # `a**b`: a malformed pattern
        raise ConfigError(f"{what} {pattern!r} is not a valid glob: {exc}", file=file, line=line) from None
    found: list[Path] = []
    for path in matches:
        if not path.is_file():
            continue
        target = _resolve(path, pattern, what=what, file=file, line=line)
        if target.is_relative_to(base):
            found.append(path)
        elif strict:
            name = path.relative_to(base).as_posix()
            raise ConfigError(
                f"{what} {pattern!r} matches {name!r}, a link that leads outside the project folder; {_FIX}",
                file=file,
                line=line,
            )
    return sorted(found)


def _check_text(ref: str, *, what: str, file: str | None, line: int | None) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in ref):
        raise ConfigError(
            f"{what} {ref!r} holds a control character (a newline, NUL, ...); "
            "paths may not, so remove it from the value",
            file=file,
            line=line,
        )


def _resolve(path: Path, ref: str, *, what: str, file: str | None, line: int | None) -> Path:
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 raises it for a loop of symbolic links
        raise ConfigError(f"{what} {ref!r} is a loop of symbolic links", file=file, line=line) from None
    except OSError as exc:
        raise ConfigError(
            f"{what} {ref!r} cannot be resolved: {exc.strerror}", file=file, line=line
        ) from None


def _outside(base: Path, ref: str, *, what: str, file: str | None, line: int | None) -> ConfigError:
    if Path(os.path.normpath(base / ref)).is_relative_to(base):
        how = "leads outside the project folder through a symbolic link"
    else:
        how = "is outside the project folder"
    return ConfigError(f"{what} {ref!r} {how}; {_FIX}", file=file, line=line)
