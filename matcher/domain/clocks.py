"""Norm clocks, norm statuses and the three wait measures: the one home of these rules.

Norm 1: a vaste jeugdbeschermer within 5 working days after the GI is notified.
Norm 2: a gedragen koers within 6 weeks (anchor configurable) or sooner if urgent.
Norm 3: passende hulp started within 3 calendar months after the ruling, or sooner
("zoveel eerder", `urgent_deadline`).  An intake or overbruggingshulp is never a start.

"Binnen de norm" means one thing only: help starts on or before the legal deadline
(`within_norm`, `start_verdict`).  The objective's target for a child already past its
deadline (`objective_target_date`) is a planning aid, never a norm.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import overload

from dateutil.relativedelta import relativedelta

from matcher.domain.model import (
    CareNeed,
    Child,
    Norm2Anchor,
    Policy,
    RegionalNorm,
    RegionalNormAnchor,
    Scenario,
)

NORM1_WORKING_DAYS = 5
NORM2_DAYS = 42
NORM3_MONTHS = 3


class NormStatus(enum.Enum):
    ON_TIME = "ON_TIME"
    LATE = "LATE"
    LATE_EXPLAINED = "LATE_EXPLAINED"
    LATE_RESOLVED_BY_BREAKTHROUGH = "LATE_RESOLVED_BY_BREAKTHROUGH"
    PENDING = "PENDING"  # not started, deadline not yet passed
    UNKNOWN = "UNKNOWN"  # the clock's anchor date is missing


class ReferralStatus(enum.Enum):
    AANGEMELD = "AANGEMELD"
    INTAKE_DONE = "INTAKE_DONE"
    WAITLIST_AFTER_INTAKE = "WAITLIST_AFTER_INTAKE"
    BRIDGING = "BRIDGING"
    STARTED = "STARTED"


@lru_cache(maxsize=64)
def _holiday_set(country: str, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_working_day(day: date, country: str = "NL") -> bool:
    return day.weekday() < 5 and day not in _holiday_set(country, day.year)


def add_working_days(start: date, n: int, country: str = "NL") -> date:
    """The date `n` working days after `start` (weekends and, if `country`, public holidays)."""
    day = start
    left = n
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, country):
            left -= 1
    return day


def _min_date(a: date, b: date | None) -> date:
    return a if b is None or a <= b else b


def deadline_norm1(child: Child, policy: Policy) -> date | None:
    if child.gi_notified_date is None:
        return None
    return add_working_days(child.gi_notified_date, NORM1_WORKING_DAYS, policy.holidays)


def norm2_anchor(child: Child, policy: Policy) -> date | None:
    r, g = child.ruling_date, child.gi_notified_date
    if policy.norm2_anchor is Norm2Anchor.RULING:
        return r
    if policy.norm2_anchor is Norm2Anchor.GI_NOTIFIED:
        return g
    dates = [d for d in (r, g) if d is not None]
    return max(dates) if dates else None


def deadline_norm2(child: Child, policy: Policy) -> date | None:
    anchor = norm2_anchor(child, policy)
    if anchor is None:
        return child.urgent_deadline
    return _min_date(anchor + timedelta(days=NORM2_DAYS), child.urgent_deadline)


@overload
def norm3_deadline_for(ruling_date: date, urgent_deadline: date | None = None) -> date: ...


@overload
def norm3_deadline_for(
    ruling_date: date | None, urgent_deadline: date | None = None
) -> date | None: ...


def norm3_deadline_for(
    ruling_date: date | None, urgent_deadline: date | None = None
) -> date | None:
    """min(ruling + 3 calendar months, urgent deadline): the inspection definition, for
    callers that only have the dates (None when neither date is known)."""
    if ruling_date is None:
        return urgent_deadline
    return _min_date(_three_months_after(ruling_date), urgent_deadline)


@lru_cache(maxsize=65536)
def _three_months_after(day: date) -> date:
    # relativedelta is slow, and the search for what would help asks this for every
    # child of every re-solve; a waiting list has few distinct ruling dates
    return day + relativedelta(months=NORM3_MONTHS)


def deadline_norm3(child: Child) -> date | None:
    """The norm-3 deadline of a child (see `norm3_deadline_for`)."""
    return norm3_deadline_for(child.ruling_date, child.urgent_deadline)


def regional_deadline_for(anchor: date | None, weeks: int) -> date | None:
    """A regional definition's deadline: `weeks` after its anchor date."""
    return None if anchor is None else anchor + timedelta(weeks=weeks)


def deadline_regional(need: CareNeed, norm: RegionalNorm) -> date | None:
    anchor = (
        need.need_determined_date
        if norm.anchor is RegionalNormAnchor.NEED_DETERMINED
        else need.aanmelding_date
    )
    return regional_deadline_for(anchor, norm.weeks)


def objective_target_date(scenario: Scenario, child: Child, deadline: date | None = None) -> date:
    """The start date the objective aims for; not the norm.

    Normally the norm-3 deadline.  For a child already past it on the evaluation date no
    start can be within the norm any more; the objective then rewards help starting
    within `policy.overdue_grace_days` (the best that can still be done).  Without any
    deadline: the norm-3 period counted from the evaluation date.  `deadline` saves the
    look-up when the caller has it.
    """
    ev = scenario.evaluation_date
    dl = deadline if deadline is not None else deadline_norm3(child)
    if dl is None:
        return norm3_deadline_for(ev)
    if dl < ev:
        return ev + timedelta(days=scenario.policy.overdue_grace_days)
    return dl


def within_norm(deadline: date | None, start: date | None) -> bool:
    """ "Binnen de norm": help starts on or before the legal deadline, and nothing else."""
    return deadline is not None and start is not None and start <= deadline


