"""Cold start: `oxy --version`, and `oxy run agent.yml "..."` from process start to its first model request.

The agent is the quickstart's analyst (its instructions name the shop database, so the run reads the
schema before asking the model), pointed at the scripted model server. Medians of several runs.
`oxy validate` on the quickstart is timed too.

`--oxy PATH` times another installation's `oxy` (say, a venv with `pip install .` and no dev
extras, as a user has: no editable-install finder, no `trio` pulled in by selenium, which httpcore
imports whenever it is installed).

    python -m benchmarks.cold_start [--repeat 7] [--oxy PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn

REPO = Path(__file__).resolve().parent.parent
OXY = Path(sys.executable).parent / "oxy"


def command_times(command: list[str | Path], repeat: int, cwd: Path | None = None) -> list[float]:
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=cwd)
        times.append(time.perf_counter() - started)
    return times


def first_request_times(oxy: Path, repeat: int) -> tuple[list[float], list[float]]:
    """Seconds from spawning `oxy run` to the server seeing its first request, and to the process's exit."""
    first_seen: list[float] = []

    def answer(request: ScriptedRequest) -> Turn:
        first_seen.append(time.perf_counter())
        return Reply(text="Fine.")

    to_request: list[float] = []
    to_exit: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, ScriptedModelServer(answer) as server:
        project = Path(tmp) / "quickstart"
        shutil.copytree(REPO / "projects" / "quickstart", project)
        config = project / "config.yml"
        config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
        agent = project / "agents" / "analyst.agent.yml"
        for _ in range(repeat):
            first_seen.clear()
            started = time.perf_counter()
            subprocess.run(
                [oxy, "run", str(agent), "How many orders?", "--model", "vllm"],
                check=True,
                capture_output=True,
            )
            to_exit.append(time.perf_counter() - started)
            to_request.append(first_seen[0] - started)
    return to_request, to_exit


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--oxy", type=Path, default=OXY, help="the oxy command to time")
    args = parser.parse_args()
    oxy: Path = args.oxy
    version = command_times([oxy, "--version"], args.repeat)
    validate = command_times([oxy, "validate"], args.repeat, cwd=REPO / "projects" / "quickstart")
    to_request, to_exit = first_request_times(oxy, args.repeat)
    rows = [
        ("oxy --version", statistics.median(version), min(version), "0.15"),
        ("oxy validate (quickstart)", statistics.median(validate), min(validate), "0.30"),
        ("oxy run → first model request", statistics.median(to_request), min(to_request), "0.65"),
        ("oxy run → exit (one-turn answer)", statistics.median(to_exit), min(to_exit), "-"),
    ]
    print(f"cold start of {oxy}, {args.repeat} runs each")
    print(f"{'what':<34}  {'median s':>8}  {'min s':>6}  {'target s':>8}")
    print(f"{'-' * 34}  {'-' * 8}  {'-' * 6}  {'-' * 8}")
    for what, median, best, target in rows:
        print(f"{what:<34}  {median:>8.3f}  {best:>6.3f}  {target:>8}")


if __name__ == "__main__":
    main()
