"""release schedule by date per offering

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-06 02:30:00
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
        "offering_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.CheckConstraint("places >= 1", name=op.f("ck_offering_releases_places_positive")),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            name=op.f("fk_offering_releases_offering_id_offerings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offering_releases")),
        sa.UniqueConstraint("offering_id", "on_date", name="uq_offering_releases_offering_date"),
    )
    op.create_index(op.f("ix_offering_releases_offering_id"), "offering_releases", ["offering_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_offering_releases_offering_id"), table_name="offering_releases")
    op.drop_table("offering_releases")
