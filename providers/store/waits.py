"""Measured wait per offering: days from aanmelding to the real start, from the loop.

Only starts of the last `MONTHS` months count, and a figure is shown only from
`MIN_STARTS` starts on: fewer say more about chance than about the offering.  These
are counts per offering, not case data, so every signed-in role may read them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from providers.store.models import Aanmelding, AanmeldingStatus

MONTHS = 6
MIN_STARTS = 6
# A provider's own figure that differs from the measured median by more than this
# many days is marked: the page then says which one the forecast used.
DEFAULT_MARGIN_DAYS = 14


@dataclass(frozen=True)
class MeasuredWait:
    offering_id: int
    count: int
    median_days: float | None  # None below MIN_STARTS
    p80_days: int | None

    @property
    def shown(self) -> bool:
        return self.median_days is not None


def percentile(values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile (q in 0..100) of a non-empty list: always a real value."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[int]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def summarise(offering_id: int, days: Sequence[int]) -> MeasuredWait:
    if len(days) < MIN_STARTS:
        return MeasuredWait(offering_id, len(days), None, None)
    return MeasuredWait(offering_id, len(days), median(days), percentile(days, 80))


def measured_waits(session: Session, *, today: dt.date) -> dict[int, MeasuredWait]:
    """Per offering with at least one start in the window: the measured wait."""
    since = today - relativedelta(months=MONTHS)
    rows = session.execute(
        select(Aanmelding.offering_id, Aanmelding.requested_on, Aanmelding.start_date).where(
            Aanmelding.status == AanmeldingStatus.GESTART.value,
            Aanmelding.start_date.is_not(None),
            Aanmelding.start_date > since,
            Aanmelding.start_date <= today,
        )
    ).all()
    by: dict[int, list[int]] = {}
    for oid, requested, started in rows:
        if started is None:  # excluded by the query; keeps the type exact
            continue
        by.setdefault(oid, []).append((started - requested).days)
    return {oid: summarise(oid, days) for oid, days in sorted(by.items())}


def differs(self_reported_days: int, measured: MeasuredWait, margin: int) -> bool:
    """True when the provider's own figure is more than `margin` days off the measured
    median (only for a shown measurement)."""
    return measured.median_days is not None and (
        abs(self_reported_days - measured.median_days) > margin
    )
