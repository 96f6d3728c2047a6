"""Bounds are honest on every instance family: no strategy reports a bound below an
answer that any strategy found, and none reports one weaker than the plain LP bound
when that LP fits easily in the time limit (at these sizes it takes milliseconds)."""

from __future__ import annotations

import math

import pytest

from benchmarks.families import FAMILIES, generate_family
from matcher.problem import AssignmentProblem, Sense
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


def _plain_lp(p: AssignmentProblem) -> float:
    lp = solve_mip(build_core(p), time_limit_s=30.0, relative_gap=0.0, relax=True, in_process=True)
    assert lp.bound is not None
    return lp.bound


def _check(p: AssignmentProblem, sol: Solution, lp_bound: float) -> float:
    """The bound of `sol` in max form, checked against its answer and the plain LP."""
    assert sol.objective is not None
    assert sol.best_bound is not None
    verify(p, sol)
    value, bound = _max_form(p.sense, sol.objective), _max_form(p.sense, sol.best_bound)
    slack = TOL * max(1.0, abs(bound))
    assert bound >= value - slack, (bound, value)
    assert bound <= lp_bound + slack, (bound, lp_bound, sol.stats.get("bound_sources"))
    return bound


@pytest.fixture
def one_round_colgen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Column generation that stops after its first round, unconverged (as under
    load): one arc per item, no cuts, and a tail that counts as stalled at once.
    The route's own searches after it find nothing (as when no time is left for
    them), so the bound reported is the one the LP route and the side left."""
    from matcher.solvers import colgen
    from matcher.solvers.strategies import lp_routes, searches

    def no_search(core, hint, bound, source, *a, **kw):  # type: ignore[no-untyped-def]
        return hint, bound, source, False

    monkeypatch.setattr(searches, "run_mip", no_search)
    monkeypatch.setattr(searches, "run_cpsat", no_search)

    real = colgen.lp_loop
    monkeypatch.setattr(colgen, "FIRST_ARCS_PER_ITEM", 1)
    monkeypatch.setattr(colgen, "STALL_ROUNDS", 0)
    monkeypatch.setattr(colgen, "STALL_TOL", math.inf)
    monkeypatch.setattr(colgen, "STALL_MIN_SHARE", 0.0)
    monkeypatch.setattr(
        lp_routes, "lp_loop", lambda core, **kw: real(core, **{**kw, "cuts": False})
    )


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_unconverged_column_generation_never_reports_a_weaker_bound_than_the_lp(
    name: str, workers: int, one_round_colgen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When column generation stops before it converged, the bound reported is still
    at most the plain LP's.  One worker: the LP over all arcs with the cuts after it.
    Two workers, with that LP taken away (as when it does not fit the time left): the
    dual bound of HiGHS on the whole core beside the route."""
    from matcher.solvers.strategies import lp_routes, side

    if workers == 2:
        monkeypatch.setattr(lp_routes, "close_lp", lambda inc, budget, stats: None)
        monkeypatch.setattr(side, "SIDE_MIN_LIMIT_S", 0.0)  # the side at a test's short limit
    p = generate_family(name, 250, 50, seed=11)
    opts = SolveOptions(time_limit_s=1.5, strategy="mip", seed=1, workers=workers)
    sol = solve(p, opts)
    st = sol.stats
    assert st["lp_converged"] is False
    assert "LP relaxation with knapsack cuts (column generation, HiGHS)" in st["bound_sources"]
    if workers == 1:
        assert st["lp_closed"] == "solved"
        assert "side_mip_arcs" not in st
    else:
        assert "lp_closed" not in st
        assert st["side_mip_arcs"] == st["core_arcs"]
    _check(p, sol, _plain_lp(p))
    assert sol.wall_time_s <= opts.time_limit_s + 0.3


@pytest.mark.parametrize("name", ["perceel4", "all4"])
def test_whole_core_mip_beside_the_route_keeps_the_time_and_the_better_answer(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matcher.solvers.strategies import side

    monkeypatch.setattr(side, "SIDE_MIN_LIMIT_S", 0.0)  # the side at a test's short limit
    p = generate_family(name, 400, 80, seed=2)
    opts = SolveOptions(time_limit_s=1.5, strategy="mip", seed=1, workers=2)
    sol = solve(p, opts)
    st = sol.stats
    assert st["side_mip_arcs"] > 0
    _check(p, sol, _plain_lp(p))
    assert sol.wall_time_s <= opts.time_limit_s + 0.3
    if "side_mip_objective" in st:
        assert sol.objective is not None
        assert _max_form(p.sense, sol.objective) >= _max_form(p.sense, st["side_mip_objective"])


def test_warm_started_small_resolve_starts_no_side_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What-if re-solves stay in this process: no child for the whole core."""
    from matcher.solvers.strategies import side

    monkeypatch.setattr(side, "SIDE_MIN_LIMIT_S", 0.0)
    p = generate_family("perceel4", 250, 50, seed=3)
    base = solve(p, SolveOptions(time_limit_s=1.0, strategy="mip", seed=1))
    again = solve(p, SolveOptions(time_limit_s=1.0, strategy="mip", seed=1, warm_start=base))
    assert "side_mip_arcs" in base.stats
    assert "side_mip_arcs" not in again.stats
    verify(p, again)


def test_short_limit_or_one_worker_starts_no_side_process() -> None:
    """Below `SIDE_MIN_LIMIT_S`, or with one worker, the route keeps both cores."""
    from matcher.solvers.strategies import side

    p = generate_family("perceel4", 250, 50, seed=3)
    short = solve(p, SolveOptions(time_limit_s=side.SIDE_MIN_LIMIT_S / 2, strategy="mip"))
    assert "side_mip_arcs" not in short.stats
    assert short.stats["core_arcs"] >= side.SIDE_MIN_ARCS  # the size alone would start it
    one = solve(p, SolveOptions(time_limit_s=side.SIDE_MIN_LIMIT_S, strategy="mip", workers=1))
    assert "side_mip_arcs" not in one.stats
    verify(p, short)
    verify(p, one)


def test_side_result_merge_takes_the_better_answer_and_bound() -> None:
    """`side.take`: a better answer and a lower bound from the child win; a failed
    child changes nothing; an answer that breaks a row is never taken."""
    import numpy as np

    from matcher.solvers.mip import MipResult
    from matcher.solvers.status import SearchStatus
    from matcher.solvers.strategies import side
    from matcher.solvers.strategies.base import Outcome

    p = generate_family("base3", 60, 12, seed=5)
    core = build_core(p)
    none = np.full(core.n_items, -1, dtype=np.int64)
    exact = solve_mip(core, time_limit_s=30.0, relative_gap=0.0, in_process=True)
    assert exact.chosen is not None
    assert exact.bound is not None
    out = Outcome(core, none, exact.bound + 100.0, False, "route")
    stats: dict[str, object] = {}
    got = side.take(out, exact, stats)
    assert got.chosen is exact.chosen
    assert got.bound == exact.bound
    assert got.proven
    assert got.bound_source == side.SOURCE
    failed = MipResult(SearchStatus.ERROR, exact.chosen, exact.bound - 1e9)
    assert side.take(out, failed, {}) == out
    # every item on its first arc breaks a capacity on this instance
    bad = core.item_ptr[:-1].astype(np.int64).copy()
    assert not core.is_feasible(bad)
    worse = side.take(out, MipResult(SearchStatus.FEASIBLE, bad, None), {})
    assert worse.chosen is none
    assert worse.bound == out.bound
