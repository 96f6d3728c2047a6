"""Outcomes per group, first come, first served, and the disparity flag."""

from __future__ import annotations

from datetime import date

from matcher.domain.fcfs import first_come_first_served
from matcher.domain.match import match
from matcher.domain.model import (
    Budget,
    Child,
    ChildAttribute,
    Expertise,
    MeasureType,
    Policy,
    Release,
    UnclassifiedNeed,
)
from matcher.domain.outcomes import (
    ADULT,
    AGE_BANDS,
    UNCLASSIFIED,
    Dimension,
    age_band,
    flag_text,
    matching_and_fcfs,
    outcomes_per_group,
    p90,
)
from tests.domain.helpers import EV, GM, child, offering, scenario

LVB = frozenset({ChildAttribute.LVB})


def starving_list():
    """Five LVB children need the LVB offering at twice the price; ten others fit the
    cheap offering.  The budget pays ten cheap places or five LVB places: the most
    children within the norm leaves every LVB child without a place.  The LVB
    children's rulings are older, so first come, first served serves them first."""
    lvb = [child(f"L{i}", attributes=LVB, ruling_date=date(2022, 1, 15 + i)) for i in range(5)]
    others = [child(f"K{i:02}", ruling_date=date(2022, 2, 1 + i)) for i in range(10)]
    offers = [
        offering("LVB", free_now=5, price_cents=200000, expertise=frozenset({Expertise.LVB})),
        offering("GEWOON", free_now=10, price_cents=100000),
    ]
    budget = Budget("B", ceiling_cents=1_000_000, gemeente=GM)
    return scenario(lvb + others, offers, budgets=(budget,))


def test_the_optimum_starves_lvb_and_the_flag_says_so():
    result = match(starving_list())
    assert result.n_within_norm == 10
    ours, fcfs = matching_and_fcfs(result)
    lvb = ours.row(Dimension.LVB, "met LVB")
    rest = ours.row(Dimension.LVB, "zonder LVB")
    assert lvb is not None
    assert rest is not None
    assert (lvb.children, lvb.within_norm, lvb.unplaced) == (5, 0, 5)
    assert lvb.within_share == 0.0
    assert lvb.rest_share == 100.0
    assert lvb.flagged
    assert not rest.flagged
    assert "0% binnen de norm" in flag_text(lvb)
    # first come, first served spends the budget on the older LVB rulings instead
    f_lvb = fcfs.row(Dimension.LVB, "met LVB")
    f_rest = fcfs.row(Dimension.LVB, "zonder LVB")
    assert f_lvb is not None
    assert f_rest is not None
    assert (f_lvb.within_norm, f_rest.within_norm, f_rest.unplaced) == (5, 0, 10)
    assert f_rest.flagged
    assert not f_lvb.flagged


def test_a_group_under_five_children_is_never_flagged():
    sc = starving_list()
    sc = scenario(
        [c for c in sc.children if c.ref not in ("L3", "L4")],
        sc.offerings,
        budgets=sc.budgets,
    )
    ours, _ = matching_and_fcfs(match(sc))
    lvb = ours.row(Dimension.LVB, "met LVB")
    assert lvb is not None
    assert lvb.children == 3
    assert lvb.within_norm == 0
    assert not lvb.flagged
    assert flag_text(lvb) == ""


def test_ten_points_below_the_rest_is_not_yet_a_gap():
    """Exactly 10 points below is not flagged; the rule is 'more than 10 points'."""

    class P:
        def __init__(self, ok: bool) -> None:
            self.within_norm = ok
            self.days_late = 0 if ok else 3

    kids = [child(f"A{i}", gemeente="GM0597") for i in range(10)]
    kids += [child(f"B{i}") for i in range(10)]
    sc = scenario(kids, [offering()])
    placements = {(c.ref, "n"): P(i != 0) for i, c in enumerate(kids[:10])}
    placements.update({(c.ref, "n"): P(True) for c in kids[10:]})
    out = outcomes_per_group(sc, placements, [], "test")
    a = out.row(Dimension.GEMEENTE, "GM0597")
    assert a is not None
    assert a.within_share == 90.0
    assert a.rest_share == 100.0
    assert not a.flagged


