"""A workflow-shaped run that the kill test SIGKILLs mid-run: `python killed_run.py <store url>`.

It records task `load`, starts task `summary`, streams deltas (3 committed as a batch, 2 held back),
prints `ready <run id>` and waits to be killed.
"""

from __future__ import annotations

import sys

import anyio

from oxy.events.types import TextDelta
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import fn, step
from oxy.execution.run import run_executable
from oxy.storage import LOCAL_TENANT, Store, StoreSink


async def main(url: str) -> None:
    store = Store.open(url)
    sink = StoreSink(store, tenant=LOCAL_TENANT, kind="workflow", max_batch=3, max_delay_s=60)

    async def load(ctx: ExecutionContext, _: None) -> list[int]:
        return [1, 2, 3]

    async def summary(ctx: ExecutionContext, _: None) -> str:
        for text in ("one ", "two ", "three ", "four ", "five"):
            await ctx.emit(TextDelta(source=ctx.source, text=text))
        print("ready", ctx.run_id, flush=True)
        await anyio.sleep(600)
        return "never"

    async def workflow(ctx: ExecutionContext, _: None) -> str:
        rows = await step(fn(load), name="load", step_type="execute_sql").execute(ctx.child("load"), None)
        store.record_task_output(ctx.run_id, "load", rows, tenant=LOCAL_TENANT)
        return await step(fn(summary), name="summary", step_type="agent").execute(ctx.child("summary"), None)

    await run_executable(fn(workflow), None, target="report.workflow.yml", sink=sink)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
