"""jobs: the server that runs a job and its heartbeat

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("server_id", sa.String(length=64), nullable=True))
    op.add_column("jobs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_jobs_server_id"), "jobs", ["server_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_jobs_server_id"), table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("server_id")