def test_every_waiting_child_is_in_one_bucket_per_dimension():
    sc = starving_list()
    done = child("DONE", start_date=date(2022, 2, 20))
    sc = scenario([*list(sc.children), done], sc.offerings, budgets=sc.budgets)
    result = match(sc)
    ours, fcfs = matching_and_fcfs(result)
    for out in (ours, fcfs):
        for dim in (Dimension.GEMEENTE, Dimension.AGE, Dimension.LVB, Dimension.MEASURE):
            rows = [r for r in out.rows if r.dimension is dim]
            assert sum(r.children for r in rows) == 15  # DONE is not waiting
            for r in rows:
                assert r.children == r.within_norm + r.placed_late + r.unplaced + r.unclassified


def test_unclassified_children_are_counted_apart():
    kid = Child(
        ref="U",
        gemeente=GM,
        region="JZ29",
        age_years=9,
        ruling_date=date(2022, 2, 1),
        unclassified_needs=(UnclassifiedNeed("u1"),),
    )
    sc = scenario([kid, child("K")], [offering()])
    ours, _ = matching_and_fcfs(match(sc))
    row = ours.row(Dimension.CARE_TYPE, UNCLASSIFIED)
    age = ours.row(Dimension.AGE, AGE_BANDS[1])
    assert row is not None
    assert row.unclassified == 1
    assert row.children == 1
    assert age is not None
    assert age.unclassified == 1


def test_days_late_mean_and_p90_are_over_the_children_placed_late():
    # deadline 1 May; places free on 11 May and 31 May: 10 and 30 days late
    kids = [child(f"K{i}") for i in range(2)]
    rel = (Release(date(2022, 5, 11), 1), Release(date(2022, 5, 31), 1))
    o = offering("O", free_now=0, releases=rel)
    sc = scenario(kids, [o], policy=Policy(allow_late=True))
    ours, _ = matching_and_fcfs(match(sc))
    row = ours.row(Dimension.MEASURE, "OTS")
    assert row is not None
    assert row.placed_late == 2
    assert row.mean_days_late == 20.0
    assert row.p90_days_late == 30


def test_p90_is_the_nearest_rank():
    assert p90([]) is None
    assert p90([7]) == 7
    assert p90(list(range(1, 11))) == 9
    assert p90(list(range(1, 12))) == 10


def test_age_bands_and_turning_18():
    sc = scenario([], [])
    assert age_band(sc, child(age_years=5)) == AGE_BANDS[0]
    assert age_band(sc, child(age_years=6)) == AGE_BANDS[1]
    assert age_band(sc, child(age_years=15)) == AGE_BANDS[2]
    assert age_band(sc, child(age_years=17)) == AGE_BANDS[3]
    assert age_band(sc, child(age_years=18)) == ADULT
    # born June 2004: 17 on 1 March 2022, 18 within 26 weeks
    assert age_band(sc, child(age_years=None, birth_month=date(2004, 6, 1))) == AGE_BANDS[4]
    assert age_band(sc, child(age_years=None, birth_month=date(2005, 6, 1))) == AGE_BANDS[3]
    assert date(2022, 3, 1) == EV


def test_fcfs_serves_the_oldest_ruling_first_at_the_earliest_free_place():
    old = child("OLD", ruling_date=date(2022, 1, 1))
    new = child("NEW", ruling_date=date(2022, 2, 1), measure=MeasureType.JEUGDRECLASSERING)
    sc = scenario([new, old], [offering("O", free_now=1)])
    res = first_come_first_served(sc)
    assert list(res.placements) == [("OLD", "n")]
    assert res.unplaced == [("NEW", "n")]
    assert res.placements[("OLD", "n")].start == EV
