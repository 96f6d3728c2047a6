"""solve(): hand-checked cases, oracles (networkx, brute force) and properties."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import (
    AssignmentProblem,
    ProblemBuilder,
    Sense,
    SolveOptions,
    Status,
    solve,
    verify,
)
from matcher.solvers.budget import TimeBudget
from tests.test_solve_helpers import brute_force, shuffled, tiny_problems

FAST = SolveOptions(time_limit_s=5.0)


# -- hand-checked cases ---------------------------------------------------------
def test_transportation_hand_checked() -> None:
    # a wants X (5); b must go to X (3) or Y (1); c loses 10 when unassigned.
    # Best: b->X, c->Y, a unassigned: 3 + 2 = 5 (a->X would cost c's penalty).
    b = ProblemBuilder()
    b.item("a")
    b.item("b", must_assign=True)
    b.item("c", unassigned_penalty=10)
    b.resource("x", 1)
    b.resource("y", 1)
    b.arc("a", "X", 5, {"x": 1})
    b.arc("b", "X", 3, {"x": 1})
    b.arc("b", "Y", 1, {"y": 1})
    b.arc("c", "Y", 2, {"y": 1})
    p = b.build()
    sol = solve(p, FAST)
    assert sol.status is Status.OPTIMAL
    assert sol.strategy == "flow"
    assert sol.objective == 5
    assert dict(sol.assignments) == {"b": "X", "c": "Y"}
    assert sol.unassigned == ("a",)
    verify(p, sol)


def test_budget_hand_checked_knapsack() -> None:
    # budget 10: values 6 (cost 5), 5 (cost 4), 5 (cost 6); best 6+5 = 11 (cost 9)
    b = ProblemBuilder()
    for k in "abc":
        b.item(k)
    b.resource("budget", 10)
    b.arc("a", "o1", 6, {"budget": 5})
    b.arc("b", "o2", 5, {"budget": 4})
    b.arc("c", "o3", 5, {"budget": 6})
    p = b.build()
    for strategy in ("auto", "cpsat", "mip", "cpsat-plain"):
        sol = solve(p, dataclasses.replace(FAST, strategy=strategy))
        assert sol.status is Status.OPTIMAL, strategy
        assert sol.objective == 11, strategy
        assert set(sol.assignments) == {"a", "b"}, strategy
        verify(p, sol)


def test_minimize_with_must_assign() -> None:
    b = ProblemBuilder(sense=Sense.MINIMIZE)
    b.item("j0", must_assign=True)
    b.item("j1", must_assign=True)
    b.resource("cap", 3)
    b.arc("j0", "A", 4, {"cap": 2})
    b.arc("j0", "B", 9)
    b.arc("j1", "A", 1, {"cap": 2})
    b.arc("j1", "B", 5)
    p = b.build()
    sol = solve(p, FAST)
    # only one job fits on A: j0->A, j1->B = 9 beats j1->A, j0->B = 10
    assert sol.objective == 9
    assert dict(sol.assignments) == {"j0": "A", "j1": "B"}
    assert sol.status is Status.OPTIMAL
    verify(p, sol)


def test_pinned_arc_kept_even_when_worse() -> None:
    b = ProblemBuilder()
    b.item("a")
    b.item("b")
    b.resource("x", 1)
    b.arc("a", "X", 1, {"x": 1}, pinned=True)
    b.arc("b", "X", 100, {"x": 1})
    p = b.build()
    sol = solve(p, FAST)
    assert dict(sol.assignments) == {"a": "X"}
    assert sol.objective == 1
    verify(p, sol)


def test_forbidden_arc_never_used() -> None:
    b = ProblemBuilder()
    b.item("a")
    b.arc("a", "X", 100, forbidden=True)
    b.arc("a", "Y", 1)
    p = b.build()
    sol = solve(p, FAST)
    assert dict(sol.assignments) == {"a": "Y"}


def test_infeasible_must_assign() -> None:
    b = ProblemBuilder()
    b.item("a", must_assign=True)
    b.item("b", must_assign=True)
    b.resource("x", 1)
    b.arc("a", "X", 1, {"x": 1})
    b.arc("b", "X", 1, {"x": 1})
    sol = solve(b.build(), FAST)
    assert sol.status is Status.INFEASIBLE
    assert sol.objective is None
    assert not sol.assignments


def test_infeasible_pins_over_capacity() -> None:
    b = ProblemBuilder()
    b.item("a")
    b.item("b")
    b.resource("x", 1)
    b.arc("a", "X", 1, {"x": 1}, pinned=True)
    b.arc("b", "X", 1, {"x": 1}, pinned=True)
    sol = solve(b.build(), FAST)
    assert sol.status is Status.INFEASIBLE
    assert "pinned" in sol.stats["reason"]


def test_invalid_problem_gives_model_invalid() -> None:
    b = ProblemBuilder()
    b.item("a")
    b.resource("x", 1)
    b.arc("a", "X", 1, {"x": 1})
    p = b.build()
    bad = dataclasses.replace(p, capacity=np.array([-1], dtype=np.int64))
    sol = solve(bad, FAST)
    assert sol.status is Status.MODEL_INVALID
    assert any("negative" in s for s in sol.stats["issues"])


def test_unknown_strategy_is_model_invalid() -> None:
    b = ProblemBuilder()
    b.item("a")
    sol = solve(b.build(), SolveOptions(strategy="magic"))
    assert sol.status is Status.MODEL_INVALID


def test_empty_problem() -> None:
    b = ProblemBuilder()
    b.item("a", unassigned_penalty=3)
    sol = solve(b.build(), FAST)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == -3
    assert sol.unassigned == ("a",)


# -- oracle: networkx min-cost flow on transportation problems -------------------
def networkx_optimum(p: AssignmentProblem) -> int:
    """Max-form optimum of a transportation problem by networkx (independent)."""
    g = nx.DiGraph()
    n = p.n_items
    sign = 1 if p.sense is Sense.MAXIMIZE else -1
    g.add_node("s", demand=-n)
    g.add_node("t", demand=n)
    const = 0
    for i in range(n):
        g.add_edge("s", ("i", i), capacity=1, weight=0)
        pen = int(p.unassigned_penalty[i])
        const -= pen
        if not p.must_assign[i]:
            g.add_edge(("i", i), ("skip", i), capacity=1, weight=0)
            g.add_edge(("skip", i), "t", capacity=1, weight=0)
    for r in range(p.n_resources):
        g.add_edge(("r", r), "t", capacity=int(p.capacity[r]), weight=0)
    for a in range(p.n_arcs):
        if p.forbidden[a]:
            continue
        i = int(p.arc_item[a])
        w = sign * int(p.arc_value[a]) + (0 if p.must_assign[i] else int(p.unassigned_penalty[i]))
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        head = ("r", int(p.use_resource[lo])) if hi > lo else "t"
        mid = ("a", a)  # a middle node keeps parallel arcs apart
        g.add_edge(("i", i), mid, capacity=1, weight=-w)
        g.add_edge(mid, head, capacity=1, weight=0)
    cost = nx.min_cost_flow_cost(g)
    const_must = sum(int(p.unassigned_penalty[i]) for i in range(n) if p.must_assign[i])
    return sign * (const + const_must - cost)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(budgets=False, max_items=6))
def test_flow_matches_networkx(p: AssignmentProblem) -> None:
    if p.pinned.any():
        p = dataclasses.replace(p, pinned=np.zeros_like(p.pinned))
    sol = solve(p, FAST)
    if sol.status is Status.INFEASIBLE:
        with pytest.raises(nx.NetworkXUnfeasible):
            networkx_optimum(p)
        return
    assert sol.status is Status.OPTIMAL
    assert sol.strategy == "flow"
    assert sol.objective == networkx_optimum(p)
    verify(p, sol)


# -- oracle: brute force on tiny budgeted problems --------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(budgets=True), st.sampled_from(["auto", "cpsat", "flow"]))
def test_budgeted_matches_brute_force(p: AssignmentProblem, strategy: str) -> None:
    truth = brute_force(p)
    sol = solve(p, dataclasses.replace(FAST, strategy=strategy))
    if not truth.feasible:
        if strategy == "flow" and sol.status is Status.NO_SOLUTION_IN_TIME:
            # flow + repair is a heuristic on budgeted problems: when the
            # budgets (not the flow) make it infeasible, it finds no answer
            # and claims none, but it cannot prove infeasibility either
            assert sol.objective is None
            assert not sol.assignments
            return
        assert sol.status is Status.INFEASIBLE
        return
    assert sol.status.has_solution
    verify(p, sol)
    if strategy == "flow" and sol.status is not Status.OPTIMAL:
        # flow + repair is a heuristic on budgeted problems: never better than
        # the optimum, and its bound must hold
        assert _no_better(p, sol.objective, truth.objective)
        assert sol.best_bound is not None
        assert not _no_better(p, sol.best_bound, truth.objective) or (
            sol.best_bound == truth.objective
        )
        return
    assert sol.status is Status.OPTIMAL
    assert sol.objective == truth.objective


def _no_better(p: AssignmentProblem, value: float | None, optimum: int | None) -> bool:
    assert value is not None
    assert optimum is not None
    return value <= optimum if p.sense is Sense.MAXIMIZE else value >= optimum


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(budgets=True, max_items=4))
def test_mip_strategy_matches_brute_force(p: AssignmentProblem) -> None:
    truth = brute_force(p)
    sol = solve(p, dataclasses.replace(FAST, strategy="mip"))
    if not truth.feasible:
        assert sol.status is Status.INFEASIBLE
        return
    verify(p, sol)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == truth.objective


# -- properties -------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(budgets=True), st.integers(0, 10_000))
def test_properties_of_every_answer(p: AssignmentProblem, seed: int) -> None:
    sol = solve(p, FAST)
    if not sol.status.has_solution:
        return
    # verify() checks capacity, existing non-forbidden arcs, pins, must-assign
    # and the objective; check the partition and the pins directly as well
    rep = verify(p, sol)
    assert set(sol.assignments) | set(sol.unassigned) == set(p.item_ids)
    assert not set(sol.assignments) & set(sol.unassigned)
    for a in np.flatnonzero(p.pinned):
        assert sol.assignments[p.item_ids[p.arc_item[a]]] == p.option_ids[p.arc_option[a]]
    assert rep.objective == sol.objective
    for a in np.flatnonzero(p.forbidden):
        assert sol.assignments.get(p.item_ids[p.arc_item[a]]) != p.option_ids[p.arc_option[a]]

    # input order does not matter, and the same input gives the same answer
    again = solve(shuffled(p, seed), FAST)
    assert again.status is sol.status
    assert again.objective == sol.objective
    assert dict(again.assignments) == dict(sol.assignments)

    # more capacity never makes the objective worse
    more = dataclasses.replace(p, capacity=p.capacity + 1)
    sol2 = solve(more, FAST)
    assert sol2.status.has_solution
    verify(more, sol2)
    if sol.status is Status.OPTIMAL and sol2.status is Status.OPTIMAL:
        assert sol.objective is not None
        assert sol2.objective is not None
        if p.sense is Sense.MAXIMIZE:
            assert sol2.objective >= sol.objective
        else:
            assert sol2.objective <= sol.objective


def test_order_independence_on_generated_instance() -> None:
    from benchmarks.generate import GeneratorConfig, generate

    p = generate(GeneratorConfig(60, 15, seed=3))
    opts = SolveOptions(time_limit_s=30.0)  # ends when proven, far sooner
    a = solve(p, opts)
    b = solve(shuffled(p, 7), opts)
    verify(p, a)
    verify(p, b)
    assert a.status is Status.OPTIMAL  # small enough to prove
    assert a.objective == b.objective
    assert dict(a.assignments) == dict(b.assignments)


def test_generated_transportation_matches_networkx() -> None:
    from benchmarks.generate import GeneratorConfig, generate

    p = generate(GeneratorConfig(120, 30, seed=5))
    # keep only the place resource of every arc: a pure transportation problem
    keep = np.arange(0, p.use_resource.size, 3)
    q = dataclasses.replace(
        p,
        use_resource=p.use_resource[keep],
        use_amount=p.use_amount[keep],
        use_ptr=np.arange(p.n_arcs + 1, dtype=np.int64),
    )
    assert q.is_transportation()
    sol = solve(q, FAST)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == networkx_optimum(q)
    verify(q, sol)


def test_warm_start_is_used_and_repaired() -> None:
    from benchmarks.generate import GeneratorConfig, generate

    p = generate(GeneratorConfig(300, 60, seed=11))
    base = solve(p, SolveOptions(time_limit_s=3.0))
    verify(p, base)
    # take a place away from an offering that is in use: the warm start no
    # longer fits and must be repaired
    used = sorted(set(base.assignments.values()))[0]
    r = p.resource_ids.index(f"place:{used}")
    cap = p.capacity.copy()
    cap[r] = max(0, cap[r] - 1)
    q = dataclasses.replace(p, capacity=cap)
    quick = solve(q, SolveOptions(time_limit_s=0.1, warm_start=base))
    verify(q, quick)
    assert quick.stats["incumbent_source"] == "warm start+repair"
    assert quick.objective is not None
    assert base.objective is not None
    # one place less loses at most what one child was worth
    assert quick.objective >= base.objective - int(p.arc_value.max())


def test_deterministic_on_generated_instance() -> None:
    from benchmarks.generate import GeneratorConfig, generate

    # determinism is promised for solves that end before the time limit (a
    # wall-clock cut-off depends on machine load) and, on the CP-SAT route,
    # for one worker: parallel CP-SAT may return another answer of the same
    # objective (docs/solver.md)
    p = generate(GeneratorConfig(40, 10, seed=4))
    for strategy, workers in (("mip", 2), ("cpsat", 1), ("flow", 2)):
        opts = SolveOptions(time_limit_s=20.0, strategy=strategy, workers=workers)
        a, b = solve(p, opts), solve(p, opts)
        assert a.objective == b.objective, strategy
        assert dict(a.assignments) == dict(b.assignments), strategy


def test_highs_failure_falls_back_to_cpsat(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed HiGHS run (e.g. "kError [INTERNAL]") proves nothing: CP-SAT takes over
    and the answer is as good as CP-SAT's own."""
    from benchmarks.generate import GeneratorConfig, generate
    from matcher.solvers import mip
    from matcher.solvers.status import SearchStatus

    p = generate(GeneratorConfig(24, 6, seed=3))
    reference = solve(p, SolveOptions(time_limit_s=30.0, strategy="cpsat", workers=1))
    assert reference.status is Status.OPTIMAL

    def failing(core, **kw):  # type: ignore[no-untyped-def]
        return mip.MipResult(
            SearchStatus.ERROR, None, None, stats={"highs_reason": SearchStatus.ERROR}
        )

    monkeypatch.setattr(mip, "solve_mip", failing)
    sol = solve(p, SolveOptions(time_limit_s=30.0, strategy="mip", workers=1))
    verify(p, sol)
    assert sol.stats["highs_failed"] is True
    assert sol.stats["bound_source"] != "highs-mip dual bound"
    assert sol.status is Status.OPTIMAL
    assert sol.objective == reference.objective


