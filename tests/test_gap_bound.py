"""The knapsack Lagrangian of GAP-like cores: exact knapsacks, a bound that
holds for every answer, forced-arc bounds that hold for every answer using
the arc, and a hand-checked case where it beats the LP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matcher import ProblemBuilder, Sense, SolveOptions, Status, solve
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, CoreInfeasible, build_core
from matcher.solvers.gap_bound import (
    PROFIT_SCALE,
    _dense,
    _forced_in_loss,
    _knapsacks,
    _knapsacks_bb,
    applicable,
    arcs_for,
    knapsack_bound,
)


@st.composite
def gap_builders(draw: st.DrawFn) -> ProblemBuilder:
    n = draw(st.integers(2, 6))
    m = draw(st.integers(2, 3))
    b = ProblemBuilder(sense=draw(st.sampled_from([Sense.MINIMIZE, Sense.MAXIMIZE])))
    for a in range(m):
        b.resource(f"a{a}", draw(st.integers(2, 9)))
    for j in range(n):
        b.item(f"j{j}", must_assign=True)
        # not every job may go everywhere, but each goes somewhere
        agents = draw(st.sets(st.integers(0, m - 1), min_size=1))
        for a in sorted(agents):
            b.arc(f"j{j}", f"a{a}", draw(st.integers(1, 20)), {f"a{a}": draw(st.integers(1, 5))})
    return b


def _answers(core: Core) -> list[np.ndarray]:
    per_item = [
        range(int(core.item_ptr[i]), int(core.item_ptr[i + 1])) for i in range(core.n_items)
    ]
    out = []
    for c in itertools.product(*per_item):
        ch = np.array(c, dtype=np.int64)
        if core.is_feasible(ch):
            out.append(ch)
    return out


def _core(b: ProblemBuilder) -> Core:
    try:
        core = build_core(b.build())
    except CoreInfeasible:
        assume(False)
        raise
    assume(applicable(core))
    return core


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gap_builders(), st.lists(st.integers(-30, 30), min_size=6, max_size=6))
def test_knapsacks_are_exact(b: ProblemBuilder, prices: list[int]) -> None:
    core = _core(b)
    d = _dense(core)
    m, n = d.weight.shape
    profit = d.weight - np.asarray(prices[:n], dtype=np.float64)[None, :]
    value, x = _knapsacks(d, profit)
    for r in range(m):
        best = 0.0
        for take in itertools.product((0, 1), repeat=n):
            t = np.array(take, dtype=bool)
            if np.isinf(profit[r, t]).any() or d.need[r, t].sum() > d.cap[r]:
                continue
            best = max(best, float(profit[r, t].sum()))
        assert value[r] == best
        # the items the knapsack reports taking give that value and fit
        assert float(profit[r, x[r]].sum()) == best
        assert d.need[r, x[r]].sum() <= d.cap[r]
    # forced in: the best knapsack that holds item j, by enumeration
    loss = _forced_in_loss(d, profit)
    for r in range(m):
        for j in range(n):
            best_in = -np.inf
            for take in itertools.product((0, 1), repeat=n):
                t = np.array(take, dtype=bool)
                if not t[j]:
                    continue
                if np.isinf(profit[r, t]).any() or d.need[r, t].sum() > d.cap[r]:
                    continue
                best_in = max(best_in, float(profit[r, t].sum()))
            expect = value[r] - best_in if np.isfinite(best_in) else np.inf
            assert loss[r, j] == max(expect, 0.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gap_builders(), st.lists(st.floats(-30, 30), min_size=6, max_size=6))
def test_branch_and_bound_knapsacks_bound_the_exact_ones(
    b: ProblemBuilder, prices: list[float]
) -> None:
    # the solver the ascent uses rounds profits up: never under the exact
    # value, at most one rounding step per item over it, and its items fit
    core = _core(b)
    d = _dense(core)
    m, n = d.weight.shape
    profit = d.weight - np.asarray(prices[:n])[None, :]
    exact, _ = _knapsacks(d, profit)
    value, x = _knapsacks_bb(d, profit)
    assert (value >= exact - 1e-9).all()
    assert (value <= exact + n / PROFIT_SCALE + 1e-9).all()
    for r in range(m):
        assert d.need[r, x[r]].sum() <= d.cap[r]
        assert np.isfinite(profit[r, x[r]]).all()
        # the items it takes are worth the exact value up to the rounding
        assert float(profit[r, x[r]].sum()) >= exact[r] - n / PROFIT_SCALE - 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gap_builders())
def test_bound_and_forced_bounds_hold(b: ProblemBuilder) -> None:
    core = _core(b)
    answers = _answers(core)
    assume(answers)
    values = [core.value(a) for a in answers]
    worst = min(values)
    gb = knapsack_bound(core, incumbent=float(worst), budget=TimeBudget(0.5), max_iter=200)
    assert gb is not None
    assert gb.forced is not None
    assert gb.bound >= max(values) - 1e-6
    for a, v in zip(answers, values, strict=True):
        # every arc of every answer: its forced bound is at least that answer
        assert (gb.forced[a] >= v - 1e-6).all()
        assert arcs_for(gb, v)[a].all()


def test_beats_the_lp_on_a_hand_checked_case() -> None:
    # one agent with room 3 for jobs of size 2, a second agent with room 100
    # at a higher cost.  The LP puts 1.5 jobs on the cheap agent (cost 1.5 x 1
    # + 1.5 x 10 = 16.5 on three jobs); an integer answer fits one job there
    # (1 + 10 + 10 = 21).  The knapsack bound sees that only one fits.
    b = ProblemBuilder(sense=Sense.MINIMIZE)
    b.resource("cheap", 3)
    b.resource("dear", 100)
    for j in ("j0", "j1", "j2"):
        b.item(j, must_assign=True)
        b.arc(j, "cheap", 1, {"cheap": 2})
        b.arc(j, "dear", 10, {"dear": 2})
    core = build_core(b.build())
    for exact in (False, True):
        gb = knapsack_bound(core, incumbent=-21.0, budget=TimeBudget(1.0), exact_steps=exact)
        assert gb is not None
        # max form: -21 is the optimum; the bound reaches it (within rounding)
        assert -21.0 - 1e-6 <= gb.bound < -16.5 - 1.0
    sol = solve(b.build(), SolveOptions(time_limit_s=5))
    assert sol.status is Status.OPTIMAL
    assert sol.objective == 21


def test_not_applicable_off_gap() -> None:
    b = ProblemBuilder(sense=Sense.MAXIMIZE)
    b.resource("r", 2)
    b.item("i", must_assign=False, unassigned_penalty=0)
    b.arc("i", "o", 5, {"r": 1})
    assert knapsack_bound(build_core(b.build()), incumbent=0.0, budget=TimeBudget(0.0)) is None


@pytest.mark.parametrize("strategy", ["gap", "cpsat"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(b=gap_builders())
def test_solve_finds_the_optimum(b: ProblemBuilder, strategy: str) -> None:
    p = b.build()
    try:
        core = build_core(p)
    except CoreInfeasible:
        assume(False)
    answers = _answers(core)
    assume(answers)
    best = max(core.value(a) for a in answers)
    sol = solve(p, SolveOptions(time_limit_s=5, strategy=strategy))
    assert sol.strategy == strategy
    assert sol.status is Status.OPTIMAL
    assert sol.objective == core.to_sense(best)
