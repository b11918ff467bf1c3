"""oxy: run AI agents and workflows declared in YAML.

```python
import anyio
from oxy import Runtime, load_project, run_file

runtime = Runtime.for_project(load_project(Path("projects/quickstart")))
result = anyio.run(lambda: run_file(Path("projects/quickstart/queries/top_products.sql"), runtime=runtime))
```

Names load on first use, so `import oxy` (and `oxy --version`) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oxy._version import __version__

_EXPORTS: dict[str, str] = {
    "ConfigError": "oxy.errors",
    "DatabaseError": "oxy.errors",
    "Event": "oxy.events.types",
    "LimitExceeded": "oxy.errors",
    "ModelError": "oxy.errors",
    "NotSupported": "oxy.errors",
    "OxyError": "oxy.errors",
    "ReadOnlyViolation": "oxy.errors",
    "RunCancelled": "oxy.errors",
    "RunError": "oxy.errors",
    "RunResult": "oxy.execution.run",
    "Runtime": "oxy.application.runtime",
    "ToolError": "oxy.errors",
    "event_from_json": "oxy.events.types",
    "event_to_json": "oxy.events.types",
    "find_project_root": "oxy.config",
    "load_project": "oxy.config",
    "run_file": "oxy.application.runner",
    "validate": "oxy.config",
}

__all__ = [
    "ConfigError",
    "DatabaseError",
    "Event",
    "LimitExceeded",
    "ModelError",
    "NotSupported",
    "OxyError",
    "ReadOnlyViolation",
    "RunCancelled",
    "RunError",
    "RunResult",
    "Runtime",
    "ToolError",
    "__version__",
    "event_from_json",
    "event_to_json",
    "find_project_root",
    "load_project",
    "run_file",
    "validate",
]

if TYPE_CHECKING:
    from oxy.application.runner import run_file
    from oxy.application.runtime import Runtime
    from oxy.config import find_project_root, load_project, validate
    from oxy.errors import (
        ConfigError,
        DatabaseError,
        LimitExceeded,
        ModelError,
        NotSupported,
        OxyError,
        ReadOnlyViolation,
        RunCancelled,
        RunError,
        ToolError,
    )
    from oxy.events.types import Event, event_from_json, event_to_json
    from oxy.execution.run import RunResult


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'oxy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
