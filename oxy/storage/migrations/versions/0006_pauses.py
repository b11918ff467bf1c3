"""Runs that pause for a person (`input_requests`) and the background tasks agents start (`workspace_tasks`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "input_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(255), nullable=False),
        sa.Column("thread_id", sa.String(64)),
        sa.Column("target", sa.String(1024), nullable=False),
        sa.Column("user", sa.String(255)),
        sa.Column("variant", sa.String(255)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tool", sa.String(255), nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("rule", sa.Text),
        sa.Column("subject", sa.Text),
        sa.Column("options", sa.JSON(none_as_null=True)),
        sa.Column("call_id", sa.String(255)),
        sa.Column("transcript", sa.JSON(none_as_null=True)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("answer", sa.JSON(none_as_null=True)),
        sa.Column("grant_key", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_input_requests_run", "input_requests", ["run_id"])
    op.create_index("ix_input_requests_thread", "input_requests", ["thread_id"])
    op.create_table(
        "workspace_tasks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("root", sa.Text, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("tenant", sa.String(255)),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("process", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
        sa.Column("exit_code", sa.Integer),
    )
    op.create_index("ix_workspace_tasks_owner", "workspace_tasks", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_workspace_tasks_owner", "workspace_tasks")
    op.drop_table("workspace_tasks")
    op.drop_index("ix_input_requests_thread", "input_requests")
    op.drop_index("ix_input_requests_run", "input_requests")
    op.drop_table("input_requests")
