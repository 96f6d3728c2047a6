"""The sub-MIP on the LP's fractional items (`lp_routes.fix_and_mip`): with two workers,
where it ends the route, a narrow one (only the arcs the LP uses) runs in a forked child
beside the wide one, started during the LP loop (`lp_routes.EarlyNarrow`), and the
better answer is taken."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import numpy as np
import pytest

from benchmarks.families import generate_family
from matcher import SolveOptions, solve
from matcher.solution import verify
from matcher.solvers import mip as mip_solver
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, build_core
from matcher.solvers.status import SearchStatus
from matcher.solvers.strategies import lp_routes, steps


@cache
def _tight_core() -> Core:
    # 1k x 200: at 2 s the sub-MIP ends the route there (`fix_mip_seconds`)
    return build_core(generate_family("tight", 1000, 200, 1))


def _lp_point(core: Core) -> tuple[Any, Any]:
    """A point with some items at 1 and the others split over two arcs, and the
    columns of every arc: what the column generation hands the sub-MIP."""
    x = np.zeros(core.n_arcs)
    for i in range(core.n_items):
        lo, hi = int(core.item_ptr[i]), int(core.item_ptr[i + 1])
        if hi - lo >= 2 and i % 3:
            x[lo] = x[lo + 1] = 0.5
        elif hi > lo:
            x[lo] = 1.0
    return x, np.ones(core.n_arcs, dtype=bool)


def _run(
    monkeypatch: pytest.MonkeyPatch, core: Core, answers: dict[str, str], workers: int = 2
) -> tuple[Any, dict[str, Any], list[str]]:
    """`fix_and_mip` with HiGHS replaced: the wide and the narrow sub-MIP each give
    their hint ("hint") or nothing placed ("empty"); returns the answer, the stats and
    the sub-MIPs in the order they were called."""
    calls: list[str] = []

    def fake(sub: Core, **kw: Any) -> mip_solver.MipResult:
        which = "narrow" if kw.get("while_waiting") is not None else "wide"
        calls.append(which)
        if kw.get("while_waiting") is not None:
            kw["while_waiting"](TimeBudget(kw["time_limit_s"]))
        hint = kw.get("hint")
        chosen = hint if answers[which] == "hint" else np.full(sub.n_items, -1)
        return mip_solver.MipResult(SearchStatus.FEASIBLE, chosen, None)

    monkeypatch.setattr(mip_solver, "solve_mip", fake)
    x, columns = _lp_point(core)
    # past the loop's share of a 2 s limit: the sub-MIP ends the route
    budget = TimeBudget(2.0, time.perf_counter() - 1.0)
    start = np.full(core.n_items, -1)
    stats: dict[str, Any] = {}
    got = lp_routes.fix_and_mip(core, x, columns, budget, [("start", start)], stats, 0.1, workers)
    return got, stats, calls


def test_the_narrow_answer_is_taken_when_it_is_worth_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = _tight_core()
    got, stats, calls = _run(monkeypatch, core, {"wide": "empty", "narrow": "hint"})
    assert sorted(calls) == ["narrow", "wide"]
    assert stats["fix_mip_narrow_arcs"] < stats["fix_mip_arcs"]
    assert got is not None
    assert core.is_feasible(got)
    assert stats["fix_mip_narrow_won"] is True
    assert core.value(got) == stats["fix_mip_narrow_value"] > stats["fix_mip_value"]


def test_the_wide_answer_is_taken_when_it_is_worth_more_or_as_much(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = _tight_core()
    got, stats, _ = _run(monkeypatch, core, {"wide": "hint", "narrow": "empty"})
    assert stats["fix_mip_narrow_won"] is False
    assert core.value(got) == stats["fix_mip_value"] > stats["fix_mip_narrow_value"]
    _, stats, _ = _run(monkeypatch, core, {"wide": "empty", "narrow": "empty"})
    assert stats["fix_mip_narrow_won"] is False  # a tie keeps the wide one's answer


def test_one_worker_runs_the_wide_sub_mip_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    core = _tight_core()
    got, stats, calls = _run(monkeypatch, core, {"wide": "hint", "narrow": "hint"}, workers=1)
    assert calls == ["wide"]
    assert "fix_mip_narrow_arcs" not in stats
    assert got is not None
    assert core.is_feasible(got)


def test_the_route_with_two_sub_mips_keeps_its_limit_and_gives_a_valid_answer() -> None:
    """The tight family at 1k x 200 with 2 s and two workers: both sub-MIPs ran (the
    narrow one a fraction of the wide one's arcs), the answer is valid and the solve
    kept its limit."""
    p = generate_family("tight", 1000, 200, 2)
    sol = solve(p, SolveOptions(time_limit_s=2.0, workers=2))
    st = sol.stats
    # the narrow one started during the loop, after its third round
    assert st["fix_mip_narrow_round"] == lp_routes.NARROW_START_ROUND == 3
    assert st["lp_rounds"] > lp_routes.NARROW_START_ROUND
    assert 0 < st["fix_mip_narrow_arcs"] < st["fix_mip_arcs"] / 2
    assert st["fix_mip_narrow_reason"]
    assert st["fix_mip_reason"]
    # the answer is the best of every candidate the route found, these two among them
    assert sol.objective >= max(st["fix_mip_value"], st["fix_mip_narrow_value"])
    assert verify(p, sol).objective == sol.objective
    assert sol.wall_time_s <= 2.0 + steps.MIN_SEARCH_S


def test_a_daemon_runs_the_wide_sub_mip_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon process (a Dask worker runs as one) may not start the child: the wide
    sub-MIP runs alone, as with one worker."""
    from types import SimpleNamespace

    assert lp_routes._can_fork()
    monkeypatch.setattr(lp_routes.mp, "current_process", lambda: SimpleNamespace(daemon=True))
    assert not lp_routes._can_fork()
    core = _tight_core()
    got, stats, calls = _run(monkeypatch, core, {"wide": "hint", "narrow": "hint"})
    assert calls == ["wide"]
    assert "fix_mip_narrow_arcs" not in stats
    assert got is not None


def _early(core: Core, workers: int = 2, limit: float = 2.0) -> lp_routes.EarlyNarrow | None:
    """`EarlyNarrow.wanted` for a solve of `limit` seconds that has just begun, with
    the loop's half of it."""
    inc = steps.begin(core, SolveOptions(time_limit_s=limit), {})
    budget = TimeBudget(limit)
    loop = budget.until(budget.at(0.5))
    return lp_routes.EarlyNarrow.wanted(inc, budget, loop, 0.05 * limit, workers)


def test_the_early_narrow_sub_mip_is_wanted_only_where_it_ends_the_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = _tight_core()
    assert _early(core) is not None  # 2 s: the sub-MIP after the loop ends the route
    assert _early(core, workers=1) is None
    # 30 s: HiGHS on the whole core has its half after the sub-MIP, on the second core
    assert _early(core, limit=30.0) is None
    from types import SimpleNamespace

    # a core above the in-process size keeps no half for that search: the sub-MIP
    # takes the time left at every limit, and the narrow one runs beside it
    late = build_core(generate_family("late", 1000, 200, 1))
    assert late.n_arcs > steps.INPROCESS_MAX_ARCS
    assert _early(late, limit=30.0) is not None
    monkeypatch.setattr(lp_routes.mp, "current_process", lambda: SimpleNamespace(daemon=True))
    assert _early(core) is None
    assert _early(late) is None


def test_the_early_child_starts_after_its_round_and_is_stopped_when_not_wanted() -> None:
    core = _tight_core()
    early = _early(core)
    assert early is not None
    x, columns = _lp_point(core)
    prices = np.zeros(core.n_resources)
    for rounds in range(1, lp_routes.NARROW_START_ROUND):
        early.after_round(rounds, core, x, columns, prices)
        assert early.child is None
    early.after_round(lp_routes.NARROW_START_ROUND, core, x, columns, prices)
    child = early.child
    assert child is not None
    assert 0 < early.sub.n_arcs < core.n_arcs
    early.stop()
    assert early.child is None
    assert child.done()  # stopped, not left running beside the route
    assert early.collect() is None


def test_fix_and_mip_takes_the_early_childs_answer_when_it_is_worth_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The wide sub-MIP runs here alone (no second child), the early one's answer
    is collected and wins where it is worth more."""
    core = _tight_core()
    early = _early(core)
    assert early is not None
    x, columns = _lp_point(core)
    started: list[Any] = []

    class FakeChild:
        def __init__(self, sub: Core, **kw: Any) -> None:
            self.hint = kw["hint"]
            started.append(self)

        def collect(self, wait_s: float, stopped: str | None = None) -> mip_solver.MipResult:
            return mip_solver.MipResult(SearchStatus.FEASIBLE, self.hint, None)

    monkeypatch.setattr(mip_solver.MipChild, "start", lambda sub, **kw: FakeChild(sub, **kw))
    for rounds in range(1, lp_routes.NARROW_START_ROUND + 1):
        early.after_round(rounds, core, x, columns, np.zeros(core.n_resources))
    assert len(started) == 1
    calls: list[bool] = []

    def wide(sub: Core, **kw: Any) -> mip_solver.MipResult:
        calls.append(kw.get("while_waiting") is not None)
        return mip_solver.MipResult(SearchStatus.FEASIBLE, np.full(sub.n_items, -1), None)

    monkeypatch.setattr(mip_solver, "solve_mip", wide)
    budget = TimeBudget(2.0, time.perf_counter() - 1.0)
    stats: dict[str, Any] = {}
    start = np.full(core.n_items, -1)
    got = lp_routes.fix_and_mip(core, x, columns, budget, [("s", start)], stats, 0.1, 2, early)
    assert calls == [False]  # the wide one alone, in this process
    assert got is not None
    assert core.is_feasible(got)
    assert stats["fix_mip_narrow_won"] is True
    assert core.value(got) == stats["fix_mip_narrow_value"] > stats["fix_mip_value"]
    assert early.child is None
