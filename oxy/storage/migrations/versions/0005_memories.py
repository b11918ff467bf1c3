"""Long-term memories: what an agent was asked to remember, for one tenant and user, with its vector.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memories",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(255), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("embedder", sa.String(255), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_memories_tenant_user", "memories", ["tenant", "user", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_memories_tenant_user", "memories")
    op.drop_table("memories")
