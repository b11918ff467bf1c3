"""Every error oxy raises on purpose.

```
OxyError                      anything oxy reports to a person as one line
├── ConfigError               a project file is wrong: carries file, line, column, key path
├── DatabaseError             connecting to or querying a database failed
│   └── ReadOnlyViolation     a query tried to write, change schema or run several statements
├── RunError                  a run failed after it started
│   ├── ModelError            a model call failed for good (after retries): names the model and status
│   ├── ToolError             a tool failed; inside the ReAct loop its message goes back to the model
│   ├── LimitExceeded         a configured bound was hit (max_tool_calls, timeouts, ...)
│   └── RunCancelled          the run was cancelled (Ctrl-C, client disconnect)
└── NotSupported              a known feature this engine does not run (yet), with what to do instead
```

The CLI turns any `OxyError` into its one-line `str()` and exit code 1, in one place
(`oxy.cli._errors`). Anything else reaching the user is a bug.
"""

from __future__ import annotations

from pathlib import Path


class OxyError(Exception):
    """Base of every error oxy raises on purpose; `str()` is a full sentence for a person."""


class ConfigError(OxyError):
    """A project file is wrong.

    `str()` reads `path:line:col: message` (line and column when known), e.g.
    `agents/sql.agent.yml:12:3: unknown key 'max_tool_call' — did you mean 'max_tool_calls'?`
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.column = column
        self.key = key
        super().__init__(self.__str__())

    def location(self) -> str:
        if self.file is None:
            return ""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class DatabaseError(OxyError):
    """Connecting to or querying a database failed; the message carries the database's own words."""


class ReadOnlyViolation(DatabaseError):
    """A query tried to write, change the schema, or send several statements at once."""


class RunError(OxyError):
    """A run failed after it started."""


class ModelError(RunError):
    """A model call failed for good: names the model and, for HTTP, the status."""

    def __init__(self, message: str, *, model: str | None = None, status: int | None = None) -> None:
        self.model = model
        self.status = status
        super().__init__(message)


class ModelBusy(ModelError):
    """A model's endpoint is at its `max_concurrency` with its queue full (`max_queue`) or waited on past
    `queue_timeout`: refused at once, so the caller can back off (HTTP 429 from `oxy serve`)."""


class ToolError(RunError):
    """A tool failed. Inside the ReAct loop the message is returned to the model as the tool result."""


class ServerUnavailable(RunError):
    """A server a run needs (an MCP server) could not be started, reached or greeted; says why, from the
    server's own words where it left any."""


class LimitExceeded(RunError):
    """A configured bound was hit: `max_tool_calls`, a timeout, a size cap."""


class RunCancelled(RunError):
    """The run was cancelled (Ctrl-C, a client that went away)."""


class NotSupported(OxyError):
    """A feature oxy knows about but does not run; the message says what to install or use instead."""
