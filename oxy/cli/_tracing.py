"""`--otel` / `--otel-file`: an OpenTelemetry trace of each run (`oxy run`, `oxy serve`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["otel_options"]


def otel_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--otel` and `--otel-file PATH`, passed on as `otel` and `otel_file`."""
    command = click.option(
        "--otel-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Append an OpenTelemetry trace of each run to this file, as OTLP JSON lines.",
    )(command)
    return click.option(
        "--otel",
        is_flag=True,
        help="Send an OpenTelemetry trace of each run to the OTLP HTTP endpoint that the standard "
        "OTEL_EXPORTER_OTLP_* variables name (default http://localhost:4318).",
    )(command)
