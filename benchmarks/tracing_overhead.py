"""Tracing overhead: what `--otel` adds to a run, per run and in total throughput.

The run is engine_overhead's (one question, one tool call, two model requests against the scripted
model server in its own process, answered whole), once with only a counting sink and once with an
OpenTelemetry sink as well: five spans a run (agent, two chats, the tool, nothing else), batched by
the SDK and written as OTLP JSON lines to a temporary file. Rounds alternate; the table shows medians.

    python -m benchmarks.tracing_overhead [--runs 400] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import anyio

from benchmarks._scripted_backend import scripted_backend
from benchmarks._table import print_table
from benchmarks.engine_overhead import oxy_runner, timed
from oxy.events.otel import Tracing, exporters


async def measure(
    base_url: str, tracing: Tracing, runs: int, rounds: int, concurrency: int
) -> dict[str, float]:
    runners = {
        "untraced": oxy_runner(base_url, stream=False),
        "traced": oxy_runner(base_url, stream=False, extra_sink=tracing.sink),
    }
    for one in runners.values():
        await timed(one, min(runs, 100), concurrency)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, one in runners.items():
            times[name].append(await timed(one, runs, concurrency))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as folder, scripted_backend() as base_url:
        out = Path(folder) / "spans.jsonl"
        tracing = Tracing(exporters(file=out))
        for concurrency in (1, 64):
            t = anyio.run(measure, base_url, tracing, args.runs, args.rounds, concurrency)
            plain, traced = t["untraced"], t["traced"]
            rows.append(
                (
                    str(concurrency),
                    f"{args.runs / plain:.0f}",
                    f"{args.runs / traced:.0f}",
                    f"{(traced - plain) / args.runs * 1000:+.3f}",
                    f"{traced / plain * 100 - 100:+.1f}%",
                )
            )
        tracing.shutdown()
        spans = sum(line.count('"spanId"') for line in out.read_text().splitlines())
    print(
        f"tracing overhead: {args.runs} runs x (2 model requests + 1 tool call), median of {args.rounds} rounds"
    )
    print_table(("concurrency", "untraced runs/s", "traced runs/s", "tracing adds ms/run", "time"), rows)
    print(f"{spans} spans written as OTLP JSON")


if __name__ == "__main__":
    main()
