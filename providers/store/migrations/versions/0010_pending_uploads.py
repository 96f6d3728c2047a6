"""pending uploads between preview and confirmation, shared by all server processes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("files", sa.LargeBinary(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_uploads")),
        sa.UniqueConstraint("token", name=op.f("uq_pending_uploads_token")),
    )
    op.create_index(op.f("ix_pending_uploads_owner"), "pending_uploads", ["owner"])
    op.create_index(op.f("ix_pending_uploads_expires_at"), "pending_uploads", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_uploads_expires_at"), table_name="pending_uploads")
    op.drop_index(op.f("ix_pending_uploads_owner"), table_name="pending_uploads")
    op.drop_table("pending_uploads")
