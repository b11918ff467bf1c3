"""`make bench`: run every benchmark in turn; each prints its own table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "cold_start",
    "engine_overhead",
    "local_quickstart",
    "mcp_overhead",
    "serve_load",
    "store_scale",
    "stop_times",
    "tracing_overhead",
    "vllm_fleet",
    "workspace_tools",
]


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"\n## {name}\n", flush=True)
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent, check=False)
        failed += proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
