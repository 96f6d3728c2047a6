"""Retention: remove case rows some months after placement or closure, keep counts.

AVG data minimisation: a child's row (and needs) is deleted `months` after it
was placed or closed.  Before deleting, the counts per month of placement or
closure x region x gemeente x care type x status are added to
`case_statistics`, so aggregates over past months stay correct.  A child
with two needs counts under both care types, as in `waiting_aggregates`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from providers.store.access import AccessDenied, Principal, audit
from providers.store.models import (
    AuditAction,
    CaseStatistic,
    Child,
    ChildNeed,
    ChildStatus,
    Role,
)

RETENTION_ENV = "WIJZER_RETENTION_MONTHS"
DEFAULT_MONTHS = 24


def purge_case_data(session: Session, principal: Principal, *, months: int, today: dt.date) -> int:
    """Delete children placed or closed before `today - months`; return how many.

    Runs in the caller's transaction (the caller commits); only beheer may run it.
    """
    if principal.role is not Role.BEHEER:
        raise AccessDenied("Alleen beheer kan gegevens opschonen.")
    if months < 1:
        raise ValueError("months must be at least 1")
    cutoff = today - relativedelta(months=months)
    placed = ChildStatus.PLACED.value
    closed = ChildStatus.CLOSED.value
    rows = session.execute(
        select(
            Child.id,
            Child.ref,
            Child.status,
            Child.placed_at,
            Child.closed_at,
            Child.region_code,
            Child.gemeente_code,
        ).where(Child.status.in_((placed, closed)))
    ).all()
    doomed: dict[int, tuple[str, str, str, str, str]] = {}
    for cid, ref, status, placed_at, closed_at, region, gemeente in rows:
        on = placed_at if status == placed else closed_at
        if on is not None and on < cutoff:
            doomed[cid] = (ref, f"{on:%Y-%m}", region, gemeente, status)
    if not doomed:
        return 0
    ids = sorted(doomed)
    cells: Counter[tuple[str, str, str, str, str]] = Counter()
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        for cid, care_type in session.execute(
            select(ChildNeed.child_id, ChildNeed.care_type).where(ChildNeed.child_id.in_(chunk))
        ):
            _, month, region, gemeente, status = doomed[cid]
            cells[(month, region, gemeente, care_type, status)] += 1
    for (month, region, gemeente, care_type, status), n in sorted(cells.items()):
        cell = session.scalar(
            select(CaseStatistic).where(
                CaseStatistic.month == month,
                CaseStatistic.region_code == region,
                CaseStatistic.gemeente_code == gemeente,
                CaseStatistic.care_type == care_type,
                CaseStatistic.status == status,
            )
        )
        if cell is None:
            session.add(
                CaseStatistic(
                    month=month,
                    region_code=region,
                    gemeente_code=gemeente,
                    care_type=care_type,
                    status=status,
                    children=n,
                )
            )
        else:
            cell.children += n
    session.flush()
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        session.execute(delete(ChildNeed).where(ChildNeed.child_id.in_(chunk)))
        session.execute(delete(Child).where(Child.id.in_(chunk)))
    audit(
        session,
        principal,
        AuditAction.DELETE,
        "children",
        [doomed[i][0] for i in ids],
        detail=f"bewaartermijn {months} maanden",
    )
    session.flush()
    return len(ids)
