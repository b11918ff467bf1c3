"""Thread summaries: an agent with `memory: {summarize: true}` keeps the summary of a thread's
older turns, and how many messages it covers, with the thread.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("threads") as batch:
        batch.add_column(sa.Column("summary", sa.Text, nullable=True))
        batch.add_column(sa.Column("summary_upto", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("threads") as batch:
        batch.drop_column("summary_upto")
        batch.drop_column("summary")
