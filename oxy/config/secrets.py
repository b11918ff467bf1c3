"""Secrets come from environment variables named in project files (`key_var`, `password_var`, ...), never
from the files themselves, and are never part of a message."""

from __future__ import annotations

import os

from oxy.errors import ConfigError

__all__ = ["resolve_secret"]


def resolve_secret(var_name: str, *, file: str | None = "config.yml", key: str | None = None) -> str:
    """The value of the environment variable `var_name`.

    Raises `ConfigError` naming the variable and the key that names it (never a value) when it is unset
    or empty.
    """
    value = os.environ.get(var_name)
    if not value:
        state = "is empty" if value == "" else "is not set"
        named_by = f" ({key} names it)" if key else ""
        raise ConfigError(
            f"environment variable {var_name!r} {state}{named_by}; export it before running oxy",
            file=file,
            key=key,
        )
    return value
