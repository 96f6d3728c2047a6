"""The GAP yardstick in small: published optima reached and verified.

The full tables come from benchmarks/gap_yardstick.py; here two small
instances per type keep the path from reader to verified optimum honest.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from matcher import SolveOptions, Status, solve, verify
from matcher.problem_file import read_orlib_gap
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, build_core
from matcher.solvers.cpsat import solve_cpsat
from matcher.solvers.gap_bound import knapsack_bound
from matcher.solvers.strategies.gap import gap_bands

GAP_DIR = Path(__file__).resolve().parent / "fixtures" / "gap"


def best_known() -> dict[str, int]:
    with open(GAP_DIR / "optima.csv", newline="") as f:
        return {r["instance"]: int(r["best_known_value"]) for r in csv.DictReader(f)}


@pytest.mark.parametrize("name", ["a05100", "a20100", "b10100"])
def test_published_optimum_reached(name: str) -> None:
    p = read_orlib_gap(GAP_DIR / f"{name}.txt")
    sol = solve(p, SolveOptions(time_limit_s=20, relative_gap=0.0))
    verify(p, sol)
    assert sol.strategy == "gap"
    assert sol.objective == best_known()[name]
    assert sol.status is Status.OPTIMAL
    assert sol.best_bound == sol.objective


def test_hard_instance_answer_is_verified_with_honest_bound() -> None:
    p = read_orlib_gap(GAP_DIR / "d05100.txt")
    sol = solve(p, SolveOptions(time_limit_s=3))
    verify(p, sol)
    assert sol.objective is not None
    assert sol.best_bound is not None
    best = best_known()["d05100"]
    # the published optimum lies between our bound and our answer
    assert sol.best_bound <= best <= sol.objective


def test_auto_takes_the_gap_route_and_cpsat_stays_cpsat() -> None:
    p = read_orlib_gap(GAP_DIR / "b10100.txt")
    auto = solve(p, SolveOptions(time_limit_s=10, relative_gap=0.0))
    assert auto.strategy == "gap"
    assert "gap_bound_s" in auto.stats
    forced = solve(p, SolveOptions(time_limit_s=10, relative_gap=0.0, strategy="cpsat"))
    assert forced.strategy == "cpsat"
    assert "gap_bound_s" not in forced.stats
    for sol in (auto, forced):
        verify(p, sol)
        assert sol.objective == best_known()["b10100"]


def _first_answer(core: Core) -> np.ndarray:
    r = solve_cpsat(
        core,
        time_limit_s=5,
        relative_gap=0.0,
        workers=1,
        seed=0,
        params={"stop_after_first_solution": True},
    )
    assert r.chosen is not None
    return r.chosen


@pytest.mark.parametrize("name", ["a05100", "d05100"])
def test_bands_keep_the_bound_valid(name: str) -> None:
    # a converged Lagrangian, an incumbent from CP-SAT's first answer: the
    # bands may only raise the bound (min form) to values no answer beats,
    # and every answer they return is feasible
    p = read_orlib_gap(GAP_DIR / f"{name}.txt")
    core = build_core(p)
    start = _first_answer(core)
    gb = knapsack_bound(core, incumbent=float(core.value(start)), budget=TimeBudget(10))
    assert gb is not None
    assert gb.converged
    stats: dict[str, object] = {}
    _, back, best, bound, _ = gap_bands(
        core, None, start, gb.bound, "", gb, SolveOptions(), TimeBudget(10.0), stats, 0.0
    )
    chosen = back[best] if back is not None else best
    assert core.is_feasible(chosen)
    assert core.value(chosen) >= core.value(start)
    optimum = -best_known()[name]  # max form
    assert bound >= optimum
    assert bound <= gb.bound
    assert core.value(chosen) <= optimum
    if name == "a05100":
        # the bound equals the optimum there: the first band holds it
        assert core.value(chosen) == optimum
        assert bound == optimum


def test_cpsat_searches_beside_highs_on_small_gap_cores() -> None:
    """With two workers CP-SAT searches the GAP core on the core HiGHS leaves
    idle; with one worker it does not. Both answers are verified and keep the
    published optimum between bound and answer (d05100 is not proved in 3 s,
    so HiGHS does search)."""
    p = read_orlib_gap(GAP_DIR / "d05100.txt")
    two = solve(p, SolveOptions(time_limit_s=3, workers=2))
    one = solve(p, SolveOptions(time_limit_s=3, workers=1))
    best = best_known()["d05100"]
    for sol in (two, one):
        verify(p, sol)
        assert sol.objective is not None
        assert sol.best_bound is not None
        assert sol.best_bound <= best <= sol.objective
        assert "highs_reason" in sol.stats
    assert two.stats["cpsat_side_status"] in ("OPTIMAL", "FEASIBLE")
    assert two.stats["cpsat_side_objective"] >= best
    assert "cpsat_side_status" not in one.stats


def test_side_search_that_settles_stops_the_child() -> None:
    """`solve_mip(while_waiting=...)`: the callback runs in this process while
    the child solves, gets the child's time budget, and when it returns True
    the child is stopped instead of awaited."""
    from matcher.solvers.mip import solve_mip

    core = build_core(read_orlib_gap(GAP_DIR / "d05100.txt"))
    calls: list[float] = []

    def settled(child: TimeBudget) -> bool:
        calls.append(child.left())
        return True

    r = solve_mip(core, time_limit_s=30.0, relative_gap=0.0, while_waiting=settled)
    assert len(calls) == 1
    assert 25.0 < calls[0] <= 30.0
    assert r.stats["highs_detail"] == "stopped: the other search settled it"

    def not_settled(child: TimeBudget) -> bool:
        calls.append(child.left())
        return False

    r = solve_mip(core, time_limit_s=2.0, relative_gap=0.0, while_waiting=not_settled)
    assert len(calls) == 2
    # the child was awaited: HiGHS' own answer (d05100 is not proved in 2 s)
    assert r.chosen is not None
    assert core.is_feasible(r.chosen)
