"""The run and thread store: SQLite at `<project>/.oxy/oxy.db` by default, Postgres via `$OXY_DATABASE_URL`.

```python
with Store.open(project_root=root) as store:
    run = store.create_run(tenant=LOCAL_TENANT, target="report.workflow.yml", kind="workflow")
    ...
```

Async code uses `AsyncStore` (the same methods, run in worker threads); `StoreSink` records a run's
events as they are emitted. Importing this package doesn't import alembic: opening a store does.

Durability: every method commits before it returns, and `StoreSink` commits each event before
`emit` returns except text/reasoning deltas, which wait for the next other event (at most 64 of
them or 0.5 s). A process killed with SIGKILL therefore loses only those held-back deltas; on the
next `Store.open` (or `mark_interrupted()`) its `running` runs become `interrupted`. SQLite runs in
WAL mode with `synchronous=NORMAL`: a commit survives the process dying; an OS crash or power cut
may lose the last commits but never corrupts the file.
"""

from oxy.storage._async import AsyncStore
from oxy.storage._errors import NotFound, StoreError
from oxy.storage._keys import ApiKey, KeyStore
from oxy.storage._records import (
    LOCAL_TENANT,
    FinalState,
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

__all__ = [
    "ApiKey",
    "AsyncStore",
    "FinalState",
    "KeyStore",
    "LOCAL_TENANT",
    "NotFound",
    "Run",
    "RunEvent",
    "RunKind",
    "RunState",
    "Store",
    "StoreError",
    "StoreSink",
    "TaskOutput",
    "Thread",
    "ThreadMessage",
]
