"""Filling a registry: import the modules that register themselves, and the plugins other packages name.

Tool types, task types, model vendors and database types are registries keyed by the config's `type` or
`vendor`; each built-in registers itself beside its implementation when its module is imported, and an
installed package adds its own through an entry-point group (the entry point names a module whose
import registers it)."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

__all__ = ["load_plugins"]


def load_plugins(group: str, *, package: str | None = None) -> None:
    """Import every module of `package` (if given), then every entry point of `group`."""
    if package is not None:
        found = importlib.import_module(package)
        for module in pkgutil.iter_modules(found.__path__):
            importlib.import_module(f"{package}.{module.name}")
    for entry in entry_points(group=group):
        entry.load()
