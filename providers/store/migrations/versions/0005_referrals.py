"""the referral loop: aanmeldingen, their history, need clocks and meldingen

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATUSES = (
    "aangevraagd",
    "geaccepteerd",
    "afgewezen",
    "ingetrokken",
    "afgemeld",
    "intake_gedaan",
    "afgewezen_na_intake",
    "gestart",
)


def upgrade() -> None:
    op.create_table(
        "need_clocks",
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("need_determined_date", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("started_offering_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["child_needs.id"],
            name=op.f("fk_need_clocks_need_id_child_needs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["started_offering_id"],
            ["offerings.id"],
            name=op.f("fk_need_clocks_started_offering_id_offerings"),
        ),
        sa.PrimaryKeyConstraint("need_id", name=op.f("pk_need_clocks")),
    )
    op.create_table(
        "aanmeldingen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("active_need_id", sa.Integer(), nullable=True),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("context", sa.String(length=400), nullable=False),
        sa.Column("shared_attributes", sa.String(length=400), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("planned_intake", sa.Date(), nullable=True),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("reason_text", sa.String(length=400), nullable=False),
        sa.Column("intake_date", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN (" + ", ".join(repr(s) for s in STATUSES) + ")",
            name=op.f("ck_aanmeldingen_status"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_aanmeldingen_version_positive")),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["child_needs.id"],
            name=op.f("fk_aanmeldingen_need_id_child_needs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"], ["offerings.id"], name=op.f("fk_aanmeldingen_offering_id_offerings")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_aanmeldingen_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aanmeldingen")),
        sa.UniqueConstraint("active_need_id", name="uq_aanmeldingen_active_need_id"),
    )
    op.create_index(op.f("ix_aanmeldingen_need_id"), "aanmeldingen", ["need_id"])
    op.create_index(op.f("ix_aanmeldingen_offering_id"), "aanmeldingen", ["offering_id"])
    op.create_table(
        "aanmelding_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aanmelding_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["aanmelding_id"],
            ["aanmeldingen.id"],
            name=op.f("fk_aanmelding_events_aanmelding_id_aanmeldingen"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aanmelding_events")),
    )
    op.create_index(
        op.f("ix_aanmelding_events_aanmelding_id"), "aanmelding_events", ["aanmelding_id"]
    )
    op.create_table(
        "meldingen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=100), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_meldingen_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meldingen")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_meldingen_dedupe_key")),
    )
    op.create_index(op.f("ix_meldingen_organisation_id"), "meldingen", ["organisation_id"])
    op.create_table(
        "melding_addresses",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_melding_addresses_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "email", name=op.f("pk_melding_addresses")),
    )


def downgrade() -> None:
    op.drop_table("melding_addresses")
    op.drop_index(op.f("ix_meldingen_organisation_id"), table_name="meldingen")
    op.drop_table("meldingen")
    op.drop_index(op.f("ix_aanmelding_events_aanmelding_id"), table_name="aanmelding_events")
    op.drop_table("aanmelding_events")
    op.drop_index(op.f("ix_aanmeldingen_offering_id"), table_name="aanmeldingen")
    op.drop_index(op.f("ix_aanmeldingen_need_id"), table_name="aanmeldingen")
    op.drop_table("aanmeldingen")
    op.drop_table("need_clocks")
