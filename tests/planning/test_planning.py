"""Capacity planning: purchase advice, marginal effects and the naive rule."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from matcher.planning import (
    CandidatePurchase,
    PlanningInputError,
    PlanningProblem,
    compile_region,
    evaluate,
    inflow_children,
    naive_plan,
    naive_units,
    plan_purchases,
    synthetic_region,
    waiting_lists,
)
from matcher.problem import ProblemBuilder
from matcher.solution import SolveOptions

OPTS = SolveOptions(time_limit_s=20.0, workers=1, seed=0)


def tiny() -> PlanningProblem:
    """Three children waiting for ambulant help, one for a gezinshuis.

    Buying the ambulant place (cheap, early) brings two children within the
    norm only if it comes with two places; the gezinshuis place is dear.
    """
    b = ProblemBuilder()
    for r in ("free", "buy:amb", "buy:late", "buy:gh"):
        b.resource(r, 1 if r == "free" else 0)
    within: list[bool] = []
    for ref in ("a1", "a2", "a3"):
        b.item(ref)
        for rid, ok in (("free", True), ("buy:amb", True), ("buy:late", False)):
            b.arc(ref, rid, 1, {rid: 1})
            within.append(ok)
    b.item("g1")
    b.arc("g1", "buy:gh", 1, {"buy:gh": 1})
    within.append(True)
    cands = (
        CandidatePurchase("amb", "p1", "AMBULANTE_JGGZ", "R", 1_000_00, {"buy:amb": 1}, 2),
        CandidatePurchase("late", "p2", "AMBULANTE_JGGZ", "R", 500_00, {"buy:late": 1}, 3),
        CandidatePurchase("gh", "p3", "GEZINSHUIS", "R", 2_500_00, {"buy:gh": 1}, 1),
    )
    return PlanningProblem(
        problem=b.build(),
        within_norm=np.asarray(within),
        candidates=cands,
        item_care_type=("AMBULANTE_JGGZ",) * 3 + ("GEZINSHUIS",),
        item_region=("R",) * 4,
    )


def brute_force_best(pp: PlanningProblem, budget: int) -> int:
    best = -1
    ranges = [range(c.max_units + 1) for c in pp.candidates]
    for combo in itertools.product(*ranges):
        units = {c.id: k for c, k in zip(pp.candidates, combo, strict=True)}
        if pp.spend(units) > budget:
            continue
        best = max(best, evaluate(pp, units, OPTS).within_norm)
    return best


def test_advice_buys_where_it_brings_children_within_the_norm() -> None:
    pp = tiny()
    plan = plan_purchases(pp, 2_500_00, OPTS)
    # two ambulant places (2 x 1,000) beat one gezinshuis place (2,500): 3 vs 2
    assert plan.units == {"amb": 2}
    assert plan.baseline_within_norm == 1
    assert plan.within_norm == 3
    assert plan.spent_cents == 2_000_00
    assert plan.proven_optimal


def test_within_norm_comes_before_placing_more_children_late() -> None:
    # 1,000 buys one early place (one more child within the norm) or two late
    # places (two more children placed, none within the norm): the norm wins.
    plan = plan_purchases(tiny(), 1_000_00, OPTS)
    assert plan.units == {"amb": 1}
    assert (plan.within_norm, plan.placed) == (2, 2)


@pytest.mark.parametrize("budget", [0, 1_000_00, 2_500_00, 3_500_00, 10_000_00])
def test_advice_matches_brute_force_on_tiny(budget: int) -> None:
    pp = tiny()
    plan = plan_purchases(pp, budget, OPTS)
    assert plan.spent_cents <= budget
    assert plan.within_norm == brute_force_best(pp, budget)


@pytest.mark.parametrize("seed", [3, 4])
def test_advice_matches_brute_force_on_small_random(seed: int) -> None:
    inst = synthetic_region(seed, regions=1, children_per_region=14, months=3)
    pp = compile_region(inst)
    # keep the enumeration small: first four candidates, at most 2 units each
    cands = tuple(
        CandidatePurchase(
            c.id, c.provider, c.care_type, c.region, c.price_cents, c.adds, min(2, c.max_units)
        )
        for c in pp.candidates[:4]
    )
    small = PlanningProblem(pp.problem, pp.within_norm, cands, pp.item_care_type, pp.item_region)
    budget = sum(c.price_cents for c in cands) // 2
    plan = plan_purchases(small, budget, OPTS)
    assert plan.within_norm == brute_force_best(small, budget)


def test_effects_list_children_unblocked_and_cost_per_child() -> None:
    plan = plan_purchases(tiny(), 2_500_00, OPTS)
    (eff,) = plan.effects
    assert eff.purchase_id == "amb"
    assert eff.marginal_within_norm == 2
    assert len(eff.unblocked) == 2
    assert set(eff.unblocked) <= {"a1", "a2", "a3"}
    assert eff.cents_per_child == 1_000_00
    assert set(plan.unblocked) == set(eff.unblocked)


def test_more_budget_never_fewer_children_within_norm() -> None:
    pp = compile_region(synthetic_region(5, regions=1, children_per_region=40))
    last = -1
    for budget in (0, 10_000_000, 30_000_000, 60_000_000):
        plan = plan_purchases(pp, budget, OPTS)
        assert plan.spent_cents <= budget
        assert plan.within_norm >= last
        last = plan.within_norm


def test_zero_budget_buys_nothing() -> None:
    plan = plan_purchases(tiny(), 0, OPTS)
    assert plan.units == {}
    assert plan.within_norm == plan.baseline_within_norm
    assert plan.children_per_million_euro is None


def test_naive_rule_buys_where_the_list_is_longest() -> None:
    pp = tiny()
    assert waiting_lists(pp) == {("AMBULANTE_JGGZ", "R"): 3, ("GEZINSHUIS", "R"): 1}
    # the ambulant list is longest: its cheapest place per euro ("late") first
    assert naive_units(pp, 500_00) == {"late": 1}
    units = naive_units(pp, 10_000_00)
    assert units["late"] == 3  # list of 3 is served by 3 cheap (late) places
    assert units.get("gh") == 1


@pytest.mark.parametrize("seed", [11, 12])
def test_advice_never_worse_than_naive(seed: int) -> None:
    pp = compile_region(synthetic_region(seed, regions=2, children_per_region=40))
    budget = 50_000_000
    adv = plan_purchases(pp, budget, OPTS)
    nv = naive_plan(pp, budget, OPTS)
    assert adv.proven_optimal
    assert adv.within_norm >= nv.within_norm
    assert nv.spent_cents <= budget


def test_invalid_planning_input_lists_every_problem() -> None:
    pp = tiny()
    bad = PlanningProblem(
        pp.problem,
        pp.within_norm[:-1],
        (
            CandidatePurchase("x", "p", "T", "R", -5, {"nope": 1}),
            CandidatePurchase("x", "p", "T", "R", 5, {"free": -1}, max_units=-1),
        ),
        pp.item_care_type,
        pp.item_region[:-1],
    )
    with pytest.raises(PlanningInputError) as exc:
        plan_purchases(bad, 100, OPTS)
    text = str(exc.value)
    for part in (
        "within_norm",
        "item_region",
        "twice",
        "negative",
        "unknown resource",
        "max_units",
    ):
        assert part in text
    with pytest.raises(PlanningInputError):
        plan_purchases(tiny(), -1, OPTS)


def test_generator_is_seeded_and_records_are_json() -> None:
    a, b = synthetic_region(7), synthetic_region(7)
    assert a == b
    assert synthetic_region(8) != a
    assert inflow_children(a, 1) == inflow_children(a, 1)
    assert inflow_children(a, 1) != inflow_children(a, 2)
    pp = compile_region(a, inflow_children(a, 1))
    assert pp.problem.n_items == len(a.children) + len(inflow_children(a, 1))
    plan = plan_purchases(compile_region(synthetic_region(7, regions=1)), 20_000_000, OPTS)
    json.dumps(plan.to_record())


def test_advice_over_inflow_draws_beats_naive_on_those_draws() -> None:
    from matcher.planning import inflow_scenarios

    inst = synthetic_region(21, regions=1, children_per_region=30, months=4)
    pp = compile_region(inst)
    draws = inflow_scenarios(inst, 3, seed=99)
    budget = 30_000_000
    adv = plan_purchases(pp, budget, OPTS, scenarios=draws)
    assert adv.rule == "advice-3-draws"
    assert adv.proven_optimal
    assert adv.spent_cents <= budget
    nv = naive_units(pp, budget)
    total_adv = sum(evaluate(d, adv.units, OPTS).within_norm for d in draws)
    total_nv = sum(evaluate(d, nv, OPTS).within_norm for d in draws)
    total_none = sum(evaluate(d, {}, OPTS).within_norm for d in draws)
    assert total_adv >= total_nv
    assert total_adv > total_none


def test_scenarios_must_offer_the_same_purchases() -> None:
    pp = tiny()
    other = PlanningProblem(
        pp.problem, pp.within_norm, pp.candidates[:1], pp.item_care_type, pp.item_region
    )
    with pytest.raises(PlanningInputError):
        plan_purchases(pp, 100, OPTS, scenarios=[other])
