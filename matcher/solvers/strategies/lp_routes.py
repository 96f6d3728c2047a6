"""The LP routes of strategy ``mip`` (mip.py decides which one runs and
with how much time): the LP by column and cut generation (colgen.py) with a
sub-MIP on its fractional items, the LP with cuts by PDLP (pdlp_lp.py), and
the Lagrangian of the budget rows around min-cost flow (lagrange.py).

Each adds answers and a bound to the `Incumbents`; the first two may add cut
rows to its core.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import numpy as np

from matcher.solution import SolveOptions
from matcher.solvers import heuristics
from matcher.solvers import mip as mip_solver
from matcher.solvers.budget import TimeBudget
from matcher.solvers.colgen import lp_loop
from matcher.solvers.core import Core, IntArray
from matcher.solvers.lagrange import lagrangian, priced_rows
from matcher.solvers.pdlp_lp import pdlp_loop
from matcher.solvers.status import SearchStatus
from matcher.solvers.strategies import steps


def colgen(
    inc: steps.Incumbents,
    budget: TimeBudget,
    stats: dict[str, Any],
    *,
    loop_budget: TimeBudget,
    fix_reserve_s: float,
    workers: int = 1,
) -> None:
    """The column and cut generation LP within `loop_budget` and the answers
    its point and prices give; then HiGHS on the items it leaves fractional,
    keeping `fix_reserve_s` of `budget` free (with `workers` >= 2 two such
    sub-MIPs at once, `fix_and_mip`).  A loop that stopped before it
    converged is followed by the LP over all arcs with its cuts when the
    time allows (`close_lp`)."""
    t = time.perf_counter()
    early = EarlyNarrow.wanted(inc, budget, loop_budget, fix_reserve_s, workers)
    # (the flow answer's marginal-value budget prices, lagrange.start_prices,
    # chose worse first columns than no prices: docs/solver.md)
    r = lp_loop(
        inc.core,
        budget=loop_budget,
        keep=inc.best_feasible(),
        in_process_max_arcs=steps.INPROCESS_MAX_ARCS,
        after_round=early.after_round if early is not None else None,
    )
    inc.lp_tried = True
    if r is not None:
        stats.update(r.stats)
        ext = inc.core = r.core
        # the flow carries the places itself: price only the rows it drops (a
        # row that cannot overflow has no LP row, so its price is 0 either way)
        cands = steps.lp_candidates(ext, r.x, r.prices, np.where(priced_rows(ext), r.prices, 0.0))
        if r.x is not None and r.columns is not None:
            t_fix = time.perf_counter()
            fixed = fix_and_mip(
                ext, r.x, r.columns, budget, cands, stats, fix_reserve_s, workers, early
            )
            stats["fix_mip_s"] = round(time.perf_counter() - t_fix, 6)
            if fixed is not None:
                cands.append(("LP ones fixed + HiGHS sub-MIP", fixed))
        inc.candidates.extend(cands)
        inc.lp = mip_solver.MipResult(
            SearchStatus.OPTIMAL, None, r.bound, primal=r.bound, x=r.x, duals=r.prices,
            reduced_costs=r.reduced_costs,
        )  # fmt: skip
        inc.offer_bound(r.bound, COLGEN_SOURCE)
        inc.offer_bound(r.lp_value, COLGEN_SOURCE)
        if not r.stats.get("lp_converged"):
            close_lp(inc, budget.share(1.0, fix_reserve_s + steps.MIN_SEARCH_S), stats)
    stats["lp_heuristics_s"] = round(time.perf_counter() - t, 6)
    if inc.lp is None:
        stats["lp_failed"] = True
    if early is not None:
        early.stop()  # (a loop that failed, or a sub-MIP that did not run)


COLGEN_SOURCE = "LP relaxation with knapsack cuts (column generation, HiGHS)"
FULL_SOURCE = "LP relaxation with knapsack cuts (all arcs, HiGHS)"


def close_lp(inc: steps.Incumbents, budget: TimeBudget, stats: dict[str, Any]) -> None:
    """The LP over all arcs of the core with the cuts found so far, after a
    column generation that stopped unconverged (time, or a stalled tail):
    the best bound of its rounds' prices may lie above the plain LP's, this
    LP's never does (the cuts are valid rows).  Runs when `budget` holds the
    LP at the rate the loop's LPs were solved at; its reduced costs then
    serve the fixing."""
    core = inc.core
    if budget.left() < close_lp_expected_s(core, stats):
        stats["lp_closed"] = "no time"
        return
    t = time.perf_counter()
    r = mip_solver.solve_mip(
        core,
        time_limit_s=budget.left(),
        relative_gap=0.0,
        relax=True,
        grace_s=0.1,
        in_process=core.n_arcs <= steps.INPROCESS_MAX_ARCS,
    )
    stats["lp_close_s"] = round(time.perf_counter() - t, 6)
    if r.bound is None or r.x is None:
        stats["lp_closed"] = "no answer in time"
        return
    stats["lp_closed"] = "solved"
    if inc.bound is None or r.bound < inc.bound:
        inc.lp = r
    inc.offer_bound(r.bound, FULL_SOURCE)


# the LP over all arcs (with the cuts) took 1.0-1.8x the loop's seconds per
# restricted arc (late, all4, bundles, perceel4 at 1k x 200, seeds 1-2)
CLOSE_LP_MARGIN = 2.0


def close_lp_expected_s(core: Core, stats: dict[str, Any]) -> float:
    """The LP over all arcs at the loop's own measured rate (its seconds per
    restricted arc solved), else at the general rate."""
    done = sum(int(n) for _, _, n in stats.get("lp_trace", ()))
    if not done:
        return steps.lp_expected_s(core)
    rate = float(stats.get("lp_solve_s", 0.0)) / done
    return 0.02 + CLOSE_LP_MARGIN * rate * float(core.n_arcs)


def pdlp(
    inc: steps.Incumbents,
    opts: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
) -> None:
    """The LP with knapsack cuts by PDLP within `budget`: its prices and point
    as an LP without a bound of its own (the flow Lagrangian after it gives
    the bound of the prices), the core with the cuts added, and the answer
    of the flow priced by the prices of the LP without cuts."""
    t = time.perf_counter()
    inc.lp_tried = True
    r = pdlp_loop(inc.core, budget=budget, keep=inc.best_feasible(), threads=opts.workers)
    if r is not None:
        inc.lp = mip_solver.MipResult(SearchStatus.OPTIMAL, None, None, x=r.x, duals=r.prices)
        inc.core = r.core
        stats.update(r.stats)
        if r.first_prices is not None:
            # the flow carries the places itself: price only the rows it drops
            core = inc.core
            flow_prices = np.where(priced_rows(core), r.first_prices, 0.0)
            inc.candidates.extend(steps.priced_flow(core, flow_prices, "LP-priced flow+repair"))
    stats["lp_heuristics_s"] = round(time.perf_counter() - t, 6)
    if inc.lp is None:
        stats["lp_failed"] = True


def lagrangian_prices(
    inc: steps.Incumbents, budget: TimeBudget, stats: dict[str, Any], max_steps: int = 200
) -> None:
    """Lagrangian prices on the budget rows around min-cost flow within
    `budget` and at most `max_steps` steps: answers and a bound, started from
    the LP's prices when there are any."""
    core = inc.core
    t = time.perf_counter()
    fr, lp = inc.flow, inc.lp
    lr = lagrangian(
        core,
        budget,
        start=inc.best_feasible(),
        prices=lp.duals if lp is not None else None,
        first=fr.chosen if fr is not None and lp is None else None,
        est_step_s=stats.get("flow_s", 0.0) + stats.get("heuristic_s", 0.0),
        max_iter=max_steps,
    )
    stats["lagrange_s"] = round(time.perf_counter() - t, 6)
    stats["lagrange_iterations"] = lr.iterations
    if lr.chosen is not None:
        inc.candidates.append(("Lagrangian-priced flow+repair", lr.chosen))
    source = "Lagrangian relaxation of the budget rows (flow)"
    if core.n_cuts:
        source = "Lagrangian relaxation of the budget and cut rows (flow)"
    inc.offer_bound(lr.bound, source)


