"""Threads with their messages, runs with their events and task outputs, and store owners.

Revision ID: 0001
Revises:
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "owners",
        sa.Column("id", ID, primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )
    op.create_table(
        "threads",
        sa.Column("id", ID, primary_key=True),
        sa.Column("tenant", sa.String(255), nullable=False),
        sa.Column("agent", sa.String(1024), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_threads_tenant_updated", "threads", ["tenant", "updated_at"])
    op.create_table(
        "messages",
        sa.Column("thread_id", ID, sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("tool_calls", sa.JSON),
        sa.Column("tool_call_id", sa.String(255)),
        sa.Column("name", sa.String(255)),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("tenant", sa.String(255), nullable=False),
        sa.Column("target", sa.String(1024), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("input", sa.JSON),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("output", sa.JSON),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("finished_at", TIME),
        sa.Column("thread_id", ID, sa.ForeignKey("threads.id", ondelete="SET NULL")),
        sa.Column("owner", ID, nullable=False),
    )
    op.create_index("ix_runs_tenant_started", "runs", ["tenant", "started_at"])
    op.create_index("ix_runs_tenant_target_started", "runs", ["tenant", "target", "started_at"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_thread", "runs", ["thread_id"])
    op.create_table(
        "events",
        sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "task_outputs",
        sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("output", sa.JSON),
        sa.Column("finished_at", TIME, nullable=False),
    )


def downgrade() -> None:
    for table in ("task_outputs", "events", "runs", "messages", "threads", "owners"):
        op.drop_table(table)
