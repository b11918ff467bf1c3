"""The application layer: the run lifecycle and the wiring of agents, workflows and tools.

Entry points (`oxy.cli`, `oxy.serve`, embedding code) load a project into a `Runtime` and call
`run_file`; this package builds the executable for the file, hands agents their toolsets and model,
hands workflows their agents, and returns the whole run. Names import on first use: `oxy run q.sql`
builds no agent machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oxy.application.runner import run_file
    from oxy.application.runtime import Runtime

__all__ = ["Runtime", "run_file"]

_EXPORTS = {"Runtime": "oxy.application.runtime", "run_file": "oxy.application.runner"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'oxy.application' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