# `fix_and_mip` when it ends the route
FIX_MIP_END_MARGIN_S = 0.1
FIX_MIP_END_MARGIN_SHARE = 0.025


def fix_mip_seconds(
    core: Core, budget: TimeBudget, reserve_s: float, at: float | None = None
) -> tuple[float, bool]:
    """The sub-MIP's time limit, and whether it also takes the half kept for
    HiGHS on the whole core after it, because that search would not fit in
    it (True; the sub-MIP then ends the route); for a sub-MIP started at
    `at` (a `time.perf_counter()` reading), by default now."""
    has = budget.left() if at is None else max(0.0, budget.deadline - at)
    left = has - max(steps.MIN_SEARCH_S, reserve_s)
    if core.n_arcs > steps.INPROCESS_MAX_ARCS:
        return left, False
    # the same rule as mip.py's after this step, on the time left after it
    if has - left / 2 >= steps.SEARCH_AFTER_LP_LPS * steps.lp_expected_s(core):
        # HiGHS can prove a problem this small on the whole: keep half the
        # time for that search, which this heuristic step must not starve
        return left / 2, False
    # where that half would not hold the search (mip.py then skips it: 2 s at
    # 1k x 200) it was left unused: this step takes it and ends the route,
    # keeping a margin for HiGHS's overrun of its limit and the hint's repair
    # (the sub-MIP took 0.83 s for a limit of about 0.72 s on family tight at
    # 1k x 200, 2 s)
    return left - FIX_MIP_END_MARGIN_S - FIX_MIP_END_MARGIN_SHARE * budget.limit, True


