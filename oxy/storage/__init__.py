"""The run and thread store: SQLite at `<project>/.oxy/oxy.db` by default, Postgres via `$OXY_DATABASE_URL`.

```python
with Store.open(project_root=root) as store:
    run = store.create_run(tenant=LOCAL_TENANT, target="report.workflow.yml", kind="workflow")
    ...
```

Async code uses `AsyncStore` (the same methods, run in worker threads); `StoreSink` records a run's
events as they are emitted. Importing this package doesn't import alembic: opening a store does.

Durability: every `Store` method commits before it returns. `StoreSink` on a store commits each
event before `emit` returns except text/reasoning deltas, which wait for the next other event (at
most 64 of them or 0.5 s). `StoreSink` on a `StoreWriter`'s `RunWrites` (what `oxy serve` uses)
queues every event and the writer commits all runs' queued writes together within `max_delay_s`
(0.05 s); only an `error` and the run's own `run_finished` wait for their commit. A process killed
with SIGKILL therefore loses at most the held-back deltas (on a store), or the writes queued in the
last ~50 ms plus the one commit in flight (on a writer), never part of a transaction; on the next
`Store.open` (or `mark_interrupted()`) its `running` runs become `interrupted`. SQLite runs in WAL
mode with `synchronous=NORMAL`: a commit survives the process dying; an OS crash or power cut may
lose the last commits but never corrupts the file.
"""

from oxy.storage._async import AsyncStore
from oxy.storage._errors import NotFound, StoreError
from oxy.storage._keys import ApiKey, KeyStore
from oxy.storage._pauses import InputRequestRecord, InputStatus, TaskRecord
from oxy.storage._records import (
    LOCAL_TENANT,
    FinalState,
    Memory,
    Run,
    RunEvent,
    RunKind,
    RunState,
    TaskOutput,
    Thread,
    ThreadMessage,
)
from oxy.storage._sink import StoreSink
from oxy.storage._store import Store
from oxy.storage._writer import RunWrites, StoreWriter

__all__ = [
    "ApiKey",
    "AsyncStore",
    "FinalState",
    "InputRequestRecord",
    "InputStatus",
    "KeyStore",
    "LOCAL_TENANT",
    "Memory",
    "NotFound",
    "Run",
    "RunEvent",
    "RunKind",
    "RunState",
    "RunWrites",
    "Store",
    "StoreError",
    "StoreSink",
    "StoreWriter",
    "TaskOutput",
    "TaskRecord",
    "Thread",
    "ThreadMessage",
]
