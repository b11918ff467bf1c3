"""Secrets come from environment variables named in project files (`key_var`, `password_var`, ...), never
from the files themselves, and are never part of a message."""

from __future__ import annotations

import os
import re
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from oxy.errors import ConfigError

__all__ = ["is_env_var_name", "redact_url", "resolve_secret", "url_secrets"]

_SECRET_PARAMS = re.compile(r"(key|token|secret|password|passwd|pwd|auth|signature|sig|credential)", re.I)

_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_env_var_name(value: str) -> bool:
    """Whether `value` can be an environment variable's name (and so is not a pasted secret)."""
    return _ENV_VAR.fullmatch(value) is not None


def resolve_secret(var_name: str, *, file: str | None = "config.yml", key: str | None = None) -> str:
    """The value of the environment variable `var_name`.

    Raises `ConfigError` naming the variable and the key that names it (never a value) when it is unset
    or empty, or when `var_name` cannot be a variable's name (a pasted secret, which is not echoed).
    """
    named_by = f" ({key} names it)" if key else ""
    if not is_env_var_name(var_name):
        where = key or "a *_var key"
        raise ConfigError(
            f"{where} must name an environment variable (letters, digits and _), not hold the secret itself",
            file=file,
            key=key,
        )
    value = os.environ.get(var_name)
    if not value:
        state = "is empty" if value == "" else "is not set"
        raise ConfigError(
            f"environment variable {var_name!r} {state}{named_by}; export it before running oxy",
            file=file,
            key=key,
        )
    return value


def url_secrets(url: str) -> tuple[str, ...]:
    """The credentials written into a URL: the password of `user:password@host` (or the user name alone,
    `token@host`), and the values of query parameters named like keys (`?api-key=...`, `&token=...`),
    each as written and decoded."""
    parts = urlsplit(url)
    found: list[str] = []
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        user, _, password = userinfo.partition(":")
        for raw in (password,) if password else (user,):
            found.extend([raw, unquote(raw), unquote_plus(raw)])
    for pair in parts.query.split("&"):
        name, _, raw = pair.partition("=")
        if raw and _SECRET_PARAMS.search(unquote_plus(name)):
            found.extend([raw, unquote(raw), unquote_plus(raw), quote(unquote_plus(raw), safe="")])
    return tuple(sorted(dict.fromkeys(v for v in found if len(v) >= 3), key=len, reverse=True))


def redact_url(url: str) -> str:
    """`url` with its credentials replaced by `***`, for messages."""
    for secret in url_secrets(url):
        url = url.replace(secret, "***")
    return url
