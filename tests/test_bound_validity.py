"""Bounds are honest on every instance family: no strategy reports a bound below an
answer that any strategy found, and none reports one weaker than the plain LP bound
when that LP fits easily in the time limit (at these sizes it takes milliseconds)."""

from __future__ import annotations

import pytest

from benchmarks.families import FAMILIES, generate_family
from matcher.problem import Sense
from matcher.solution import Solution, SolveOptions, verify
from matcher.solve import solve
from matcher.solvers.core import build_core
from matcher.solvers.mip import solve_mip

STRATEGIES = ("auto", "mip", "cpsat")
# relative slack for float bounds against integer answers
TOL = 1e-6


def _max_form(p_sense: Sense, v: float) -> float:
    return v if p_sense is Sense.MAXIMIZE else -v


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_no_bound_below_an_answer_or_above_the_plain_lp(name: str) -> None:
    p = generate_family(name, 150, 30, seed=11)
    sols: dict[str, Solution] = {}
    for strategy in STRATEGIES:
        sol = solve(p, SolveOptions(time_limit_s=1.0, strategy=strategy, seed=1))
        if sol.objective is not None:
            verify(p, sol)
        sols[strategy] = sol
    answers = [_max_form(p.sense, s.objective) for s in sols.values() if s.objective is not None]
    assert answers, "no strategy found an answer"
    best = max(answers)
    core = build_core(p)
    lp = solve_mip(core, time_limit_s=30.0, relative_gap=0.0, relax=True, in_process=True)
    assert lp.bound is not None
    assert lp.bound >= best - TOL * max(1.0, abs(best)), "the LP itself is below an answer"
    for strategy, sol in sols.items():
        if sol.best_bound is None:
            continue
        bound = _max_form(p.sense, sol.best_bound)
        slack = TOL * max(1.0, abs(bound))
        assert bound >= best - slack, (strategy, bound, best)
        assert bound <= lp.bound + slack, (strategy, bound, lp.bound, sol.stats.get("bound_source"))