def _ends_route(core: Core, whole: bool) -> bool:
    """Whether the sub-MIP takes all the time left (`fix_mip_seconds`): where it
    also takes the search's half, or on a core above `steps.INPROCESS_MAX_ARCS`
    arcs, where no half is kept (family late at 1k x 200: 22,087 arcs; CBC was
    better there by 17 on seed 1 before the narrow one ran beside it, s37)."""
    return whole or core.n_arcs > steps.INPROCESS_MAX_ARCS


def fix_and_mip(
    core: Core,
    x: Any,
    columns: Any,
    budget: TimeBudget,
    cands: list[tuple[str, IntArray]],
    stats: dict[str, Any],
    reserve_s: float,
    workers: int = 1,
    early: EarlyNarrow | None = None,
) -> IntArray | None:
    """HiGHS on the items the LP leaves fractional: the arcs at 1 stay fixed,
    the other items keep the arcs of the last restricted LP.  That MIP is a few
    thousand arcs where the whole one is tens of thousands, and its answer is
    feasible for the whole problem (docs/solver.md).

    Where this step ends the route (a short limit or a large core,
    `_ends_route`) and two workers are allowed, a second sub-MIP runs at the
    same time in a forked child: the same items on only the arcs the LP uses,
    and those of the answer both start from.  It is a fifth of the size, and on tight ceilings
    HiGHS gets further in it; on other families the wide one mostly gives
    more (benchmarks/RESULTS.md, s34 and s36).  `early` is that child started
    from a round of the LP loop (`EarlyNarrow`), which then gives it the
    loop's later rounds too.  The better answer of the two is taken, the wide
    one's on a tie."""
    left, whole = fix_mip_seconds(core, budget, reserve_s)
    stats["fix_mip_takes_search_half"] = whole
    ends = _ends_route(core, whole)
    if early is not None and not ends:
        early.stop()  # the search on the whole core after this step takes the second core
        early = None
    if left < steps.MIN_SEARCH_S:
        return None
    sub, back, cols, hint = _fixed_sub(core, x, columns, cands)
    stats["fix_mip_arcs"] = sub.n_arcs
    if hint is not None:
        stats["fix_mip_hint"] = sub.value(hint)
    small = sub.n_arcs <= steps.INPROCESS_MAX_ARCS

    def solve_wide(limit_s: float) -> mip_solver.MipResult:
        r = mip_solver.solve_mip(
            sub, time_limit_s=limit_s, relative_gap=1e-6, grace_s=0.1, hint=hint, in_process=small
        )
        stats["fix_mip_reason"] = r.stats.get("highs_reason")
        return r

    answers: list[tuple[IntArray | None, bool]] = []
    if early is not None and early.child is not None:
        stats["fix_mip_narrow_arcs"] = early.sub.n_arcs
        stats["fix_mip_narrow_round"] = NARROW_START_ROUND
        answers.append((_on_core(core, sub, back, solve_wide(left).chosen), False))
        rn = early.collect()
        assert rn is not None  # (the child was started)
        answers.insert(0, (_on_core(core, early.sub, early.back, rn.chosen), True))
        stats["fix_mip_narrow_reason"] = rn.stats.get("highs_reason")
    else:
        if not (ends and small and workers >= 2 and NARROW_SUB_MIP and _can_fork()):
            return _on_core(core, sub, back, solve_wide(left).chosen)
        nsub, nback, nhint = _narrow(core, x, cols, sub, back, hint)
        if nsub.n_arcs >= sub.n_arcs:
            return _on_core(core, sub, back, solve_wide(left).chosen)
        stats["fix_mip_narrow_arcs"] = nsub.n_arcs
        wide: list[mip_solver.MipResult] = []

        def wide_meanwhile(child_budget: TimeBudget) -> bool:
            wide.append(solve_wide(child_budget.left()))
            return False  # the narrow one may still find more: it keeps its time

        rn = mip_solver.solve_mip(
            nsub,
            time_limit_s=left,
            relative_gap=1e-6,
            grace_s=0.1,
            hint=nhint,
            while_waiting=wide_meanwhile,
            cut_pool=NARROW_CUT_POOL,
        )
        # (had the child not started, the narrow one ran here and the wide one not)
        answers.append((_on_core(core, nsub, nback, rn.chosen), True))
        stats["fix_mip_narrow_reason"] = rn.stats.get("highs_reason")
        if wide:
            answers.append((_on_core(core, sub, back, wide[0].chosen), False))
    got = [(ch, narrow) for ch, narrow in answers if ch is not None]
    for ch, narrow in got:
        stats["fix_mip_narrow_value" if narrow else "fix_mip_value"] = core.value(ch)
    if not got:
        return None
    # the wide one first: on a tie it is the answer, as without the narrow one
    answer, stats["fix_mip_narrow_won"] = max(reversed(got), key=lambda g: core.value(g[0]))
    return answer


