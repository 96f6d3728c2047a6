"""a need closed by a re-import keeps its row and its loop history

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("child_needs") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=20), server_default="open", nullable=False)
        )
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    # A closed need has no place in the older schema: drop it with its history.
    op.execute("DELETE FROM child_needs WHERE status <> 'open'")
    with op.batch_alter_table("child_needs") as batch:
        batch.drop_column("closed_on")
        batch.drop_column("status")