def days_late_at(deadline: date | None, start: date) -> int:
    """Days a start lies after the deadline (0 when on time or without a deadline)."""
    return 0 if deadline is None else max(0, (start - deadline).days)


class Verdict(enum.Enum):
    """A planned start measured against a deadline."""

    WITHIN_NORM = "WITHIN_NORM"  # starts on or before the deadline
    STARTS_LATE = "STARTS_LATE"  # the deadline is still ahead, the start comes after it
    PAST_DEADLINE = "PAST_DEADLINE"  # the deadline has passed already: start as soon as possible
    NO_START = "NO_START"  # no start known, deadline still ahead
    NO_DEADLINE = "NO_DEADLINE"  # no ruling or urgent date known


_VERDICT_TEXT = {
    Verdict.WITHIN_NORM: "Binnen de norm",
    Verdict.STARTS_LATE: "Start {days} dagen te laat",
    Verdict.PAST_DEADLINE: "Te laat: start zo snel mogelijk",
    Verdict.NO_START: "Nog geen start bekend",
    Verdict.NO_DEADLINE: "Geen termijn bekend",
}


@dataclass(frozen=True)
class NormVerdict:
    """What the search badge, the tafel and the exports say about a planned start."""

    verdict: Verdict
    deadline: date | None
    planned_start: date | None
    days_late: int = 0

    @property
    def within_norm(self) -> bool:
        return self.verdict is Verdict.WITHIN_NORM

    @property
    def text(self) -> str:
        """One short B1 sentence for the reader."""
        if self.verdict is Verdict.STARTS_LATE and self.days_late == 1:
            return "Start 1 dag te laat"
        return _VERDICT_TEXT[self.verdict].format(days=self.days_late)


def start_verdict(deadline: date | None, planned_start: date | None, as_of: date) -> NormVerdict:
    """A planned start against a deadline on `as_of`.

    A start on or before the deadline is within the norm.  When the deadline lies before
    `as_of` no start can be on time any more: PAST_DEADLINE ("te laat: start zo snel
    mogelijk"), with the days late of the planned start (or of `as_of` without one).
    Otherwise a start after the deadline is STARTS_LATE with its days late.
    """
    if deadline is None:
        return NormVerdict(Verdict.NO_DEADLINE, None, planned_start)
    if within_norm(deadline, planned_start):
        return NormVerdict(Verdict.WITHIN_NORM, deadline, planned_start)
    if deadline < as_of:
        late = days_late_at(deadline, planned_start or as_of)
        return NormVerdict(Verdict.PAST_DEADLINE, deadline, planned_start, late)
    if planned_start is None:
        return NormVerdict(Verdict.NO_START, deadline, None)
    return NormVerdict(
        Verdict.STARTS_LATE, deadline, planned_start, days_late_at(deadline, planned_start)
    )


def status(
    deadline: date | None,
    start: date | None,
    as_of: date,
    *,
    explanation: str | None = None,
    resolved_by_breakthrough: bool = False,
) -> NormStatus:
    """Comply or explain: a missed deadline is LATE unless explained or achieved by the
    doorbraakaanpak; both are reported apart from ON_TIME."""
    if deadline is None:
        return NormStatus.UNKNOWN
    if start is not None and start <= deadline:
        return NormStatus.ON_TIME
    if start is None and as_of <= deadline:
        return NormStatus.PENDING
    if resolved_by_breakthrough and start is not None:
        return NormStatus.LATE_RESOLVED_BY_BREAKTHROUGH
    if explanation:
        return NormStatus.LATE_EXPLAINED
    return NormStatus.LATE


def norm1_status(child: Child, policy: Policy, as_of: date) -> NormStatus:
    return status(deadline_norm1(child, policy), child.caseworker_assigned_date, as_of)


def norm2_status(child: Child, policy: Policy, as_of: date) -> NormStatus:
    return status(deadline_norm2(child, policy), child.koers_date, as_of)


def norm3_status(child: Child, need: CareNeed, as_of: date) -> NormStatus:
    return status(
        deadline_norm3(child),
        need.start_date,
        as_of,
        explanation=need.late_explanation,
        resolved_by_breakthrough=need.resolved_by_breakthrough,
    )


def regional_status(child: Child, need: CareNeed, norm: RegionalNorm, as_of: date) -> NormStatus:
    return status(deadline_regional(need, norm), need.start_date, as_of)


@dataclass(frozen=True)
class Waits:
    """Days waited until the start (or until `as_of` while still waiting)."""

    since_ruling: int | None
    since_need_determined: int | None
    since_referral: int | None


def waits(child: Child, need: CareNeed, as_of: date) -> Waits:
    end = need.start_date or as_of

    def days(anchor: date | None) -> int | None:
        return None if anchor is None else (end - anchor).days

    return Waits(
        since_ruling=days(child.ruling_date),
        since_need_determined=days(need.need_determined_date),
        since_referral=days(need.aanmelding_date),
    )


def days_late(child: Child, need: CareNeed, as_of: date) -> int:
    """Days past the norm-3 deadline at the start, or at `as_of` while waiting (0 if on time)."""
    return days_late_at(deadline_norm3(child), need.start_date or as_of)


def classify_provider_report(reported_started: bool, help_began: bool) -> ReferralStatus:
    """A provider's "gestart" after only an intake is stored as INTAKE_DONE (R16)."""
    if reported_started and help_began:
        return ReferralStatus.STARTED
    if reported_started:
        return ReferralStatus.INTAKE_DONE
    return ReferralStatus.AANGEMELD


def waiting_on(need: CareNeed, day: date) -> bool:
    """True when the need still waits on `day`: intake and bridging help do not end a wait."""
    return need.start_date is None or need.start_date > day
