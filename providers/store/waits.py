"""Measured wait per offering: days from aanmelding to the real start, from the loop.

Only starts of the last `MONTHS` months count, and a figure is shown only from
`MIN_STARTS` starts on: fewer say more about chance than about the offering.  These
are counts per offering, not case data, so every signed-in role may read them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from providers.store import changes
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
    # days from the provider's yes to the real start (the wait after the queue)
    lead_median_days: float | None = None

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


def summarise(offering_id: int, days: Sequence[int], leads: Sequence[int] = ()) -> MeasuredWait:
    if len(days) < MIN_STARTS:
        return MeasuredWait(offering_id, len(days), None, None)
    lead = median(leads) if leads else None
    return MeasuredWait(offering_id, len(days), median(days), percentile(days, 80), lead)


def aanmelding_version(
    session: Session, read: Mapping[str, int] | None = None
) -> tuple[object, ...]:
    """Changes whenever an aanmelding is made, answered, started or removed (every
    status change raises its version), so figures computed from them can be kept
    until then: on SQLite and PostgreSQL the database's own change counter.
    `read`: the counters as `changes.counters` read them earlier in this session."""
    n = changes.counter(session, changes.AANMELDINGEN, read)
    if n is not None:
        return (n,)
    a = Aanmelding
    row = session.execute(
        select(
            func.count(a.id),
            func.coalesce(func.sum(a.version), 0),
            func.max(a.id),
            func.max(a.updated_at),
        )
    ).one()
    return tuple(row)


def measured_waits(session: Session, *, today: dt.date) -> dict[int, MeasuredWait]:
    """Per offering with at least one start in the window: the measured wait."""
    since = today - relativedelta(months=MONTHS)
    rows = session.execute(
        select(
            Aanmelding.offering_id,
            Aanmelding.requested_on,
            Aanmelding.start_date,
            Aanmelding.answered_on,
        ).where(
            Aanmelding.status == AanmeldingStatus.GESTART.value,
            Aanmelding.start_date.is_not(None),
            Aanmelding.start_date > since,
            Aanmelding.start_date <= today,
        )
    ).all()
    by: dict[int, list[int]] = {}
    leads: dict[int, list[int]] = {}
    for oid, requested, started, answered in rows:
        if started is None:  # excluded by the query; keeps the type exact
            continue
        by.setdefault(oid, []).append((started - requested).days)
        leads.setdefault(oid, []).append((started - (answered or requested)).days)
    return {oid: summarise(oid, days, leads[oid]) for oid, days in sorted(by.items())}


@dataclass(frozen=True)
class AnswerCounts:
    """Aanmeldingen per offering in the same window: made, answered, and answered no."""

    requests: int
    answers: int
    declines: int


DECLINED = (AanmeldingStatus.AFGEWEZEN.value, AanmeldingStatus.AFGEWEZEN_NA_INTAKE.value)


def answer_counts(session: Session, *, today: dt.date) -> dict[int, AnswerCounts]:
    """Per offering: aanmeldingen made in the last `MONTHS` months, and of those
    answered in that time how many were a no (before or after the intake)."""
    since = today - relativedelta(months=MONTHS)
    asked: dict[int, int] = {}
    answers: dict[int, int] = {}
    declines: dict[int, int] = {}
    for oid, requested, answered, status in session.execute(
        select(
            Aanmelding.offering_id,
            Aanmelding.requested_on,
            Aanmelding.answered_on,
            Aanmelding.status,
        ).where((Aanmelding.requested_on > since) | (Aanmelding.answered_on > since))
    ):
        if since < requested <= today:
            asked[oid] = asked.get(oid, 0) + 1
        if answered is not None and since < answered <= today:
            answers[oid] = answers.get(oid, 0) + 1
            if status in DECLINED:
                declines[oid] = declines.get(oid, 0) + 1
    return {
        oid: AnswerCounts(asked.get(oid, 0), answers.get(oid, 0), declines.get(oid, 0))
        for oid in sorted(set(asked) | set(answers))
    }


def differs(self_reported_days: int, measured: MeasuredWait, margin: int) -> bool:
    """True when the provider's own figure is more than `margin` days off the measured
    median (only for a shown measurement)."""
    return measured.median_days is not None and (
        abs(self_reported_days - measured.median_days) > margin
    )
