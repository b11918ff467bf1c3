"""MCP servers an agent may use: declared in an agent's `tools:` (`type: mcp`) or once in config.yml
(`mcp_servers:`, a list of the same keys or the path of a standard `mcpServers` JSON file, as Claude
Desktop and Cursor write it), and referred to by name.

A server is a command oxy starts (stdio: `command`, `args`, `env`, `cwd`) or a URL it connects to
(streamable HTTP: `url`, `headers`). Values in `env` and `headers` are literal strings or
`{env_var: NAME}`, read when the server is started and never logged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from oxy.config._base import StrictModel
from oxy.config._common import StrList
from oxy.config._paths import confine
from oxy.config.models import EnvVarHeader, HeaderValue
from oxy.errors import ConfigError

__all__ = [
    "DEFAULT_MAX_OUTPUT_CHARS",
    "McpServerConfig",
    "McpServerKeys",
    "load_mcp_servers_file",
    "mcp_server_names",
    "project_mcp_servers",
]

DEFAULT_MAX_OUTPUT_CHARS = 20_000

Seconds = Annotated[float, Field(gt=0)]


class McpServerKeys(StrictModel):
    """The keys of one MCP server (all optional here; `McpServerConfig` says which are required)."""

    command: str | None = Field(default=None, description="stdio: the program to start.")
    args: list[str] = Field(default_factory=list[str], description="stdio: its arguments.")
    env: dict[str, HeaderValue] | None = Field(
        default=None,
        description="stdio: environment variables for the server (a value or {env_var: NAME}); the server "
        "also gets PATH, HOME, USER, SHELL, TERM and LOGNAME, and nothing else of oxy's environment.",
    )
    cwd: str | None = Field(default=None, description="stdio: its working folder, relative to the project.")
    url: str | None = Field(default=None, description="Streamable HTTP: the server's endpoint, e.g. …/mcp.")
    headers: dict[str, HeaderValue] | None = Field(
        default=None,
        description="Streamable HTTP: headers sent with every request ({env_var: NAME} for secrets).",
    )
    tools: StrList | None = Field(
        default=None, description="Only these of the server's tools (names or globs, before prefixing)."
    )
    exclude: StrList = Field(default_factory=list[str], description="Not these tools (names or globs).")
    prefix: str | None = Field(
        default=None,
        description='Put before every tool name with `_` (default: the entry\'s name; `""` for none).',
    )
    timeout: Seconds | None = Field(default=None, description="Seconds one tool call may take (default 30).")
    connect_timeout: Seconds | None = Field(
        default=None, description="Seconds to start or connect to the server and greet it (default 30)."
    )
    list_timeout: Seconds | None = Field(default=None, description="Seconds to list its tools (default 30).")
    max_output_chars: Annotated[int, Field(ge=100)] | None = Field(
        default=None,
        description=f"A longer tool result is cut and marked (default {DEFAULT_MAX_OUTPUT_CHARS}).",
    )
    max_concurrency: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="At most this many calls in flight to this server, across runs."
    )

    def transport_keys(self) -> dict[str, Any]:
        """The keys that say where the server is (the rest tune how an agent uses it)."""
        return {key: getattr(self, key) for key in ("command", "args", "env", "cwd", "url", "headers")}


class McpServerConfig(McpServerKeys):
    """One `mcp_servers:` entry of config.yml: a name, and a command or a URL."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="How agents refer to this server.")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        check_transport(self)
        return self


def check_transport(keys: McpServerKeys) -> None:
    """Exactly one of `command` (stdio) and `url` (HTTP), and no key of the other kind."""
    if (keys.command is None) == (keys.url is None):
        raise ValueError("give either `command` (a stdio server oxy starts) or `url` (an HTTP server)")
    if keys.url is not None:
        if not re.match(r"^https?://", keys.url):
            raise ValueError(f"url {keys.url!r} must start with http:// or https://")
        stray = [key for key in ("args", "env", "cwd") if getattr(keys, key)]
        if stray:
            raise ValueError(f"{', '.join(stray)} apply to stdio servers (`command`), not to `url`")
    elif keys.headers:
        raise ValueError("headers apply to HTTP servers (`url`), not to `command`")


def project_mcp_servers(
    declared: str | list[McpServerConfig] | None, root: Path
) -> dict[str, McpServerConfig]:
    """config.yml's `mcp_servers:` by name (read from the JSON file when it names one)."""
    if declared is None:
        return {}
    if isinstance(declared, str):
        return load_mcp_servers_file(confine(root, declared, what="mcp_servers", file="config.yml"), root)
    return {server.name: server for server in declared}


def mcp_server_names(declared: str | list[McpServerConfig] | None, root: Path) -> list[str] | None:
    """The declared servers' names; None when they cannot be read (the config check says why)."""
    try:
        return list(project_mcp_servers(declared, root))
    except ConfigError:
        return None


_ENV_REF = re.compile(r"^\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}$")


def load_mcp_servers_file(path: Path, root: Path) -> dict[str, McpServerConfig]:
    """A standard MCP JSON file: `{"mcpServers": {name: {command, args, env, cwd} | {url, headers}}}`
    (VS Code's `"servers"` key too). A value written `${NAME}` or `${env:NAME}` is read from the
    environment, as Cursor and VS Code do."""
    shown = _shown(path, root)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            "the MCP servers file does not exist; fix `mcp_servers:` in config.yml", file=shown
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the MCP servers file: {exc}", file=shown) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"not valid JSON: {exc.msg}", file=shown, line=exc.lineno, column=exc.colno
        ) from None
    servers: Any = data.get("mcpServers", data.get("servers")) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConfigError(
            'expected an object with "mcpServers": {name: {command, args} or {url}}', file=shown
        )
    found: dict[str, McpServerConfig] = {}
    for name, entry in servers.items():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(entry, dict):
            raise ConfigError(f"server {name!r} must be an object", file=shown)
        found[str(name)] = _server_from_json(str(name), entry, shown)  # pyright: ignore[reportUnknownArgumentType]
    return found


def _server_from_json(name: str, entry: Mapping[str, Any], shown: str) -> McpServerConfig:
    fields = dict(entry)
    kind = fields.pop("type", None)
    if kind == "sse":
        raise ConfigError(
            f"server {name!r}: the SSE transport is deprecated in MCP and not supported; use its streamable "
            "HTTP endpoint (`url` ending in /mcp)",
            file=shown,
        )
    for drop in ("disabled", "autoApprove", "alwaysAllow", "timeout_ms", "description"):
        fields.pop(drop, None)
    for key in ("env", "headers"):
        values = fields.get(key)
        if isinstance(values, dict):
            fields[key] = {k: _env_value(v) for k, v in values.items()}  # pyright: ignore[reportUnknownVariableType]
    try:
        return McpServerConfig.model_validate({"name": name, **fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"server {name!r}: {where + ': ' if where else ''}{message}", file=shown) from None


def _env_value(value: Any) -> Any:
    if isinstance(value, str) and (match := _ENV_REF.match(value)):
        return EnvVarHeader(env_var=match.group(1))
    return value


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.resolve()))
    except ValueError:
        return str(path)
