"""A warm-started small re-solve whose HiGHS bound stalls is handed to CP-SAT after a
number of nodes (strategy ``mip``, docs/solver.md "Small re-solves").

The fixture is a re-solve of the search for what would help on a demo region (63
needs, three budgets): nearly equal weights, and an LP that fits one child more than
any answer, so HiGHS searched 10,000 nodes without proof where CP-SAT proves it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.problem_file import read_problem
from matcher.solution import Solution, SolveOptions, Status
from matcher.solve import solve
from matcher.solvers.core import build_core
from matcher.solvers.mip import solve_mip
from matcher.solvers.status import SearchStatus
from matcher.solvers.strategies import mip as mip_strategy
from tests.budget_problems import budget_problem

FIXTURES = Path(__file__).parent / "fixtures" / "problems"


def _warm(assignments: dict[str, str]) -> Solution:
    return Solution(Status.FEASIBLE, None, None, None, assignments, (), 0.0, "")


def test_highs_stops_at_its_node_limit() -> None:
    core = build_core(read_problem(FIXTURES / "stalled_re_solve.json"))
    r = solve_mip(core, time_limit_s=30, relative_gap=0.0, in_process=True, node_limit=20)
    assert r.status is SearchStatus.FEASIBLE
    assert r.stats["highs_nodes"] <= 21


def test_a_stalled_re_solve_is_proven_after_the_node_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = read_problem(FIXTURES / "stalled_re_solve.json")
    saved = json.loads((FIXTURES / "stalled_re_solve_warm.json").read_text())
    # CP-SAT's share made independent of this machine's speed: the test is about the
    # order of the searches, the benchmark about their seconds
    monkeypatch.setattr(mip_strategy, "SMALL_CPSAT_MAX_S", 60.0)
    sol = solve(p, SolveOptions(time_limit_s=30, relative_gap=0.0, warm_start=_warm(saved["warm"])))
    assert sol.stats["highs_node_limit"] == mip_strategy.SMALL_MIP_NODES
    assert sol.status is Status.OPTIMAL
    assert sol.objective == saved["optimum"]
    assert sol.stats["bound_source"] == "cpsat"


def test_a_re_solve_highs_proves_within_the_limit_takes_no_other_path() -> None:
    # above the size `auto` sends to CP-SAT
    p = budget_problem(
        30,
        4,
        budget=40,
        places=5,
        value=lambda i, o: 10 + (i * 7 + o * 3) % 11,
        amount=lambda i, o: 1 + (i + o) % 3,
    )
    sol = solve(p, SolveOptions(time_limit_s=10, relative_gap=0.0, warm_start=_warm({})))
    assert sol.status is Status.OPTIMAL
    assert sol.strategy == "mip"
    assert "highs_node_limit" not in sol.stats
