"""`package.module:callable` references (a `type: python` tool's `function`), resolved from the project.

The module is imported with the project folder first on `sys.path`, so a project's own `tools.py`
works without installing anything. Every way it can fail is a `ConfigError` that says what to fix.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oxy.errors import ConfigError

__all__ = ["resolve_callable"]


def resolve_callable(
    spec: str, *, root: Path, file: str | None = None, line: int | None = None
) -> Callable[..., Any]:
    """The callable that `spec` (`package.module:attr.path`) names, imported from `root`."""
    module_name, _, attr_path = spec.partition(":")
    folder = str(root.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        raise ConfigError(
            f"function {spec!r}: no module named {missing!r}; put {module_name.replace('.', '/')}.py in the "
            "project folder or install the package that provides it",
            file=file,
            line=line,
        ) from None
    except Exception as exc:  # the user's module failed while importing: say so in one line
        raise ConfigError(
            f"function {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}",
            file=file,
            line=line,
        ) from None
    value: Any = module
    for part in attr_path.split("."):
        if not hasattr(value, part):
            names = sorted(n for n in dir(value) if not n.startswith("_"))

            close = difflib.get_close_matches(part, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"function {spec!r}: {module_name!r} has no attribute {part!r}{hint}", file=file, line=line
            )
        value = getattr(value, part)
    if not callable(value):
        raise ConfigError(
            f"function {spec!r} names a value of type {type(value).__name__}, not a function; name a callable",
            file=file,
            line=line,
        )
    return value
