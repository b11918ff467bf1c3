"""`Store`: open (and migrate) the run and thread store, mark dead runs, close."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import TracebackType

from sqlalchemy import URL, Engine

from oxy.storage._batch import BatchMethods
from oxy.storage._budgets import BudgetMethods
from oxy.storage._engine import create_engine, database_url, writing
from oxy.storage._memories import MemoryMethods
from oxy.storage._migrate import upgrade
from oxy.storage._owners import Heartbeat, Owner, mark_interrupted, register, unregister
from oxy.storage._pauses import PauseMethods
from oxy.storage._runs import RunMethods
from oxy.storage._threads import ThreadMethods

DEFAULT_LEASE_S = 60.0


class Store(RunMethods, ThreadMethods, MemoryMethods, PauseMethods, BatchMethods, BudgetMethods):
    """Runs (with events and task outputs) and threads (with messages), per tenant.

    Every read names a tenant, and another tenant's run or thread reads exactly like a missing one.
    Methods block; use `AsyncStore` from async code. Thread-safe: one Store serves a whole process.

    ```python
    with Store.open(project_root=root) as store:          # <root>/.oxy/oxy.db, or $OXY_DATABASE_URL
        run = store.create_run(tenant="local", target="report.workflow.yml", kind="workflow")
        store.record_task_output(run.id, "per_fruit/summary", {"rows": 3}, tenant="local")
        store.finish_run(run.id, tenant="local", status="error", error="The model timed out.")
        failed = store.last_failed_run("report.workflow.yml", tenant="local")
    ```
    """

    @classmethod
    def open(
        cls,
        url: str | URL | None = None,
        *,
        project_root: Path | None = None,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> Store:
        """Connect, upgrade the schema to the newest revision, and mark dead processes' runs interrupted.

        `url` defaults to `$OXY_DATABASE_URL`, then to `<project_root>/.oxy/oxy.db`. `lease_s` is how
        long this process may go silent before other processes treat its running runs as interrupted.
        """
        engine = create_engine(database_url(url, project_root=project_root))
        lease = timedelta(seconds=lease_s)
        owner = Owner.of_this_process()
        try:
            with writing(engine) as connection:
                upgrade(connection)
            register(engine, owner, lease)
            mark_interrupted(engine, owner)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, owner, Heartbeat(engine, owner, lease))

    def __init__(self, engine: Engine, owner: Owner, heartbeat: Heartbeat) -> None:
        """Use `Store.open`."""
        super().__init__(engine, owner)
        self._heartbeat: Heartbeat | None = heartbeat
        heartbeat.start()

    @property
    def url(self) -> str:
        """Where the store lives, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def mark_interrupted(self) -> int:
        """Mark runs still `running` in processes that are gone as `interrupted`; returns how many.

        `open()` does this; a long-lived server may call it now and then to sweep dead replicas' runs.
        """
        return mark_interrupted(self._engine, self._owner)

    def close(self) -> None:
        """Stop heartbeating and disconnect. Runs this process left `running` become interruptible."""
        if self._heartbeat is None:
            return
        self._heartbeat.stop()
        self._heartbeat = None
        unregister(self._engine, self._owner)
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
