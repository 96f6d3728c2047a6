"""Change counters: numbers the database raises in the transaction of every write to
one kind of data (the triggers of migration 0011), so a cache can tell with one read
of one row whether anything it was built from changed, also when another server
process wrote it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from providers.store.models import ChangeCounter

# Everything the search's cache of offerings and purchases is built from.
OFFERS = "aanbod"
# The aanmeldingen (the loop's measured waits and answer counts).
AANMELDINGEN = "aanmeldingen"
# The databases migration 0011 gives the triggers to.
WITH_TRIGGERS = ("sqlite", "postgresql")


def counter(session: Session, kind: str, read: Mapping[str, int] | None = None) -> int | None:
    """The counter's value now, or None when this database keeps no counters (the
    caller then derives a version from the tables themselves). Read it before the data
    it stands for: data kept under a value is then never older than that value.
    `read`: every counter as `counters` read it earlier in this session (one read for
    all; the data read after it is then no older than its values either)."""
    if read is not None:
        return read[kind]
    if session.get_bind().dialect.name not in WITH_TRIGGERS:
        return None
    return session.scalar(select(ChangeCounter.n).where(ChangeCounter.kind == kind))


# Built once: the search reads it on every page.
_EVERY_COUNTER = select(ChangeCounter.kind, ChangeCounter.n)


def counters(session: Session) -> dict[str, int] | None:
    """Every counter's value now in one read, or None as in `counter`."""
    if session.get_bind().dialect.name not in WITH_TRIGGERS:
        return None
    rows = session.execute(_EVERY_COUNTER)
    return {kind: n for kind, n in rows}
