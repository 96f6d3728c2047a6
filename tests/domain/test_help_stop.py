"""A need's search stops at its first change once no later plan can find a smaller one
(matcher.domain.helps: `SearchLimits.stop_at_smallest`)."""

from __future__ import annotations

import sys
from datetime import date

from matcher.domain.explain import explain
from matcher.domain.helps import SearchLimits, SmallestChange, _first_stays_first, _Plan
from matcher.domain.match import match
from matcher.domain.whatif import AddPlaces, AllowLate, ChangeCeiling, LiftIntakeStop

from .helpers import child, offering, scenario

PLACES = _Plan("O2", (), True, (), False)
RAISE = _Plan("O2", (), False, (("B", 100),), False)
STOP_AND_PLACES = _Plan("O2", (LiftIntakeStop("O2"),), True, (), False)
LATE = _Plan("O2", (), False, (), True)


def _found(*deltas, within: bool = True) -> SmallestChange:
    return SmallestChange(tuple(deltas), "O1", within, 1)


def test_one_change_within_the_norm_is_the_smallest_there_is() -> None:
    first = _found(AddPlaces("O1", 1))
    assert _first_stays_first(first, [PLACES, RAISE, LATE], 1, True)


def test_a_later_plan_that_may_need_fewer_changes_is_still_run() -> None:
    # places and a raise: a raise-only plan may need no places at all
    first = _found(AddPlaces("O1", 1), ChangeCeiling("B", 100_00))
    assert not _first_stays_first(first, [RAISE], 2, True)
    assert _first_stays_first(first, [STOP_AND_PLACES], 2, True)
    # a plan with more levers is never run once a change is found
    assert _first_stays_first(_found(AddPlaces("O1", 1)), [STOP_AND_PLACES], 1, True)


def test_a_late_change_waits_for_one_within_the_norm_unless_none_can_be() -> None:
    late = _found(AllowLate(True), within=False)
    assert not _first_stays_first(late, [PLACES], 1, True)
    assert _first_stays_first(late, [PLACES], 1, False)


def _two_full_offerings():
    early = date(2021, 10, 1)  # overdue: they get the places
    kids = [child("A", ruling_date=early), child("A2", ruling_date=early), child("B")]
    return match(scenario(kids, [offering("O1", free_now=1), offering("O2", free_now=1)]))


def test_the_smallest_change_is_the_same_with_and_without_the_stop() -> None:
    r = _two_full_offerings()
    (all_,) = explain(r).needs
    (first,) = explain(r, limits=SearchLimits(stop_at_smallest=True)).needs
    assert len(all_.changes) == 2  # places at either offering
    assert [c.deltas for c in first.changes] == [all_.changes[0].deltas]
    assert first.changes[0].within_norm
    assert first.resolves < all_.resolves


def test_a_run_with_a_floor_searches_every_change(monkeypatch) -> None:
    # check_help drops the changes the floor undoes and keeps the next one
    from matcher.domain.floor import FloorRun, match_with_floor
    from matcher.domain.outcomes import Dimension
    from tests.domain.test_outcomes import starving_list

    module = sys.modules["matcher.domain.explain"]
    seen: list[bool] = []
    real = module.search_help

    def spy(*args, **kw):
        seen.append(kw["limits"].stop_at_smallest)
        return real(*args, **kw)

    monkeypatch.setattr(module, "search_help", spy)
    plain = match(starving_list())
    run = match_with_floor(plain, Dimension.LVB, 0.4).result
    assert run is not None
    asked = SearchLimits(stop_at_smallest=True)
    explain(run, time_budget_s=5, floor=FloorRun(Dimension.LVB, 0.4, plain), limits=asked)
    assert seen
    assert not any(seen)
    seen.clear()
    explain(run, time_budget_s=5, limits=asked)
    assert seen
    assert all(seen)
