"""a family's wish to stay on one provider's waiting list, per child

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_prefers_provider_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_children_family_prefers_provider_id_providers"),
            "providers",
            ["family_prefers_provider_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_children_family_prefers_provider_id_providers"), type_="foreignkey"
        )
        batch_op.drop_column("family_prefers_provider_id")
