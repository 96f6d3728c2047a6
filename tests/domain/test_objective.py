"""The objective order (docs/matching-rules.md), proven on small cases and by brute force."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from matcher.domain.clocks import deadline_norm3
from matcher.domain.compile import WeightsTooLargeError, compile_scenario, tier_weights
from matcher.domain.match import decode, match
from matcher.domain.model import CareType, Release, Weights
from matcher.problem import MAX_ABS_INT
from matcher.solution import SolveOptions

from .helpers import child, offering, scenario, with_policy

KW, GH, PZ = (
    CareType.KLEINSCHALIGE_WOONVOORZIENING,
    CareType.GEZINSHUIS,
    CareType.PLEEGZORG,
)


def test_one_more_child_within_norm_beats_priority_and_home():
    # P is overdue and urgent and would prefer the gezinshuis (more like home);
    # taking it would leave Q without help.
    p = child(
        "P",
        KW,
        alternatives=(GH,),
        alternative_accepted=True,
        ruling_date=date(2021, 9, 1),
        urgent_deadline=date(2021, 10, 1),
    )
    q = child("Q", GH, ruling_date=date(2022, 2, 20))
    r = match(scenario([p, q], [offering("KW1", KW), offering("GH1", GH)]))
    assert r.placements[("P", "n")].offering == "KW1"
    assert r.placements[("Q", "n")].offering == "GH1"


def test_overdue_before_urgent_before_long_wait():
    overdue = child("A", ruling_date=date(2021, 10, 1))  # deadline passed
    urgent = child("B", ruling_date=date(2022, 2, 25), urgent_deadline=date(2022, 3, 20))
    waited = child("C", ruling_date=date(2021, 12, 10))  # long wait, not overdue
    sc = scenario([waited, urgent, overdue], [offering("O1")])
    assert match(sc).placements.keys() == {("A", "n")}
    sc2 = scenario([waited, urgent], [offering("O1")])
    assert match(sc2).placements.keys() == {("B", "n")}


def test_home_likeness_before_keeping_the_current_place():
    k = child(
        "K",
        CareType.RESIDENTIEEL_JENO,
        alternatives=(GH,),
        alternative_accepted=True,
        current_offering="R1",
    )
    sc = scenario(
        [k], [offering("R1", CareType.RESIDENTIEEL_JENO, free_now=0), offering("GH1", GH)]
    )
    assert match(sc).placements[("K", "n")].offering == "GH1"


def test_keep_current_place_before_region_and_cost():
    k = child("K", current_offering="FAR")
    far = offering("FAR", region="JZ36", free_now=0, price_cents=900000)
    near = offering("NEAR", price_cents=10000)
    from matcher.domain.model import Contract

    sc = scenario([k], [far, near], contracts=(Contract("C-FAR", "FAR", far.care_type, "JZ29"),))
    assert match(sc).placements[("K", "n")].offering == "FAR"


def test_in_region_before_cost():
    from matcher.domain.model import Contract

    far = offering("FAR", region="JZ36", price_cents=10000)
    near = offering("NEAR", price_cents=900000)
    sc = scenario(
        [child("K")], [far, near], contracts=(Contract("C-FAR", "FAR", far.care_type, "JZ29"),)
    )
    sc = with_policy(sc, allow_out_of_region=True)
    assert match(sc).placements[("K", "n")].offering == "NEAR"


def test_cost_last():
    sc = scenario([child("K")], [offering("DEAR", price_cents=500000), offering("CHEAP")])
    assert match(sc).placements[("K", "n")].offering == "CHEAP"


def test_tier_weights_are_strict():
    w = Weights(strict_priority=True)
    for n in (1, 10, 600):
        tw = tier_weights(w, n)
        assert tw.priority_strict
        assert tw.priority > n * tw.fit_max
        assert tw.meets_target > n * (tw.priority_max * tw.priority + tw.fit_max)
        assert n * (tw.meets_target + tw.priority_max * tw.priority + tw.fit_max) <= MAX_ABS_INT


def test_default_priority_is_per_child_and_tier_1_stays_strict():
    for n in (1, 10, 600, 20_000):
        tw = tier_weights(Weights(), n)
        assert tw.priority_mode == "per_child"
        assert tw.priority == tw.fit_max + 1
        assert tw.meets_target > n * (tw.priority_max * tw.priority + tw.fit_max)
    # an overdue or urgent child outweighs the fit of a thousand others
    w = Weights()
    assert w.priority_urgent * (tier_weights(w, 1).fit_max + 1) > 1000 * 199


def test_tier_weights_fall_back_per_child_for_very_large_scenarios():
    tw = tier_weights(Weights(strict_priority=True), 20_000)
    assert not tw.priority_strict
    assert tw.priority == tw.fit_max + 1
    assert tw.meets_target > 20_000 * (tw.priority_max * tw.priority + tw.fit_max)
    national = tier_weights(Weights(), 300_000)
    assert national.priority_mode == "coarse"
    assert national.meets_target > 300_000 * (national.priority_max * national.priority + 199)
    with pytest.raises(WeightsTooLargeError):
        tier_weights(Weights(), 10_000_000)


def _brute_force(problem):
    """All feasible assignments of a tiny problem: (arcs chosen) lists."""
    by_item = [[] for _ in range(problem.n_items)]
    for a in range(problem.n_arcs):
        by_item[int(problem.arc_item[a])].append(a)
    for choice in itertools.product(*[[None, *arcs] for arcs in by_item]):
        use = np.zeros(problem.n_resources, dtype=np.int64)
        arcs = [a for a in choice if a is not None]
        for a in arcs:
            lo, hi = problem.use_ptr[a], problem.use_ptr[a + 1]
            np.add.at(use, problem.use_resource[lo:hi], problem.use_amount[lo:hi])
        if np.all(use <= problem.capacity):
            yield arcs


def tiny(seed: int):
    """A dense little scenario: 6 children, 4 offerings of two care types."""
    import random

    rng = random.Random(seed)
    kids = []
    for i in range(6):
        ct = rng.choice((GH, PZ))
        kids.append(
            child(
                f"K{i}",
                ct,
                alternatives=(PZ if ct is GH else GH,),
                alternative_accepted=rng.random() < 0.5,
                ruling_date=date(2021, 11, 1) + timedelta(days=rng.randrange(0, 120)),
                urgent_deadline=date(2022, 3, 20) if rng.random() < 0.2 else None,
            )
        )
    offs = [
        offering(
            f"O{j}",
            rng.choice((GH, PZ)),
            free_now=rng.choice((0, 1, 1, 2)),
            releases=(Release(date(2022, 3, 1) + timedelta(weeks=rng.randrange(1, 12)), 1),),
            price_cents=rng.randrange(1, 10) * 100000,
        )
        for j in range(4)
    ]
    return scenario(kids, offs)


@pytest.mark.parametrize("seed", range(12))
def test_lexicographic_order_against_brute_force(seed):
    sc = tiny(seed)
    sc = replace(
        sc,
        policy=replace(sc.policy, weights=replace(sc.policy.weights, strict_priority=True)),
    )
    comp = compile_scenario(sc)
    p = comp.problem
    if p.n_arcs == 0 or np.prod([1 + np.sum(p.arc_item == i) for i in range(p.n_items)]) > 200000:
        pytest.skip("nothing to choose, or too large to enumerate")
    sol = match(sc, SolveOptions(time_limit_s=10, relative_gap=0.0), compiled=comp).solution
    r = decode(comp, sol)

    def tiers(arcs):
        infos = [comp.arcs[a] for a in arcs]
        return (
            sum(i.members for i in infos if i.meets_target),
            sum(i.priority for i in infos),
        )

    best = max(tiers(arcs) for arcs in _brute_force(p))
    chosen = [
        a
        for a, info in enumerate(comp.arcs)
        if sol.assignments.get(info.item) == f"{info.offering}@{info.group}"
    ]
    assert tiers(chosen) == best
    assert_norm_counts_follow_the_clock(sc, r, best[0])


def test_a_place_freed_by_a_move_goes_to_another_child():
    k = child(
        "K",
        CareType.RESIDENTIEEL_JENO,
        alternatives=(GH,),
        alternative_accepted=True,
        current_offering="R1",
    )
    other = child("W", CareType.RESIDENTIEEL_JENO)
    sc = scenario(
        [k, other],
        [offering("R1", CareType.RESIDENTIEEL_JENO, free_now=0), offering("GH1", GH)],
    )
    r = match(sc)
    assert r.placements[("K", "n")].offering == "GH1"
    assert r.placements[("W", "n")].offering == "R1"
    assert r.placements[("W", "n")].start == sc.evaluation_date


@pytest.mark.parametrize("seed", range(12))
def test_default_weights_keep_tier_1_optimal_against_brute_force(seed):
    sc = tiny(seed)
    comp = compile_scenario(sc)
    p = comp.problem
    sol = match(sc, SolveOptions(time_limit_s=10, relative_gap=0.0), compiled=comp).solution
    best = max(
        sum(comp.arcs[a].members for a in arcs if comp.arcs[a].meets_target)
        for arcs in _brute_force(p)
    )
    assert_norm_counts_follow_the_clock(sc, decode(comp, sol), best)


def assert_norm_counts_follow_the_clock(sc, r, best_meeting_target):
    """Within the norm is start <= legal deadline; it equals the objective's tier 1 only
    when no child is past its deadline (then the target is the deadline)."""
    assert r.n_within_norm == sum(
        1 for p in r.placements.values() if p.deadline is not None and p.start <= p.deadline
    )
    ev = sc.evaluation_date
    overdue = [c for c in sc.children if (d := deadline_norm3(c)) is not None and d < ev]
    if not overdue:
        assert r.n_within_norm == best_meeting_target
