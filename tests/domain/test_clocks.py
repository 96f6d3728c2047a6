from __future__ import annotations

from datetime import date

from matcher.domain.clocks import (
    NormStatus,
    add_working_days,
    deadline_norm2,
    deadline_norm3,
    norm2_status,
    status,
    waits,
)
from matcher.domain.model import Norm2Anchor, Policy

from .conftest import scenario
from .helpers import child


def test_working_days_skip_weekends_and_dutch_public_holidays():
    # Koningsdag, Wednesday 27 April 2022
    assert add_working_days(date(2022, 4, 25), 5, "NL") == date(2022, 5, 3)
    assert add_working_days(date(2022, 4, 25), 5, "") == date(2022, 5, 2)
    assert add_working_days(date(2022, 1, 6), 5, "NL") == date(2022, 1, 13)


def test_norm3_is_three_calendar_months_or_sooner():
    assert deadline_norm3(child(ruling_date=date(2021, 11, 30))) == date(2022, 2, 28)
    c = child(ruling_date=date(2022, 1, 10), urgent_deadline=date(2022, 2, 1))
    assert deadline_norm3(c) == date(2022, 2, 1)


def test_norm2_anchor_is_configurable():
    c = child(ruling_date=date(2022, 1, 10), gi_notified_date=date(2022, 1, 20))
    assert deadline_norm2(c, Policy()) == date(2022, 3, 3)  # later of the two + 42 days
    assert deadline_norm2(c, Policy(norm2_anchor=Norm2Anchor.RULING)) == date(2022, 2, 21)
    late = child(ruling_date=date(2022, 1, 10), gi_notified_date=date(2022, 1, 20), koers_date=None)
    assert norm2_status(late, Policy(), date(2022, 3, 10)) is NormStatus.LATE


def test_statuses():
    d = date(2022, 4, 10)
    assert status(d, date(2022, 4, 10), date(2022, 5, 1)) is NormStatus.ON_TIME
    assert status(d, None, date(2022, 4, 1)) is NormStatus.PENDING
    assert status(d, None, date(2022, 4, 11)) is NormStatus.LATE
    assert status(d, date(2022, 5, 1), d, explanation="uitleg") is NormStatus.LATE_EXPLAINED
    got = status(d, date(2022, 5, 1), d, resolved_by_breakthrough=True)
    assert got is NormStatus.LATE_RESOLVED_BY_BREAKTHROUGH
    assert status(None, None, d) is NormStatus.UNKNOWN


def test_three_wait_measures_t5_case_x():
    sc = scenario("t5_norm_clocks.json")
    x = sc.child_by_ref["X"]
    w = waits(x, x.need("hulp"), sc.evaluation_date)
    assert w.since_ruling == 77
    assert w.since_need_determined == 63  # "waited about 9 weeks"
    assert w.since_referral is None
