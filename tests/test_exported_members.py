"""The public API is what `oxy.__all__` says, sorted, and every name resolves."""

from __future__ import annotations

import subprocess
import sys

import oxy


def test_all_is_sorted_and_pinned() -> None:
    assert oxy.__all__ == sorted(oxy.__all__)
    assert oxy.__all__ == [
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


def test_every_exported_name_resolves() -> None:
    assert sorted([*oxy._EXPORTS, "__version__"]) == oxy.__all__  # pyright: ignore[reportPrivateUsage]
    for name in oxy.__all__:
        assert getattr(oxy, name) is not None, name


def test_importing_oxy_imports_nothing_heavy() -> None:
    code = "import sys, oxy; print(sorted(m for m in ('pydantic', 'openai', 'duckdb', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
