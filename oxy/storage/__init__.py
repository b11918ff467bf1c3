"""The run and thread store: SQLite at `<project>/.oxy/oxy.db` by default, Postgres via `$OXY_DATABASE_URL`.

```python
with Store.open(project_root=root) as store:
    run = store.create_run(tenant=LOCAL_TENANT, target="report.workflow.yml", kind="workflow")
    ...
```

Async code uses `AsyncStore` (the same methods, run in worker threads); `StoreSink` records a run's
events as they are emitted. Importing this package doesn't import alembic: opening a store does.
"""

from oxy.storage._async import AsyncStore
from oxy.storage._errors import NotFound, StoreError
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
    "AsyncStore",
    "FinalState",
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
