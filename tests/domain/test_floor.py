"""The group floor: a side constraint that no group falls below a share, and what
it costs in children placed within the norm overall."""

from __future__ import annotations

import pytest

from matcher.domain.floor import match_with_floor
from matcher.domain.match import match
from matcher.domain.outcomes import Dimension, outcomes_per_group
from matcher.solution import verify
from tests.domain.test_outcomes import starving_list


def test_a_floor_lifts_the_starved_group_at_a_price() -> None:
    base = match(starving_list())
    got = match_with_floor(base, Dimension.LVB, 0.4)
    assert got.met
    assert got.result is not None
    # the budget pays 10 cheap places, or 2 LVB places (4 units) and 6 cheap ones
    out = outcomes_per_group(got.result.scenario, got.result.placements, got.result.unplaced, "f")
    lvb = out.row(Dimension.LVB, "met LVB")
    rest = out.row(Dimension.LVB, "zonder LVB")
    assert lvb is not None
    assert rest is not None
    assert lvb.within_norm == 2
    assert rest.within_norm == 6
    assert (got.base_within, got.floor_within, got.cost) == (10, 8, 2)
    # the independent check accepts the answer and agrees on its objective
    report = verify(got.result.compiled.problem, got.result.solution)
    assert report.objective == got.result.solution.objective


def test_a_floor_that_cannot_be_met_says_so_and_keeps_the_matching() -> None:
    base = match(starving_list())
    # 3 LVB children (6 units) and 6 others (6 units) do not fit a budget of 10
    got = match_with_floor(base, Dimension.LVB, 0.6)
    assert not got.met
    assert got.result is None
    assert got.cost is None
    assert got.base is base


def test_no_floor_over_care_types() -> None:
    with pytest.raises(ValueError, match="zorgvorm"):
        match_with_floor(match(starving_list()), Dimension.CARE_TYPE, 0.5)


def test_a_zero_floor_costs_nothing() -> None:
    got = match_with_floor(match(starving_list()), Dimension.GEMEENTE, 0.0)
    assert got.met
    assert got.cost == 0


def test_what_would_help_is_searched_with_the_floor_the_run_used() -> None:
    from matcher.domain.explain import explain, sentences
    from matcher.domain.floor import FLOOR_IS_THE_REASON, FloorRun
    from matcher.domain.whatif import apply_all

    plain = match(starving_list())
    run = match_with_floor(plain, Dimension.LVB, 0.4).result
    assert run is not None
    without = {(n.child_ref, n.need_id): n for n in explain(run, time_budget_s=5).needs}
    got = explain(run, time_budget_s=5, floor=FloorRun(Dimension.LVB, 0.4, plain))
    pushed_out = {k for k in run.unplaced if k in plain.placements}
    assert pushed_out == {("K06", "n"), ("K07", "n"), ("K08", "n"), ("K09", "n")}
    for ne in got.needs:
        key = (ne.child_ref, ne.need_id)
        if key in pushed_out:
            # searched without the floor, a euro more "helps": the plain matching
            # places these children anyway; with the floor the floor is the reason
            assert without[key].changes
            assert ne.changes == []
            assert sentences(ne)[-1] == FLOOR_IS_THE_REASON
            continue
        for c in ne.changes:  # every change kept places the child with the floor
            again = match_with_floor(match(apply_all(run.scenario, c.deltas)), Dimension.LVB, 0.4)
            assert again.result is not None
            assert key in again.result.placements
    assert any(ne.changes for ne in got.needs)


def test_a_change_that_does_not_hold_with_the_floor_is_dropped_and_said() -> None:
    import time

    from matcher.domain.explain import explain
    from matcher.domain.floor import NO_CHANGE_WITH_FLOOR, OUT_OF_TIME, FloorRun, check_help

    plain = match(starving_list())
    run = match_with_floor(plain, Dimension.LVB, 0.4).result
    assert run is not None
    # searched without the floor: a euro more on the ceiling places K06 ...
    needs = [n for n in explain(run, time_budget_s=5).needs if n.child_ref == "K06"]
    assert needs[0].changes
    # ... but not with it (`plain=run`: K06 counts as not placed without the floor)
    check_help(run, needs, FloorRun(Dimension.LVB, 0.4, run), deadline=time.perf_counter() + 30)
    assert needs[0].changes == []
    assert needs[0].search_note == NO_CHANGE_WITH_FLOOR
    # with no time left nothing is claimed that was not solved again
    late = [n for n in explain(run, time_budget_s=5).needs if n.child_ref == "K06"]
    check_help(run, late, FloorRun(Dimension.LVB, 0.4, run), deadline=time.perf_counter() - 1)
    assert late[0].changes == []
    assert late[0].search_note == OUT_OF_TIME
    assert late[0].search_out_of_time
