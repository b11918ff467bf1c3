"""The store's tables, as SQLAlchemy Core metadata (queries use these; migrations have their own copy).

```
owners         id, host, pid, started_at, expires_at         one row per open Store (see _owners.py)
threads        id, tenant, agent, title, created_at, updated_at, summary, summary_upto
messages       thread_id → threads, seq, role, content, tool_calls (JSON), tool_call_id, name, created_at
runs           id, tenant, target, kind, input (JSON), status, error, output (JSON),
               started_at, finished_at, thread_id → threads, owner
events         run_id → runs, seq, kind, payload (event_to_json text, byte for byte)
task_outputs   run_id → runs, path, output (JSON), finished_at
memories       id, tenant, user, text, embedder, vector (float32 bytes), created_at
api_keys       id, tenant, name, hash, created_at, revoked_at
rate_buckets   key, tokens, updated (epoch seconds)         a token bucket per API key (_budgets.py)
run_leases     id, scope, owner → owners, acquired_at       a run an API key has going (_budgets.py)
input_requests id, run_id, tenant, thread_id, target, user, variant, kind, tool, what, why, rule,
               subject, options, call_id, transcript (JSON), status, answer (JSON), grant_key,
               created_at, expires_at, answered_at          a run waiting for a person (_pauses.py)
workspace_tasks id, task_id, root, owner, tenant, command, pid, host, process, started_at,
               stopped_at, exit_code                        background tasks agents started (_pauses.py)
```
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps naive text, so we add the zone back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


ID = sa.String(64)
TENANT = sa.String(255)
JSON = sa.JSON(none_as_null=True)

metadata = sa.MetaData()

owners = sa.Table(
    "owners",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("tenant", TENANT, nullable=False),
    sa.Column("agent", sa.String(1024), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # `memory: {summarize: true}`: the summary of the thread's first `summary_upto` messages.
    sa.Column("summary", sa.Text),
    sa.Column("summary_upto", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_threads_tenant_updated", "tenant", "updated_at", "id"),
    sa.Index("ix_threads_tenant_agent_updated", "tenant", "agent", "updated_at", "id"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("thread_id", ID, sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("tool_calls", JSON),
    sa.Column("tool_call_id", sa.String(255)),
    sa.Column("name", sa.String(255)),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("tenant", TENANT, nullable=False),
    sa.Column("target", sa.String(1024), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("input", JSON),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("output", JSON),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("thread_id", ID, sa.ForeignKey("threads.id", ondelete="SET NULL")),
    sa.Column("owner", ID, nullable=False),
    sa.Index("ix_runs_tenant_started", "tenant", "started_at"),
    sa.Index("ix_runs_tenant_target_started", "tenant", "target", "started_at"),
    sa.Index("ix_runs_status", "status"),
    sa.Index("ix_runs_thread", "thread_id"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)

task_outputs = sa.Table(
    "task_outputs",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("output", JSON),
    sa.Column("finished_at", UtcDateTime, nullable=False),
)

memories = sa.Table(
    "memories",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant", TENANT, nullable=False),
    sa.Column("user", sa.String(255), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("embedder", sa.String(255), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_memories_tenant_user", "tenant", "user", "created_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255)),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
)

rate_buckets = sa.Table(
    "rate_buckets",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

run_leases = sa.Table(
    "run_leases",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("scope", sa.String(255), nullable=False),
    sa.Column("owner", ID, nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Index("ix_run_leases_scope", "scope"),
)

input_requests = sa.Table(
    "input_requests",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("run_id", ID, nullable=False),
    sa.Column("tenant", TENANT, nullable=False),
    sa.Column("thread_id", ID),
    sa.Column("target", sa.String(1024), nullable=False),
    sa.Column("user", sa.String(255)),
    sa.Column("variant", sa.String(255)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("tool", sa.String(255), nullable=False),
    sa.Column("what", sa.Text, nullable=False),
    sa.Column("why", sa.Text, nullable=False),
    sa.Column("rule", sa.Text),
    sa.Column("subject", sa.Text),
    sa.Column("options", JSON),
    sa.Column("call_id", sa.String(255)),
    sa.Column("transcript", JSON),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("answer", JSON),
    sa.Column("grant_key", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime),
    sa.Column("answered_at", UtcDateTime),
    sa.Index("ix_input_requests_run", "run_id"),
    sa.Index("ix_input_requests_thread", "thread_id"),
)

workspace_tasks = sa.Table(
    "workspace_tasks",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("task_id", ID, nullable=False),
    sa.Column("root", sa.Text, nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("tenant", TENANT),
    sa.Column("command", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("process", sa.Integer, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("stopped_at", UtcDateTime),
    sa.Column("exit_code", sa.Integer),
    sa.Index("ix_workspace_tasks_owner", "owner"),
)
