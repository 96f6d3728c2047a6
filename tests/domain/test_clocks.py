from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from matcher.domain.clocks import (
    NormStatus,
    Verdict,
    add_working_days,
    days_late_at,
    deadline_norm2,
    deadline_norm3,
    norm2_status,
    norm3_deadline_for,
    objective_target_date,
    regional_deadline_for,
    start_verdict,
    status,
    waits,
    within_norm,
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


def test_norm3_deadline_on_plain_dates():
    assert norm3_deadline_for(date(2021, 11, 30)) == date(2022, 2, 28)
    assert norm3_deadline_for(date(2022, 1, 10), date(2022, 2, 1)) == date(2022, 2, 1)
    assert norm3_deadline_for(date(2022, 1, 10), date(2022, 6, 1)) == date(2022, 4, 10)
    assert norm3_deadline_for(None, date(2022, 2, 1)) == date(2022, 2, 1)
    assert norm3_deadline_for(None) is None
    c = child(ruling_date=date(2022, 1, 10), urgent_deadline=date(2022, 2, 1))
    assert deadline_norm3(c) == norm3_deadline_for(c.ruling_date, c.urgent_deadline)


def test_regional_deadline_on_plain_dates():
    assert regional_deadline_for(date(2022, 1, 3), 6) == date(2022, 2, 14)
    assert regional_deadline_for(None, 6) is None


def test_objective_target_is_the_deadline_or_grace_for_overdue_children():
    sc = scenario("t5_norm_clocks.json")
    ev = sc.evaluation_date
    on_time = child(ruling_date=ev)
    assert objective_target_date(sc, on_time) == deadline_norm3(on_time)
    overdue = child(ruling_date=ev - timedelta(days=200))
    assert deadline_norm3(overdue) < ev
    grace = sc.policy.overdue_grace_days
    assert objective_target_date(sc, overdue) == ev + timedelta(days=grace)
    unknown = child(ruling_date=None)
    assert objective_target_date(sc, unknown) == norm3_deadline_for(ev)


def test_within_norm_and_days_late():
    d = date(2022, 4, 10)
    assert within_norm(d, d)
    assert not within_norm(d, date(2022, 4, 11))
    assert not within_norm(None, d)
    assert not within_norm(d, None)
    assert days_late_at(d, date(2022, 4, 13)) == 3
    assert days_late_at(d, date(2022, 4, 1)) == 0
    assert days_late_at(None, date(2022, 4, 13)) == 0


def test_start_verdicts_are_distinct():
    d = date(2022, 4, 10)
    on_time = start_verdict(d, date(2022, 4, 10), date(2022, 3, 1))
    assert on_time.verdict is Verdict.WITHIN_NORM
    assert on_time.within_norm
    assert (on_time.days_late, on_time.text) == (0, "Binnen de norm")
    late = start_verdict(d, date(2022, 4, 20), date(2022, 3, 1))
    assert late.verdict is Verdict.STARTS_LATE
    assert not late.within_norm
    assert (late.days_late, late.text) == (10, "Start 10 dagen te laat")
    assert start_verdict(d, date(2022, 4, 11), date(2022, 3, 1)).text == "Start 1 dag te laat"
    past = start_verdict(d, date(2022, 5, 1), date(2022, 4, 20))
    assert past.verdict is Verdict.PAST_DEADLINE
    assert not past.within_norm
    assert (past.days_late, past.text) == (21, "Te laat: start zo snel mogelijk")
    waiting_past = start_verdict(d, None, date(2022, 4, 15))
    assert (waiting_past.verdict, waiting_past.days_late) == (Verdict.PAST_DEADLINE, 5)
    assert start_verdict(d, None, date(2022, 3, 1)).verdict is Verdict.NO_START
    assert start_verdict(None, d, d).verdict is Verdict.NO_DEADLINE
    assert len({v.text for v in (on_time, late, past)}) == 3


def test_a_start_already_made_before_the_deadline_stays_within_norm():
    d = date(2022, 4, 10)
    assert start_verdict(d, date(2022, 4, 1), date(2022, 5, 1)).within_norm


def test_the_norm_rules_have_one_home():
    """No module of matcher/domain but clocks spells out a norm period or the grace."""
    domain = Path(__file__).resolve().parents[2] / "matcher" / "domain"
    for path in domain.glob("*.py"):
        if path.name in ("clocks.py", "model.py"):  # model declares the policy field
            continue
        text = path.read_text(encoding="utf-8")
        for rule in ("relativedelta", "months=3", "overdue_grace_days", "weeks=norm"):
            assert rule not in text, f"{path.name} repeats a norm rule ({rule})"