def test_warm_started_resolve_matches_scratch() -> None:
    """A what-if re-solve (warm start, small model: HiGHS in this process without
    presolve and without the separate LP) proves the same optimum as a cold solve."""
    from benchmarks.generate import GeneratorConfig, generate

    p = generate(GeneratorConfig(60, 15, seed=3))
    base = solve(p, SolveOptions(time_limit_s=30.0, relative_gap=0.0))
    assert base.status is Status.OPTIMAL
    used = sorted(set(base.assignments.values()))[0]
    r = p.resource_ids.index(f"place:{used}")
    cap = p.capacity.copy()
    cap[r] = max(0, cap[r] - 1)
    q = dataclasses.replace(p, capacity=cap)
    warm = solve(q, SolveOptions(time_limit_s=30.0, relative_gap=0.0, warm_start=base))
    cold = solve(q, SolveOptions(time_limit_s=30.0, relative_gap=0.0))
    verify(q, warm)
    assert warm.strategy == "mip"
    assert warm.stats["highs_in_process"] is True
    assert warm.status is Status.OPTIMAL
    assert cold.status is Status.OPTIMAL
    assert warm.objective == cold.objective


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(budgets=True), st.sampled_from([0.0, 0.25, 1.0]))
def test_lagrangian_bound_holds(p: AssignmentProblem, share: float) -> None:
    """Every Lagrangian bound (whatever the start prices) is at least the optimum,
    and its answer fits."""

    from matcher.solvers import lagrange
    from matcher.solvers.core import CoreInfeasible, build_core

    truth = brute_force(p)
    if not truth.feasible:
        return
    try:
        core = build_core(p)
    except CoreInfeasible:
        return
    old = lagrange.START_PRICE_SHARE
    lagrange.START_PRICE_SHARE = share
    try:
        lr = lagrange.lagrangian(core, budget=TimeBudget(5.0), max_iter=30)
    finally:
        lagrange.START_PRICE_SHARE = old
    if lr.bound is not None:
        assert truth.objective is not None
        # max form: bound >= optimum (to within the float allowance)
        b = core.to_sense(lr.bound)
        if p.sense is Sense.MAXIMIZE:
            assert b >= truth.objective - 1e-6
        else:
            assert b <= truth.objective + 1e-6
    if lr.chosen is not None:
        assert core.is_feasible(lr.chosen)


