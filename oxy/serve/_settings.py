"""`ServeSettings`: how one `oxy serve` process listens, authenticates and bounds its runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SETTINGS_VAR = "OXY_SERVE_SETTINGS"
"""Worker processes (`--workers N`) read their settings from this environment variable, as JSON."""

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, kw_only=True, slots=True)
class ServeSettings:
    """Everything `oxy serve` is told on its command line. The run slots and queue protect one process
    and apply per process; the per-API-key budgets (rate, runs at once) are kept in the run store and
    hold across workers and replicas sharing it."""

    project: Path
    host: str = "127.0.0.1"
    port: int = 3000
    workers: int = 1
    insecure: bool = False
    """Serve without API keys on an address other than loopback."""
    max_concurrent_runs: int = 256
    """Runs executing at once; more wait in the queue."""
    max_queued_runs: int = 2048
    """Runs waiting for a slot; past this a new run gets 503."""
    max_runs_per_key: int | None = None
    """Runs one API key (the local tenant, without keys) may have going at once, counted across every
    process sharing the run store; past it a new run gets 429. `None`: no such bound."""
    run_timeout_s: float = 600.0
    """A run still going after this long is stopped with a `LimitExceeded` error."""
    input_timeout_s: float = 600.0
    """A run waiting for a person (an approval, a question) waits this long; then the call fails."""
    max_body_bytes: int = 1_048_576
    """Request bodies larger than this get 413."""
    rate_per_s: float = 20.0
    """Requests per second each API key may make on average (token bucket refill rate)."""
    rate_burst: int = 40
    """Requests an API key may make at once (token bucket size)."""
    key_cache_s: float = 5.0
    """How long a checked API key is trusted before it is looked up again (a revoked key's grace)."""
    database_url: str | None = None
    """The run store; `None` means `$OXY_DATABASE_URL`, else `<project>/.oxy/oxy.db`."""
    body_timeout_s: float = 30.0
    """Seconds a request body may pause between two pieces before the request gets 408."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names answered without API keys besides loopback ones (DNS rebinding guard)."""
    mcp: bool = False
    """Serve MCP (streamable HTTP) at `/mcp`: the project's agents, workflows and SQL files as tools."""
    api: bool = True
    """Serve the HTTP API, the OpenAI-compatible API and the chat page (`oxy mcp --transport http`: no)."""
    stdio_mcp: bool = True
    """Whether agents may start stdio MCP servers (`--no-stdio-mcp`: only HTTP ones)."""
    with_models: bool = False
    """Start the servers of the models with `serve:` blocks, and be ready only while they are."""
    otel: bool = False
    """Send an OpenTelemetry trace of each run to the OTLP endpoint of the `OTEL_EXPORTER_OTLP_*` variables."""
    otel_file: str | None = None
    """Append an OpenTelemetry trace of each run to this file (OTLP JSON lines)."""

    def to_json(self) -> str:
        values: dict[str, Any] = asdict(self)
        values["project"] = str(self.project)
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        values: dict[str, Any] = json.loads(text)
        values["project"] = Path(values["project"])
        values["allowed_hosts"] = tuple(values.get("allowed_hosts", ()))
        return cls(**values)

    @property
    def loopback_only(self) -> bool:
        return self.host in LOOPBACK
