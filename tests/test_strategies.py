"""The strategy layer: registry, the auto rule, the time budget, enum statuses."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from matcher import STRATEGIES, ProblemBuilder, SolveOptions, Status, solve
from matcher.cli import build_parser
from matcher.problem_file import read_orlib_gap
from matcher.solution import Solution, verify
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, build_core
from matcher.solvers.cpsat import solve_cpsat
from matcher.solvers.mip import solve_mip, solve_model
from matcher.solvers.status import SearchStatus
from matcher.solvers.strategies import AUTO, REGISTRY, Outcome, Registry, choose

GAP_DIR = Path(__file__).resolve().parent / "fixtures" / "gap"


def _budgeted(n: int) -> ProblemBuilder:
    """n optional items, two options each, one budget row over all arcs."""
    b = ProblemBuilder()
    b.resource("budget", 3 * n)
    for o in range(2):
        b.resource(f"p{o}", n)
    for i in range(n):
        b.item(f"i{i}")
        for o in range(2):
            b.arc(f"i{i}", f"o{o}", 5 + (i + o) % 4, {"budget": 2 + o, f"p{o}": 1})
    return b


# -- registry -------------------------------------------------------------------
def test_strategy_names_come_from_the_registry() -> None:
    assert (AUTO, *REGISTRY) == STRATEGIES
    assert STRATEGIES == ("auto", "flow", "cpsat", "gap", "mip", "cpsat-plain")
    for name, strategy in REGISTRY.items():
        assert strategy.name == name


def test_cli_offers_the_registered_strategies() -> None:
    parser = build_parser()
    args = parser.parse_args(["solve", "f.json", "--strategy", "gap"])
    assert args.strategy == "gap"
    with pytest.raises(SystemExit):
        parser.parse_args(["solve", "f.json", "--strategy", "simplex"])


def test_registry_rejects_two_strategies_of_one_name() -> None:
    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(
            self, core: Core, options: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
        ) -> Outcome:
            return Outcome(core, None, None, False, "none")

    assert list(Registry([Named("a"), Named("b")])) == ["a", "b"]
    with pytest.raises(ValueError, match="two strategies"):
        Registry([Named("a"), Named("a")])


def test_a_registered_strategy_runs_through_solve() -> None:
    for name in REGISTRY:
        p = _budgeted(6).build()
        sol = solve(p, SolveOptions(time_limit_s=5.0, strategy=name, workers=1))
        assert sol.strategy == name
        assert sol.status.has_solution
        assert "bound_source" in sol.stats
        # raises VerificationError, listing every issue, on a wrong answer
        assert verify(p, sol).n_assigned == len(sol.assignments)


def test_unknown_strategy_lists_the_registered_names() -> None:
    sol = solve(_budgeted(3).build(), SolveOptions(strategy="simplex"))
    assert sol.status is Status.MODEL_INVALID
    assert all(name in sol.stats["issues"][0] for name in REGISTRY)


# -- the auto rule -----------------------------------------------------------------
def test_auto_picks_flow_for_transportation() -> None:
    b = ProblemBuilder()
    b.item("a")
    b.resource("x", 1)
    b.arc("a", "X", 1, {"x": 1})
    p = b.build()
    assert choose(p, build_core(p)) == "flow"


def test_auto_picks_cpsat_when_tiny_and_mip_when_budgeted() -> None:
    small = _budgeted(6).build()
    assert choose(small, build_core(small)) == "cpsat"
    large = _budgeted(60).build()
    assert build_core(large).n_arcs > 64
    assert choose(large, build_core(large)) == "mip"


def test_auto_picks_gap_for_gap_like_problems() -> None:
    p = read_orlib_gap(GAP_DIR / "a05100.txt")
    assert choose(p, build_core(p)) == "gap"


# -- time budget -----------------------------------------------------------------
def test_time_budget_counts_down_from_its_start() -> None:
    b = TimeBudget(10.0, start=time.perf_counter() - 4.0)
    assert 4.0 <= b.elapsed() < 5.0
    assert 5.0 < b.left() <= 6.0
    assert b.deadline == b.start + 10.0
    assert b.at(0.5) == b.start + 5.0
    assert TimeBudget(1.0, start=time.perf_counter() - 5.0).left() == 0.0


def test_time_budget_shares_never_pass_its_end() -> None:
    b = TimeBudget(10.0, start=time.perf_counter() - 4.0)
    half = b.share(0.5)
    assert 2.5 < half.limit <= 3.0
    assert half.deadline <= b.deadline
    kept = b.share(1.0, reserve_s=2.0)
    assert kept.deadline <= b.deadline - 2.0 + 1e-9
    assert b.until(b.deadline + 100.0).deadline == pytest.approx(b.deadline)
    assert b.share(0.5, reserve_s=100.0).limit == 0.0


# -- enum statuses -----------------------------------------------------------------
def test_search_results_carry_enum_statuses() -> None:
    core = build_core(_budgeted(6).build())
    c = solve_cpsat(core, time_limit_s=5.0, relative_gap=0.0, workers=1, seed=0)
    assert c.status is SearchStatus.OPTIMAL
    assert isinstance(c.stats["cpsat_status"], SearchStatus)
    m = solve_mip(core, time_limit_s=5.0, relative_gap=0.0, in_process=True)
    assert m.status is SearchStatus.OPTIMAL
    assert m.bound == pytest.approx(c.bound)


def test_statuses_leave_the_process_as_their_names() -> None:
    sol = Solution(
        status=Status.OPTIMAL,
        objective=1,
        best_bound=1.0,
        gap=0.0,
        assignments={},
        unassigned=(),
        wall_time_s=0.0,
        strategy="cpsat",
        stats={"cpsat_status": SearchStatus.OPTIMAL},
    )
    doc = sol.to_json_dict()
    assert type(doc["stats"]["cpsat_status"]) is str
    assert json.loads(json.dumps(doc))["stats"]["cpsat_status"] == "OPTIMAL"


def test_solve_model_takes_its_time_from_the_budget() -> None:
    from ortools.math_opt.python import mathopt

    m = mathopt.Model()
    x = m.add_integer_variable(lb=0, ub=3)
    y = m.add_integer_variable(lb=0, ub=3)
    m.add_linear_constraint(2 * x + 3 * y <= 7)
    m.maximize(3 * x + 4 * y)
    r = solve_model(m, TimeBudget(5.0), relative_gap=0.0)
    assert r.status is SearchStatus.OPTIMAL
    assert r.objective == pytest.approx(10.0)
    assert r.values is not None
    assert round(r.values[x]) == 2
    infeasible = mathopt.Model()
    z = infeasible.add_integer_variable(lb=0, ub=1)
    infeasible.add_linear_constraint(z >= 2)
    assert solve_model(infeasible, TimeBudget(5.0), relative_gap=0.0).status in (
        SearchStatus.INFEASIBLE,
        SearchStatus.NO_SOLUTION,
    )


def test_column_generation_above_pdlp_size_only_when_the_lp_is_cheap() -> None:
    """Below PDLP's size the loop runs while the plain LP takes at most 75 % of the
    limit; from PDLP's size only up to 30 %, else PDLP's route (at 10k x 2k, 124k arcs
    and 10 s, the loop did not converge: benchmarks/RESULTS.md, "Targets per family")."""
    from types import SimpleNamespace

    from matcher.solvers.strategies import mip as mip_strategy

    def fits(arcs: int, limit: float) -> bool:
        return mip_strategy.colgen_fits(SimpleNamespace(n_arcs=arcs), limit)  # type: ignore[arg-type]

    assert not fits(500, 10.0)  # below the LP's least size
    assert fits(12_000, 2.0)  # 1k x 200 at 2 s
    assert fits(46_000, 10.0)  # the national demo at 10 s
    assert not fits(124_000, 10.0)  # 10k x 2k at 10 s: PDLP
    assert fits(124_000, 30.0)  # ... with 30 s the plain LP (6.3 s) is cheap again
    assert not fits(2_500_000, 180.0)  # 100k x 10k: PDLP


def test_sub_mip_takes_the_half_of_a_search_that_would_not_run() -> None:
    """The sub-MIP on the LP's fractional items keeps half its time for HiGHS on the
    whole core only where that search fits in the time left after it (mip.py's rule:
    4 expected LPs): at 1k x 200 (12k arcs) with 10 s it does (5 s left after the
    loop), with 2 s it does not, and the sub-MIP takes all but a margin; above the
    in-process size it always took all the time left."""
    from types import SimpleNamespace

    from matcher.solvers.strategies import lp_routes, steps

    def secs(arcs: int, limit: float, elapsed: float) -> tuple[float, bool]:
        budget = TimeBudget(limit, time.perf_counter() - elapsed)
        core = SimpleNamespace(n_arcs=arcs)
        return lp_routes.fix_mip_seconds(core, budget, 0.05 * limit)  # type: ignore[arg-type]

    left, whole = secs(12_000, 10.0, 5.0)
    assert not whole
    assert left == pytest.approx((5.0 - 0.5) / 2, abs=0.01)
    assert 5.0 - left >= steps.SEARCH_AFTER_LP_LPS * steps.lp_expected_s(
        SimpleNamespace(n_arcs=12_000)  # type: ignore[arg-type]
    )
    left, whole = secs(12_000, 2.0, 1.0)
    assert whole
    margin = lp_routes.FIX_MIP_END_MARGIN_S + lp_routes.FIX_MIP_END_MARGIN_SHARE * 2.0
    assert left == pytest.approx(1.0 - steps.MIN_SEARCH_S - margin, abs=0.01)
    left, whole = secs(24_000, 2.0, 1.0)  # all4 at 1k x 200: unchanged
    assert not whole
    assert left == pytest.approx(1.0 - steps.MIN_SEARCH_S, abs=0.01)


def test_lagrangian_keeps_a_small_margin_on_small_cores() -> None:
    """The Lagrangian and the parts after the LP route stop `_answer_margin` before the
    deadline: by the core's size (0.15 s + 2.5 us per arc), never more than 0.3 s + 6 %
    of the limit; 0.14 s at 2 s on a core HiGHS takes in process (assembled in
    hundredths of a second), so at 1k x 200 and 2 s it gets the time the sub-MIP
    leaves it."""
    from types import SimpleNamespace

    from matcher.solvers.strategies import mip as mip_strategy
    from matcher.solvers.strategies import steps

    def core(arcs: int) -> Any:
        return SimpleNamespace(n_arcs=arcs)

    two, ten, three_minutes = TimeBudget(2.0), TimeBudget(10.0), TimeBudget(180.0)
    assert mip_strategy._answer_margin(two) == pytest.approx(0.42)  # no core: the share
    large = core(steps.INPROCESS_MAX_ARCS + 1)
    assert mip_strategy._answer_margin(two, large) == pytest.approx(0.15 + 20_001 * 2.5e-6)
    # 10k x 2k: 0.46 s at 10 s, where the share kept 0.9 s; at 2 s the share is less
    assert mip_strategy._answer_margin(ten, core(124_000)) == pytest.approx(0.46)
    assert mip_strategy._answer_margin(two, core(124_000)) == pytest.approx(0.42)
    # 100k x 10k: 3.3 s of 180 s, where the share kept 11.1 s
    assert mip_strategy._answer_margin(three_minutes, core(1_250_000)) == pytest.approx(3.275)
    assert mip_strategy._answer_margin(two, core(12_000)) == pytest.approx(0.14)


def test_the_simplex_is_expected_slower_per_arc_on_huge_cores() -> None:
    """At 1.25 million arcs and 180 s the plain LP is no longer worth it (PDLP's route
    then runs), while a 10k x 2k core keeps the measured linear rate."""
    from types import SimpleNamespace

    from matcher.solvers.strategies import steps

    def core(arcs: int) -> Any:
        return SimpleNamespace(n_arcs=arcs)

    assert steps.lp_expected_s(core(250_000)) == pytest.approx(0.05 + 250_000 * 5e-5)
    assert steps.lp_expected_s(core(1_250_000)) == pytest.approx((0.05 + 62.5) * 5**0.5)
    assert steps.lp_worth_it(core(250_000), TimeBudget(180.0))
    assert not steps.lp_worth_it(core(1_250_000), TimeBudget(180.0))
