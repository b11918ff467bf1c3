"""Tracing for a process (`--otel`, `--otel-file`): the OpenTelemetry provider, with the project's
models named for the spans."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from oxy.config.project import ProjectConfig
from oxy.errors import ConfigError

if TYPE_CHECKING:
    from oxy.events.otel import Tracing

__all__ = ["require_otel", "start_tracing"]


def require_otel() -> None:
    """A `ConfigError` saying what to install when the OpenTelemetry SDK (the `otel` extra) is missing."""
    try:
        importlib.import_module("oxy.events.otel")  # the OpenTelemetry SDK, only when tracing is on
    except ImportError as exc:
        raise ConfigError(
            f"--otel needs the OpenTelemetry SDK ({exc.name} is missing): pip install 'oxy-engine[otel]'"
        ) from None


def start_tracing(config: ProjectConfig, *, endpoint: bool, file: Path | None) -> Tracing:
    """Spans to the OTLP HTTP endpoint of the `OTEL_EXPORTER_OTLP_*` variables (`endpoint`) and/or an
    OTLP JSON file (see `require_otel` for a missing SDK)."""
    require_otel()
    from oxy.events.otel import Tracing  # lazy: the OpenTelemetry SDK, only when tracing is on

    models = {m.name: (m.vendor, m.model_ref) for m in config.models}
    return Tracing.start(endpoint=endpoint, file=file, models=models)
