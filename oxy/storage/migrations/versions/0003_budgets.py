"""Budgets shared by every `oxy serve` process on one store: a token bucket per API key, and a lease
per run for the runs an API key has going at once. And thread indexes that serve a page of a tenant's
(or one agent's) newest threads straight from the index, however many threads it has.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_table(
        "run_leases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("acquired_at", TIME, nullable=False),
    )
    op.create_index("ix_run_leases_scope", "run_leases", ["scope"])
    op.drop_index("ix_threads_tenant_updated", "threads")
    op.create_index("ix_threads_tenant_updated", "threads", ["tenant", "updated_at", "id"])
    op.create_index("ix_threads_tenant_agent_updated", "threads", ["tenant", "agent", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_threads_tenant_agent_updated", "threads")
    op.drop_index("ix_threads_tenant_updated", "threads")
    op.create_index("ix_threads_tenant_updated", "threads", ["tenant", "updated_at"])
    op.drop_index("ix_run_leases_scope", "run_leases")
    op.drop_table("run_leases")
    op.drop_table("rate_buckets")
