"""`oxy serve`: the project's agents and workflows over HTTP, on uvicorn (see docs/serve.md)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from oxy.cli._errors import fail
from oxy.cli._options import project_option
from oxy.cli._tracing import otel_options

if TYPE_CHECKING:
    from oxy.serve._settings import ServeSettings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535), help="The port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@project_option
@click.option(
    "--insecure", is_flag=True, help="Allow listening beyond 127.0.0.1 with no API keys configured."
)
@click.option(
    "--max-concurrent-runs",
    default=256,
    show_default=True,
    type=click.IntRange(1),
    help="Runs executing at once, per process.",
)
@click.option(
    "--max-queued-runs",
    default=2048,
    show_default=True,
    type=click.IntRange(0),
    help="Runs waiting for a slot, per process; past this, 503.",
)
@click.option(
    "--max-runs-per-key",
    type=click.IntRange(1),
    help="Runs one API key may have going at once, across workers and replicas sharing the store.",
)
@click.option(
    "--run-timeout", default=600.0, show_default=True, type=click.FloatRange(min=0.001), help="Seconds."
)
@click.option(
    "--input-timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds a run waits for a person to approve a tool call or answer a question.",
)
@click.option(
    "--max-body", default=1_048_576, show_default=True, type=click.IntRange(1), help="Bytes per request."
)
@click.option(
    "--rate-limit",
    default=20.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Requests/s per API key, across workers and replicas sharing the store.",
)
@click.option(
    "--rate-burst", default=40, show_default=True, type=click.IntRange(1), help="Burst per API key."
)
@click.option(
    "--max-connections",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="Open connections per process; past it, 503 (keep it under the process's file limit).",
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds a request's headers may take to arrive.",
)
@click.option(
    "--body-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds a request body may pause between two pieces.",
)
@click.option(
    "--keep-alive",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds an idle kept-alive connection stays open.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this host name when no API keys exist (repeatable).",
)
@click.option("--mcp", "with_mcp", is_flag=True, help="Also serve MCP (streamable HTTP) at /mcp.")
@click.option(
    "--with-models",
    is_flag=True,
    help="Start the model servers config.yml describes (`serve:`); ready only while they are.",
)
@click.option(
    "--no-stdio-mcp", is_flag=True, help="Agents may use HTTP MCP servers only: never start a stdio one."
)
@otel_options
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"])
)
def serve(
    host: str,
    port: int,
    workers: int,
    project_dir: Path | None,
    insecure: bool,
    max_concurrent_runs: int,
    max_queued_runs: int,
    max_runs_per_key: int | None,
    run_timeout: float,
    input_timeout: float,
    max_body: int,
    rate_limit: float,
    rate_burst: int,
    max_connections: int,
    header_timeout: float,
    body_timeout: float,
    keep_alive: int,
    allowed_hosts: tuple[str, ...],
    with_mcp: bool,
    with_models: bool,
    no_stdio_mcp: bool,
    otel: bool,
    otel_file: Path | None,
    log_level: str,
) -> None:
    """Serve the project's agents and workflows: an HTTP API, OpenAI's chat API and a chat page."""
    from oxy.config import find_project_root  # lazy: loaded when the command runs, not for --help
    from oxy.serve._settings import ServeSettings  # lazy: loaded when the command runs, not for --help

    root = (project_dir or find_project_root(Path.cwd())).resolve()
    settings = ServeSettings(
        project=root,
        host=host,
        port=port,
        workers=workers,
        insecure=insecure,
        max_concurrent_runs=max_concurrent_runs,
        max_queued_runs=max_queued_runs,
        max_runs_per_key=max_runs_per_key,
        run_timeout_s=run_timeout,
        input_timeout_s=input_timeout,
        max_body_bytes=max_body,
        rate_per_s=rate_limit,
        rate_burst=rate_burst,
        allowed_hosts=allowed_hosts,
        body_timeout_s=body_timeout,
        mcp=with_mcp,
        stdio_mcp=not no_stdio_mcp,
        with_models=with_models,
        otel=otel,
        otel_file=str(otel_file.resolve()) if otel_file is not None else None,
    )
    if with_models and workers > 1:
        fail("--with-models starts one server per model: serve it with --workers 1")
    if otel_file is not None and workers > 1:
        fail("--otel-file is written by one process: serve with --workers 1, or send traces with --otel")
    if otel or otel_file is not None:
        from oxy.application.tracing import require_otel  # lazy: only with --otel / --otel-file
        from oxy.errors import OxyError  # lazy: loaded when the command runs, not for --help

        try:
            require_otel()
        except OxyError as exc:
            fail(exc)
        if otel_file is not None:  # the workers open it: say now when they could not
            try:
                otel_file.parent.mkdir(parents=True, exist_ok=True)
                otel_file.open("a").close()
            except OSError as exc:
                fail(f"--otel-file {otel_file}: cannot open it: {exc.strerror or exc}")
    run_server(
        settings,
        max_connections=max_connections,
        header_timeout=header_timeout,
        keep_alive=keep_alive,
        log_level=log_level,
        name="oxy serve",
    )


def run_server(
    settings: ServeSettings,
    *,
    max_connections: int,
    header_timeout: float,
    keep_alive: int,
    log_level: str,
    name: str,
) -> None:
    """Run the app of `settings` on uvicorn until SIGINT or SIGTERM (refusing a non-loopback address
    with no API keys unless `insecure`)."""
    import uvicorn  # lazy: loaded when the command runs, not for --help
    from uvicorn.config import LOGGING_CONFIG  # lazy: loaded when the command runs, not for --help

    # lazy: loaded when the command runs, not for --help
    from oxy.serve._protocol import HEADER_TIMEOUT_ENV, HeaderTimeoutProtocol
    from oxy.serve._settings import SETTINGS_VAR
    from oxy.storage import KeyStore  # lazy: loaded when the command runs, not for --help

    root, host, port = settings.project, settings.host, settings.port
    with KeyStore.open(project_root=root) as keys:
        has_keys = keys.configured()
    if not has_keys and not settings.loopback_only and not settings.insecure:
        fail(
            f"no API keys are configured, so {name} listens only on 127.0.0.1, not {host!r}: "
            "create one with `oxy keys create`, or pass --insecure to serve without keys"
        )
    mode = "API keys required" if has_keys else "no API keys: local mode"
    where = f"http://{host}:{port}" + ("/mcp" if settings.mcp and not settings.api else "")
    click.echo(f"{name}: {root} on {where} ({mode})", err=True)
    os.environ[SETTINGS_VAR] = settings.to_json()
    os.environ[HEADER_TIMEOUT_ENV] = str(header_timeout)
    # oxy's own lines (a run cancelled at shutdown, ...) go where uvicorn's do, in its format.
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["oxy"] = {"handlers": ["default"], "level": log_level.upper(), "propagate": False}
    uvicorn.run(
        "oxy.serve.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        access_log=log_level == "debug",
        log_config=log_config,
        http=HeaderTimeoutProtocol,  # closes connections whose headers dribble in (slowloris)
        limit_concurrency=_within_file_limit(max_connections),
        timeout_keep_alive=keep_alive,
    )


def _within_file_limit(connections: int) -> int:
    """`connections`, lowered to leave room under the process's open-file limit (each is a descriptor;
    the run store, databases and model connections need theirs too)."""
    try:
        import resource  # lazy: POSIX only
    except ImportError:
        return connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return connections
    return max(1, min(connections, soft - 128))