def _fixed_sub(
    core: Core, x: Any, columns: Any, cands: list[tuple[str, IntArray]]
) -> tuple[Core, IntArray, Any, IntArray | None]:
    """The wide sub-MIP: its core, arc map, arcs (on `core`) and starting answer."""
    one = np.flatnonzero(x > 1 - 1e-6)
    fixed_item = np.zeros(core.n_items, dtype=bool)
    fixed_item[core.arc_item[one]] = True
    cols = columns & ~fixed_item[core.arc_item]
    cols[one] = True
    # the best answer so far, moved onto the fixed arcs: HiGHS starts from it
    # (repaired inside each sub-problem) instead of its own weak first answers
    best = max((ch for _, ch in cands if core.is_feasible(ch)), key=core.value, default=None)
    start = None
    if best is not None:
        start = best.copy()
        start[core.arc_item[one]] = one
    sub, back = core.restrict(cols)
    return sub, back, cols, _sub_hint(sub, back, cols, start)


def _narrow(
    core: Core, x: Any, cols: Any, sub: Core, back: IntArray, hint: IntArray | None
) -> tuple[Core, IntArray, IntArray | None]:
    """The narrow sub-MIP: the wide one's arcs that the LP uses, and those of its
    starting answer; its core, arc map and starting answer."""
    used = cols & (x > 1e-9)
    if hint is not None:
        # the wide one's starting answer, so that both start from the same answer
        on = steps.to_core(hint, back)
        used[on[on >= 0]] = True
    nsub, nback = core.restrict(used)
    nhint = None if hint is None else steps.to_sub(steps.to_core(hint, back), nback)
    return nsub, nback, nhint


