"""The names a model sees for an MCP server's tools: `<prefix>_<tool>`, sanitised to what model APIs
accept (`^[a-zA-Z0-9_-]{1,64}$`); a name cut to fit keeps a hash of the whole, so it stays unique."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from oxy.errors import ConfigError

__all__ = ["model_tool_names"]

MAX_NAME = 64
_INVALID = re.compile(r"[^A-Za-z0-9_-]")


def model_tool_name(prefix: str, tool: str) -> str:
    """`time` + `get-current.time` → `time_get-current_time`; over 64 characters → 55 + `_` + 8 of a hash."""
    joined = f"{prefix}_{tool}" if prefix else tool
    name = _INVALID.sub("_", joined) or "_"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(joined.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


def model_tool_names(prefix: str, tools: Iterable[str], *, server: str, file: str | None) -> dict[str, str]:
    """`{model name: server's tool name}`; two tools that come out the same are a `ConfigError` naming both."""
    names: dict[str, str] = {}
    for tool in tools:
        name = model_tool_name(prefix, tool)
        if name in names:
            raise ConfigError(
                f"{server}: tools {names[name]!r} and {tool!r} are both called {name!r} once made a valid tool "
                "name; leave one out with `exclude:` (or list the ones to keep in `tools:`)",
                file=file,
            )
        names[name] = tool
    return names
