"""`ServerSpec`: one MCP server as oxy connects to it, resolved from the project's files (secrets read
from the environment, paths made absolute), and how an agent uses it (`ToolFilter`)."""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oxy.config.mcp import DEFAULT_MAX_OUTPUT_CHARS, McpServerKeys
from oxy.config.models import EnvVarHeader, HeaderValue
from oxy.config.secrets import redact_url, resolve_secret, url_secrets

__all__ = ["ServerSpec", "ToolFilter", "resolve_spec", "tool_filter"]

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, kw_only=True)
class ServerSpec:
    """Where an MCP server is and how long oxy waits for it. Two specs with the same `key` share one
    connection (one server process) in a runtime."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict[str, str], repr=False)
    cwd: Path | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict[str, str], repr=False)
    connect_timeout: float = DEFAULT_TIMEOUT
    list_timeout: float = DEFAULT_TIMEOUT
    max_concurrency: int | None = None
    log_path: Path | None = None
    """Where a stdio server's stderr goes (appended; the last lines explain a failed start)."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    written: str | None = None
    """The command as the project file wrote it (`python`), for messages."""
    """Values read from the environment or written in a URL: never shown in a message."""

    @property
    def key(self) -> Hashable:
        return (
            self.name,
            self.connect_timeout,
            self.list_timeout,
            self.max_concurrency,
            self.command,
            self.args,
            tuple(sorted(self.env.items())),
            self.cwd,
            self.url,
            tuple(sorted(self.headers.items())),
        )

    @property
    def stdio(self) -> bool:
        return self.command is not None

    def describe(self) -> str:
        """`'time' (python -m mcp_server_time)`: how messages name the server, secrets left out."""
        where = (
            " ".join((self.written or self.command or "", *self.args))
            if self.stdio
            else redact_url(self.url or "")
        )
        if len(where) > 120:
            where = where[:117] + "..."
        return f"MCP server {self.name!r} ({where})"

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


@dataclass(frozen=True, kw_only=True)
class ToolFilter:
    """Which of a server's tools an agent sees, under which names, and how their results are bounded."""

    prefix: str
    allow: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS

    def admits(self, tool: str) -> bool:
        if self.allow is not None and not any(fnmatch.fnmatchcase(tool, p) for p in self.allow):
            return False
        return not any(fnmatch.fnmatchcase(tool, p) for p in self.exclude)


_NAME_PART = re.compile(r"[^A-Za-z0-9_-]+")


def resolve_spec(
    name: str,
    keys: Sequence[McpServerKeys],
    *,
    root: Path,
    file: str,
    key_path: str,
    python_is_oxys: bool = True,
) -> ServerSpec:
    """The server the last of `keys` declares (the others, e.g. the agent's entry, may set its timeouts
    first), its `{env_var: NAME}` values read now (an unset one is a `ConfigError` naming the variable and
    the key, never a value). With `python_is_oxys`, a `command` of `python` or `python3` is the interpreter
    running oxy (so a server pip-installed beside oxy is found); a server from an MCP JSON file means
    the one on PATH, as other clients read that file."""
    server = keys[-1]
    secrets: list[str] = []

    def values(kind: str, given: Mapping[str, HeaderValue] | None) -> dict[str, str]:
        resolved: dict[str, str] = {}
        for key, value in (given or {}).items():
            if isinstance(value, EnvVarHeader):
                value = resolve_secret(value.env_var, file=file, key=f"{key_path}.{kind}.{key}")
                secrets.append(value)
            resolved[key] = value
        return resolved

    env = values("env", server.env)
    headers = values("headers", server.headers)
    if server.url is not None:
        secrets.extend(url_secrets(server.url))
    return ServerSpec(
        name=name,
        command=sys.executable
        if python_is_oxys and server.command in ("python", "python3")
        else server.command,
        args=tuple(server.args),
        env=env,
        cwd=(root / server.cwd) if server.cwd is not None else (root if server.command else None),
        url=server.url,
        headers=headers,
        connect_timeout=_first(keys, "connect_timeout") or DEFAULT_TIMEOUT,
        list_timeout=_first(keys, "list_timeout") or DEFAULT_TIMEOUT,
        max_concurrency=_first(keys, "max_concurrency"),
        log_path=root / ".oxy" / "mcp" / f"{_NAME_PART.sub('_', name)}.log" if server.command else None,
        secrets=tuple(secrets),
        written=server.command,
    )


def _first(keys: Sequence[McpServerKeys], attr: str) -> Any:
    """The value of `attr` in the first of `keys` that sets it."""
    return next((getattr(k, attr) for k in keys if getattr(k, attr) is not None), None)


def tool_filter(default_prefix: str, keys: Sequence[McpServerKeys]) -> ToolFilter:
    """How an agent sees the server: each key from the first of `keys` (its entry, then the server) that
    sets it."""
    allow: list[str] | None = _first(keys, "tools")
    prefix: str | None = _first(keys, "prefix")
    return ToolFilter(
        prefix=default_prefix if prefix is None else prefix,
        allow=None if allow is None else tuple(allow),
        exclude=tuple(next((k.exclude for k in keys if k.exclude), [])),
        timeout=_first(keys, "timeout") or DEFAULT_TIMEOUT,
        max_output_chars=_first(keys, "max_output_chars") or DEFAULT_MAX_OUTPUT_CHARS,
    )
