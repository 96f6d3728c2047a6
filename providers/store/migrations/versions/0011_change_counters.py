"""a counter per kind of data, raised by the database on every write

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:00:00

The search keeps offerings and purchases per server process and must see a write made
by another process at once. Before, it summed six tables on every search to notice a
change; now the database raises one counter in the same transaction as the write, so a
search reads a single row.

SQLite lets one writer in at a time, so a row trigger that raises the counter cannot
wait on another writer. PostgreSQL lets writers work side by side: there the counter is
raised by a deferred constraint trigger, at commit, once per transaction, so no writer
holds the counter while it waits for a row another writer holds (no deadlock).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Per counter, the tables whose writes raise it: every table the search's cache of
# offerings is built from (providers.store.purchase.data_version), and the aanmeldingen
# the loop's measured waits come from (providers.store.waits.aanmelding_version).
COUNTERS = {
    "aanbod": (
        "providers",
        "offerings",
        "offering_releases",
        "contracts",
        "subcontract_acceptances",
        "budgets",
        "import_batches",
    ),
    "aanmeldingen": ("aanmeldingen",),
}

BUMP_PG = """
CREATE OR REPLACE FUNCTION raise_change_counter() RETURNS trigger AS $$
BEGIN
    -- once per transaction: the first row raises it, later rows find it raised
    UPDATE change_counters SET n = n + 1, last_tx = txid_current()
     WHERE kind = TG_ARGV[0] AND last_tx IS DISTINCT FROM txid_current();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("last_tx", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_change_counters")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(BUMP_PG)
    for counter, tables in COUNTERS.items():
        op.execute(
            sa.text("INSERT INTO change_counters (kind, n) VALUES (:kind, 0)").bindparams(
                kind=counter
            )
        )
        for table in tables:
            if dialect == "postgresql":
                op.execute(
                    f"CREATE CONSTRAINT TRIGGER {table}_raise_{counter} "
                    f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    f"EXECUTE FUNCTION raise_change_counter('{counter}')"
                )
            elif dialect == "sqlite":
                for verb in ("INSERT", "UPDATE", "DELETE"):
                    # The names are the constants above, never input.
                    op.execute(
                        f"CREATE TRIGGER {table}_{verb.lower()}_raise_{counter} "  # noqa: S608 # nosec B608
                        f"AFTER {verb} ON {table} BEGIN UPDATE change_counters "
                        f"SET n = n + 1 WHERE kind = '{counter}'; END"
                    )
    # Another database gets no triggers: `data_version` sums the tables there instead.


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for counter, tables in COUNTERS.items():
        for table in tables:
            if dialect == "postgresql":
                op.execute(f"DROP TRIGGER IF EXISTS {table}_raise_{counter} ON {table}")
            elif dialect == "sqlite":
                for verb in ("insert", "update", "delete"):
                    op.execute(f"DROP TRIGGER IF EXISTS {table}_{verb}_raise_{counter}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS raise_change_counter()")
    op.drop_table("change_counters")