def test_start_prices_marginal_arc() -> None:
    """One budget of 10 over three chosen arcs (value per unit 5, 3, 1; use 6 each):
    the row runs out at the second arc, so its price is share x 3."""
    from matcher.solvers import lagrange
    from matcher.solvers.core import build_core

    b = ProblemBuilder()
    b.resource("budget", 10)
    for k, v in enumerate((30, 18, 6)):
        b.resource(f"place{k}", 1)
        b.item(f"c{k}")
        b.arc(f"c{k}", f"o{k}", v, {f"place{k}": 1, "budget": 6})
    core = build_core(b.build())
    x = core.item_ptr[:-1].copy()  # every item on its (only) arc
    rows = lagrange.priced_rows(core)
    lam = lagrange.start_prices(core, x, rows)
    r = core.problem.resource_ids.index("budget")
    assert lam[r] == pytest.approx(lagrange.START_PRICE_SHARE * 3.0)
    assert np.count_nonzero(lam) == 1


def test_bounds_round_to_integers() -> None:
    """Answers have integer values, so a float bound rounds down (max form);
    a bound a hair under an integer is not pushed one unit lower."""
    from matcher.solvers.strategies.finish import integral as _integral

    assert _integral(10.5) == 10.0
    assert _integral(-1697.3) == -1698.0
    assert _integral(10.999999999) == 11.0
    assert _integral(2.0) == 2.0


def test_fractional_lp_bound_reported_as_integer() -> None:
    """A knapsack whose LP bound is fractional: the reported bound is the
    integer one, and the optimum is proven against it."""
    b = ProblemBuilder()
    b.resource("budget", 10)
    for k, (v, w) in enumerate(((10, 6), (9, 5), (8, 5))):
        b.item(f"c{k}")
        b.arc(f"c{k}", f"o{k}", v, {"budget": w})
    p = b.build()
    sol = solve(p, SolveOptions(time_limit_s=10.0))
    verify(p, sol)
    assert sol.objective == 17  # c1 + c2 (LP: 10 + 9 * 4/5 = 17.2)
    assert sol.status is Status.OPTIMAL
    assert sol.best_bound == 17.0