class EarlyNarrow:
    """The narrow sub-MIP (`fix_and_mip`) started in a forked child after round
    `NARROW_START_ROUND` of the LP loop, so that it also has the second core
    while the loop's later rounds run in this process.  On family tight at 1k x
    200 and 2 s it had 0.6-0.75 s after the loop and returned its starting
    answer on two of three seeds; replayed alone, it gave +1.2 % on seed 2 with
    1.5 s (benchmarks/RESULTS.md, s37)."""

    def __init__(self, inc: steps.Incumbents, end: float) -> None:
        self.inc, self.end = inc, end
        self.child: mip_solver.MipChild | None = None
        self.sub: Core = inc.core
        self.back: IntArray = np.zeros(0, dtype=np.int64)

    @classmethod
    def wanted(
        cls,
        inc: steps.Incumbents,
        budget: TimeBudget,
        loop_budget: TimeBudget,
        reserve_s: float,
        workers: int,
    ) -> EarlyNarrow | None:
        """One where two workers are allowed and the sub-MIP after the loop, as
        the loop's own budget foresees it, ends the route (`_ends_route`): both
        sub-MIPs then end at the same time."""
        if not (NARROW_SUB_MIP and NARROW_START_ROUND and workers >= 2 and _can_fork()):
            return None
        left, whole = fix_mip_seconds(inc.core, budget, reserve_s, at=loop_budget.deadline)
        if not _ends_route(inc.core, whole) or left < steps.MIN_SEARCH_S:
            return None
        return cls(inc, loop_budget.deadline + left)

    def after_round(self, rounds: int, core: Core, x: Any, in_lp: Any, prices: Any) -> None:
        """`colgen.lp_loop`'s hook: the child started after round
        `NARROW_START_ROUND`, from that round's point and the best answer so far."""
        if self.child is not None or rounds != NARROW_START_ROUND:
            return
        cands = steps.lp_candidates(core, x, prices, np.where(priced_rows(core), prices, 0.0))
        # (the first incumbents are answers on the core without the loop's cut rows,
        # which every answer meets)
        cands += self.inc.candidates
        sub, back, cols, hint = _fixed_sub(core, x, in_lp, cands)
        nsub, nback, nhint = _narrow(core, x, cols, sub, back, hint)
        limit = self.end - time.perf_counter()
        if nsub.n_arcs > steps.INPROCESS_MAX_ARCS or limit < steps.MIN_SEARCH_S:
            return
        self.sub, self.back = nsub, nback
        self.child = mip_solver.MipChild.start(
            nsub, time_limit_s=limit, relative_gap=1e-6, hint=nhint, cut_pool=NARROW_CUT_POOL
        )

    def collect(self) -> mip_solver.MipResult | None:
        """The child's answer, waiting until shortly after its limit; None when no
        child was started."""
        if self.child is None:
            return None
        child, self.child = self.child, None
        return child.collect(max(0.0, self.end + NARROW_GRACE_S - time.perf_counter()))

    def stop(self) -> None:
        """The child stopped (its answer is not wanted)."""
        if self.child is not None:
            self.child.collect(0.0, "stopped: the sub-MIP after the loop did not run")
            self.child = None


# the second, narrow sub-MIP beside the wide one (`fix_and_mip`), and HiGHS's pool of
# cuts there: with the default (10,000) HiGHS spent the whole 0.6-0.7 s of a 2 s solve
# at 1k x 200 in its root's cut rounds on family tight, +0.2 % beyond its hint on one
# of three seeds; with 300 its sub-MIP heuristic found +0.4 and +1.2 % on two of them
# (benchmarks/RESULTS.md, s36).  The wide one keeps the default: there the same cap
# gave as much less as more over the families.
NARROW_SUB_MIP = True
NARROW_CUT_POOL = 300
# ... started after this round of the LP loop (`EarlyNarrow`; 0: after the loop): on
# family tight at 1k x 200, 2 s, starts after rounds 2, 3 and 4 each took the worst
# seed from 1.60 % to 1.00-1.02 % and kept every other family within 0.3 % (s37)
NARROW_START_ROUND = 3
# how long after its limit the early child may answer (the grace of the wide one)
NARROW_GRACE_S = 0.1


def _can_fork() -> bool:
    """Whether this process may fork the narrow sub-MIP's child (a daemon, such as a
    Dask worker, may not start a process)."""
    try:
        mp.get_context("fork")
    except ValueError:
        return False
    return not mp.current_process().daemon


def _sub_hint(sub: Core, back: IntArray, cols: Any, start: IntArray | None) -> IntArray | None:
    """`start` (an answer on the core) inside the sub-problem of the arcs `cols`,
    repaired there; None when that is not feasible."""
    if start is None:
        return None
    h = start.copy()
    h[(h >= 0) & ~cols[np.maximum(h, 0)]] = -1
    h = heuristics.repair_and_fill(sub, steps.to_sub(h, back))
    return h if sub.is_feasible(h) else None


def _on_core(core: Core, sub: Core, back: IntArray, chosen: IntArray | None) -> IntArray | None:
    if chosen is None or not sub.is_feasible(chosen):
        return None
    return steps.to_core(chosen, back)
