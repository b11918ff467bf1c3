"""A run's events as server-sent events: live from its `RunHandle`, or read back from the store."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio

from oxy.events.types import event_to_json
from oxy.serve._handle import RunHandle
from oxy.serve._sse import PING, EventStream, sse_message
from oxy.storage import AsyncStore

PING_S = 15.0
POLL_S = 0.5


def run_headers(handle: RunHandle) -> dict[str, str]:
    headers = {"X-Oxy-Run-Id": handle.run_id}
    if handle.thread_id is not None:
        headers["X-Oxy-Thread-Id"] = handle.thread_id
    return headers


async def live_messages(handle: RunHandle, *, after: int = 0) -> AsyncGenerator[bytes]:
    async for published in handle.follow(after=after, ping_s=PING_S):
        if published is None:
            yield PING
        else:
            yield sse_message(published.json, event=published.event.kind, id=published.seq)


def live_stream(handle: RunHandle, *, cancel_on_disconnect: bool, after: int = 0) -> EventStream:
    """The run's events from the start; a client that leaves cancels the run if `cancel_on_disconnect`."""

    def disconnected() -> None:
        handle.cancel("The client disconnected before the run finished.")

    return EventStream(
        live_messages(handle, after=after),
        headers=run_headers(handle),
        on_disconnect=disconnected if cancel_on_disconnect else None,
    )


async def stored_messages(
    store: AsyncStore, run_id: str, *, tenant: str, after: int = 0
) -> AsyncGenerator[bytes]:
    """Events from the store, polling until the run is no longer `running` (a run of another process)."""

    last = after
    quiet = 0.0
    while True:
        run = await store.get_run(run_id, tenant=tenant)
        for stored in await store.events(run_id, tenant=tenant, after=last):
            last = stored.seq
            quiet = 0.0
            yield sse_message(event_to_json(stored.event), event=stored.event.kind, id=stored.seq)
        if run is None or run.status != "running":
            return
        await anyio.sleep(POLL_S)
        quiet += POLL_S
        if quiet >= PING_S:
            quiet = 0.0
            yield PING
