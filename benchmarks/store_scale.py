"""The run store at scale: does a tenant with 10,000 threads list and continue them as fast as one with
10, and what does an idle thread cost in memory?

Threads are written the way `oxy serve` writes them (a `StoreWriter`, group commits), each with a
user and an assistant message, into a fresh SQLite store. Then, per store size: listing the newest
10 threads (all, and one agent's: a page), and continuing one thread (read it and its messages, append two
messages) — medians over repeated calls. The process's RSS before and after writing the threads says
what idle threads cost in RAM (they live in the store, not in memory).

    python -m benchmarks.store_scale [--threads 10,10000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from benchmarks._table import print_table
from oxy.models.messages import AssistantMessage, UserMessage
from oxy.storage import AsyncStore, StoreWriter

TENANT = "acme"
AGENTS = ("agents/sales.agent.yml", "agents/support.agent.yml")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def fill(store: AsyncStore, count: int) -> list[str]:
    writer = StoreWriter(store)
    ids: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        for start in range(0, count, 500):
            writes = writer.run_writes()
            for i in range(start, min(count, start + 500)):
                thread = writes.create_thread(tenant=TENANT, agent=AGENTS[i % 2], title=f"Question {i}")
                writes.add_messages(
                    thread.id,
                    [UserMessage(content=f"How many orders on day {i}?"), AssistantMessage(content="240.")],
                )
                ids.append(thread.id)
            await writes.commit()
        tg.cancel_scope.cancel()
    return ids


async def median_ms(call: Callable[[], Awaitable[object]], repeat: int) -> float:
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def measure(count: int, repeat: int) -> tuple[str, ...]:
    with tempfile.TemporaryDirectory() as folder:
        async with await AsyncStore.open(project_root=Path(folder)) as store:
            before = rss_mib()
            ids = await fill(store, count)
            after = rss_mib()
            middle = ids[len(ids) // 2]

            async def continue_thread() -> None:
                thread = await store.get_thread(middle, tenant=TENANT)
                assert thread is not None
                await store.thread_messages(middle, tenant=TENANT)
                await store.add_messages(
                    middle,
                    [UserMessage(content="And yesterday?"), AssistantMessage(content="230.")],
                    tenant=TENANT,
                )

            list_all = await median_ms(lambda: store.list_threads(tenant=TENANT, limit=10), repeat)
            list_agent = await median_ms(
                lambda: store.list_threads(tenant=TENANT, agent=AGENTS[1], limit=10), repeat
            )
            cont = await median_ms(continue_thread, repeat)
    per_thread = (after - before) * 1024 * 1024 / count
    return (
        f"{count:,}",
        f"{list_all:.2f}",
        f"{list_agent:.2f}",
        f"{cont:.2f}",
        f"{after - before:+.1f}",
        f"{per_thread:,.0f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", default="10,10000", help="store sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rows = [anyio.run(measure, int(n), args.repeat) for n in args.threads.split(",")]
    header = (
        "threads",
        "list 10 newest ms",
        "list 10 of one agent ms",
        "continue a thread ms",
        "RSS after writing MiB",
        "RSS bytes per thread",
    )
    print(f"run store (SQLite), one tenant, medians of {args.repeat} calls")
    print_table(header, rows)


if __name__ == "__main__":
    main()
