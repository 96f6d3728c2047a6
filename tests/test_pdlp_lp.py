"""The LP with cuts by PDLP (matcher/solvers/pdlp_lp.py): its cuts keep every
integer answer, the bound of its prices holds, its prices match the simplex
where the LP is known, and `solve` takes the route where the simplex does not
fit the time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from matcher import AssignmentProblem, ProblemBuilder, SolveOptions, solve, verify
from matcher.solvers import pdlp_lp
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import build_core
from matcher.solvers.lagrange import lagrangian
from tests.test_colgen import _all_choices, provider_problems
from tests.test_solve_helpers import brute_force


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(provider_problems())
def test_prices_give_a_valid_bound_and_cuts_keep_every_answer(p: AssignmentProblem) -> None:
    truth = brute_force(p)
    assert truth.objective is not None
    core = build_core(p)
    r = pdlp_lp.pdlp_loop(core, budget=TimeBudget(10.0))
    assert r is not None
    ext = r.core
    assert ext.n_resources == core.n_resources + ext.n_cuts
    assert r.prices.shape == (ext.n_resources,)
    assert r.first_prices.shape == (ext.n_resources,)
    assert np.all(np.isfinite(r.prices))
    assert np.all(r.prices >= 0)
    # the first round has no cuts: no price on a cut row
    assert not r.first_prices[core.n_resources :].any()
    for ch in _all_choices(core):
        assert ext.is_feasible(ch) == core.is_feasible(ch)
    for prices in (r.prices, r.first_prices):
        lr = lagrangian(ext, budget=TimeBudget(5.0), prices=prices, max_iter=1)
        assert lr.bound is not None
        assert lr.bound >= truth.objective - 1e-6


def test_prices_of_a_hand_checked_lp() -> None:
    """Two children worth 10 and 6 per euro-unit, one budget of 3 units, each
    place costs 2: the LP fills the budget with 1.5 places, the best child
    first, and the budget's price is (6 / 2) = 3 per unit (the second child is
    the marginal one). The plain LP bound is 10 + 0.5 * 6 = 13."""
    b = ProblemBuilder()
    b.resource("budget", 3)
    for o in ("o1", "o2"):
        b.resource(f"place:{o}", 1)
    b.item("c1")
    b.arc("c1", "o1", 10, {"place:o1": 1, "budget": 2})
    b.item("c2")
    b.arc("c2", "o2", 6, {"place:o2": 1, "budget": 2})
    core = build_core(b.build())
    r = pdlp_lp.pdlp_loop(core, budget=TimeBudget(10.0), cuts=False)
    assert r is not None
    budget = core.problem.resource_ids.index("budget")
    res = int(np.flatnonzero(core.res_orig == budget)[0])
    assert r.prices[res] == pytest.approx(3.0, rel=1e-2)
    lr = lagrangian(r.core, budget=TimeBudget(5.0), prices=r.prices, max_iter=1)
    assert lr.bound == pytest.approx(13.0, abs=0.1)
    # with cuts: at most one of the two places fits the budget of 3
    r = pdlp_lp.pdlp_loop(core, budget=TimeBudget(10.0))
    assert r is not None
    assert r.stats["pdlp_cuts"] >= 1
    lr = lagrangian(r.core, budget=TimeBudget(5.0), prices=r.prices, max_iter=1)
    assert lr.bound is not None
    assert 10.0 - 1e-6 <= lr.bound <= 10.0 + 0.1


@pytest.fixture
def route_open_at_1k(monkeypatch: pytest.MonkeyPatch) -> AssignmentProblem:
    """The 1k scale instance with the PDLP route opened to its size (and the
    column generation, which would take it first, closed)."""
    from benchmarks.generate import GeneratorConfig, generate
    from matcher.solvers.strategies import mip as mip_strategy

    monkeypatch.setattr(mip_strategy, "COLGEN", False)
    monkeypatch.setattr(mip_strategy, "PDLP_MIN_ARCS", 1_000)
    return generate(GeneratorConfig(1000, 200, seed=1))


def test_solve_takes_the_pdlp_route_when_the_simplex_does_not_fit(
    route_open_at_1k: AssignmentProblem,
) -> None:
    """The answer is verified and the bound lies above the optimum's proven
    range (a 60 s reference solve in benchmarks/RESULTS.md found 1,543,684)."""
    p = route_open_at_1k
    # 2 s: the plain LP (1.2 s expected) does not fit twice in the time left
    sol = solve(p, SolveOptions(time_limit_s=2.0))
    verify(p, sol)
    assert sol.stats["pdlp_rounds"] >= 1
    assert sol.stats["bound_source"].startswith("Lagrangian relaxation of the budget")
    assert sol.objective is not None
    assert sol.best_bound is not None
    assert sol.best_bound >= 1_543_684
    # and the route pays: the Lagrangian alone left 1.4 % here (RESULTS)
    assert sol.gap is not None
    assert sol.gap < 0.01


def test_no_pdlp_without_time_for_the_flows_after_it(route_open_at_1k: AssignmentProblem) -> None:
    """At 1 s the instance has no room for two PDLP rounds and the flows that
    turn its prices into an answer and a bound: the route stays out, and the
    bound is the Lagrangian's, not the weak flow relaxation (with PDLP in that
    time, development runs fell back to the flow relaxation: 5.9 %)."""
    p = route_open_at_1k
    sol = solve(p, SolveOptions(time_limit_s=1.0))
    verify(p, sol)
    assert "pdlp_rounds" not in sol.stats
    assert sol.stats["bound_source"].startswith("Lagrangian relaxation of the budget")
