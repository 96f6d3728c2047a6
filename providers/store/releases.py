"""An offering's release schedule by date: places that free up on known dates.

Read together with the offerings (capacity, not case data); written only through
`providers.store.access.update_offering`, which checks who may change the offering
and bumps its version, so a schedule cannot change behind an open edit form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from providers.store.models import OfferingRelease

Schedule = tuple[tuple[dt.date, int], ...]
# A schedule is a few known dates, not a forecast; more rows are refused.
MAX_ROWS = 20
# Above this many offerings, read the whole (small) table instead of a long IN list.
_SCAN_ABOVE = 1000


def schedules(session: Session, offering_ids: Sequence[int]) -> dict[int, Schedule]:
    """Offering id -> its dated releases, earliest first (offerings without: absent)."""
    if not offering_ids:
        return {}
    q = select(OfferingRelease.offering_id, OfferingRelease.on_date, OfferingRelease.places)
    if len(offering_ids) <= _SCAN_ABOVE:
        q = q.where(OfferingRelease.offering_id.in_(list(offering_ids)))
    wanted = set(offering_ids)
    out: dict[int, list[tuple[dt.date, int]]] = {}
    for oid, on, places in session.execute(q.order_by(OfferingRelease.on_date)):
        if oid in wanted:
            out.setdefault(oid, []).append((on, places))
    return {k: tuple(v) for k, v in out.items()}


def check_schedule(rows: Iterable[tuple[dt.date, int]]) -> Schedule:
    """The schedule sorted by date; ValueError when a date repeats, places are not a
    whole number of at least 1, or there are more than MAX_ROWS dates."""
    out = sorted(rows)
    if len(out) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} release dates")
    dates = [d for d, _ in out]
    if len(set(dates)) != len(dates):
        raise ValueError("a release date occurs twice")
    for _, places in out:
        if isinstance(places, bool) or not isinstance(places, int) or places < 1:
            raise ValueError("release places must be a whole number >= 1")
    return tuple(out)


def replace_schedule(session: Session, offering_id: int, schedule: Schedule) -> None:
    """Store `schedule` as the offering's whole schedule (the caller checked the role)."""
    session.execute(delete(OfferingRelease).where(OfferingRelease.offering_id == offering_id))
    if schedule:
        session.execute(
            insert(OfferingRelease),
            [{"offering_id": offering_id, "on_date": d, "places": n} for d, n in schedule],
        )
