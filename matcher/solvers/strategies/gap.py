"""Strategy ``gap`` and the search after the incumbents that it shares with
``cpsat``.

On a GAP-like core (every item must-assign, one resource per arc;
`gap_search.is_gap_like`) ``gap`` takes the knapsack Lagrangian
(gap_bound.py) for its bound and arc fixing, bands of the bound decided by
CP-SAT, and HiGHS as the search (with CP-SAT beside it on small cores);
``cpsat`` on such a core puts a tabu search (gap_search.py) around CP-SAT.
On any other core both run CP-SAT after the incumbents.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from matcher.solution import SolveOptions
from matcher.solvers import cpsat as cpsat_solver
from matcher.solvers.budget import TimeBudget
from matcher.solvers.colgen import dual_bound
from matcher.solvers.core import Core, IntArray
from matcher.solvers.gap_bound import GapBound, arcs_for, knapsack_bound
from matcher.solvers.gap_search import is_gap_like, tabu_search
from matcher.solvers.status import SearchStatus
from matcher.solvers.strategies import searches, steps
from matcher.solvers.strategies.base import Outcome
from matcher.solvers.strategies.finish import integral

# Cores above this many arcs get the plain LP for its bound even where it does
# not pay for the incumbent (`_lp_for_the_bound`); smaller ones CP-SAT settles.
LP_FOR_BOUND_MIN_ARCS = 64

# GAP-like problems: shares of the time left after the LP that the tabu
# search (gap_search.py) gets to improve the hint and then to polish the
# search's answer (docs/solver.md); after HiGHS (strategy "gap") the polish
# gained nothing and is off
TABU_FIRST_SHARE = 0.15
TABU_SHARE = 0.15
GAP_TABU_SHARE = 0.0
# ... strategy "gap": the share of the time left that the knapsack
# Lagrangian (gap_bound.py) may take for its bound and arc fixing
# (docs/solver.md, fourth round)
GAP_BOUND_SHARE = 0.1
# CP-SAT on the second core while HiGHS searches a GAP core of at most this
# many arcs (docs/solver.md, "Sixth round": it proved b10200 (426 arcs) in
# 10 s; on the 8,000-arc e20400 it found nothing HiGHS had not)
GAP_CPSAT_SIDE = True
GAP_CPSAT_SIDE_MAX_ARCS = 1_000
# ... the bands (see `gap_bands`) stop when a band keeps more than this share
# of the arcs, and each band gets at most this share of the time left
GAP_BAND_ARC_SHARE = 0.5
GAP_BAND_TIME_SHARE = 0.2
GAP_BANDS_TOTAL_SHARE = 0.5
GAP_MAX_BANDS = 3


class GapStrategy:
    name = "gap"

    def run(
        self, core: Core, options: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
    ) -> Outcome:
        return run_with_incumbents(core, options, budget, stats, gap=True)


def run_with_incumbents(
    core: Core, opts: SolveOptions, budget: TimeBudget, stats: dict[str, Any], *, gap: bool
) -> Outcome:
    """Incumbents (flow, heuristics, the plain LP when it pays), then the
    search: the GAP route when `gap` and the core is GAP-like, else CP-SAT."""
    inc = steps.begin(core, opts, stats)
    if inc.exact:
        return steps.exact_outcome(inc)
    if steps.lp_worth_it(core, budget) or _lp_for_the_bound(core, opts, budget, gap=gap):
        steps.plain_lp(inc, opts, budget, stats)
    best = steps.settle(inc, stats)
    if budget.left() < steps.MIN_SEARCH_S:
        # too little time to start a solver: the incumbent is the answer
        return inc.outcome(best)
    work, back, best = steps.reduced_cost_fixing(inc, best, stats)
    chosen, bound, source, proven = search(
        work, back, best, inc.bound, inc.bound_source, inc.lp, opts, budget, stats, gap=gap
    )
    return Outcome(inc.core, chosen, bound, proven, source)


def _lp_for_the_bound(core: Core, opts: SolveOptions, budget: TimeBudget, *, gap: bool) -> bool:
    """Below `steps.LP_MIN_ARCS` the LP does not pay for the incumbent, but it
    takes milliseconds, and CP-SAT stopped by the time limit can report a bound
    several per cent weaker than the LP's (tests/test_bound_validity.py).  The
    GAP route keeps its measured tuning, and a warm-started re-solve (a what-if)
    keeps its speed."""
    return (
        not gap
        and opts.warm_start is None
        and core.n_arcs > LP_FOR_BOUND_MIN_ARCS
        and budget.left() > 4 * steps.lp_expected_s(core)
    )


def search(
    work: Core,
    back: IntArray | None,
    best: IntArray | None,
    bound: float | None,
    bound_source: str,
    lp: Any,
    opts: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
    *,
    gap: bool,
) -> searches.Found:
    """The search on `work` (arcs mapped to the core by `back`); returns the
    answer in the core's arcs."""
    gap_like = is_gap_like(work)
    gap_route = gap_like and gap
    polish_share = GAP_TABU_SHARE if gap_route else TABU_SHARE
    gb = None
    if gap_route and best is not None and not steps.proven(work, best, bound, opts):
        gb, bound, bound_source = gap_bound(work, best, bound, bound_source, lp, budget, stats)
    first_s = TABU_FIRST_SHARE * budget.left() if gap_like else 0.0
    if first_s > 0 and best is not None and not steps.proven(work, best, bound, opts):
        # a better hint: CP-SAT's neighbourhood search starts from it
        t = time.perf_counter()
        b0 = work.value(best)
        best = tabu_search(
            work,
            best,
            TimeBudget(first_s),
            seed=opts.seed,
            target=steps.target(bound, opts),
        )
        stats["tabu_first_s"] = round(time.perf_counter() - t, 6)
        stats["tabu_first_gain"] = work.value(best) - b0
    if (
        gb is not None
        and best is not None
        and bound is not None
        and not steps.proven(work, best, bound, opts)
    ):
        work, back, best, bound, bound_source = gap_bands(
            work,
            back,
            best,
            bound,
            bound_source,
            gb,
            opts,
            budget,
            stats,
            reserve_s=polish_share * budget.left(),
        )
    tabu_s = polish_share * budget.left() if gap_like else 0.0
    if gap_route:
        chosen, bound, bound_source, proven = searches.run_mip(
            work,
            best,
            bound,
            bound_source,
            opts,
            budget,
            stats,
            reserve_s=tabu_s,
            presolve=True,
            with_cpsat=GAP_CPSAT_SIDE and work.n_arcs <= GAP_CPSAT_SIDE_MAX_ARCS,
        )
        if stats.get("highs_failed") and budget.left() > tabu_s + steps.MIN_SEARCH_S:
            chosen, bound, bound_source, proven = searches.run_cpsat(
                work, chosen, bound, bound_source, opts, budget, stats, reserve_s=tabu_s
            )
    else:
        chosen, bound, bound_source, proven = searches.run_cpsat(
            work, best, bound, bound_source, opts, budget, stats, reserve_s=tabu_s
        )
    if tabu_s > 0 and chosen is not None and not proven and budget.left() > 0.1:
        t = time.perf_counter()
        tabu_before = work.value(chosen)
        chosen = tabu_search(
            work,
            chosen,
            budget.until(budget.deadline - 0.05),
            seed=opts.seed,
            target=steps.target(bound, opts),
        )
        stats["tabu_s"] = round(time.perf_counter() - t, 6)
        stats["tabu_gain"] = work.value(chosen) - tabu_before
        if stats["tabu_gain"] > 0:
            stats["incumbent_source"] = f"{stats.get('incumbent_source', 'search')}+tabu"
            proven = steps.proven(work, chosen, bound, opts)
    if back is not None and chosen is not None:
        chosen = steps.to_core(chosen, back)
    return chosen, bound, bound_source, proven


def gap_bound(
    work: Core,
    best: IntArray,
    bound: float | None,
    bound_source: str,
    lp: Any,
    budget: TimeBudget,
    stats: dict[str, Any],
) -> tuple[GapBound | None, float | None, str]:
    """The knapsack Lagrangian of a GAP-like core (gap_bound.py): a bound at
    least as strong as the LP's, and for each value the arcs that can be in
    an answer worth that much."""
    t0 = time.perf_counter()
    start = None
    if lp is not None and lp.duals is not None:
        start = dual_bound(work, lp.duals)[1]  # the LP's item prices
    gb = knapsack_bound(
        work,
        incumbent=float(work.value(best)),
        budget=budget.share(GAP_BOUND_SHARE),
        start_prices=start,
    )
    stats["gap_bound_s"] = round(time.perf_counter() - t0, 6)
    if gb is None or gb.forced is None:
        return None, bound, bound_source
    stats["gap_bound_iterations"] = gb.iterations
    if bound is None or gb.bound < bound:
        bound, bound_source = gb.bound, "knapsack Lagrangian (item rows relaxed)"
    return gb, bound, bound_source


def gap_bands(
    work: Core,
    back: IntArray | None,
    best: IntArray,
    bound: float,
    bound_source: str,
    gb: GapBound,
    opts: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
    reserve_s: float,
) -> tuple[Core, IntArray | None, IntArray, float, str]:
    """Bands, from the bound down: the answers worth at least t use only the
    arcs that gap_bound gives for t, and CP-SAT decides on that (small) core
    whether one exists.  One that does is optimal; none proves the bound
    t - 1.  Bands run only when the Lagrangian's prices converged, at most
    GAP_MAX_BANDS of them, and stop once a band's core holds more than
    GAP_BAND_ARC_SHARE of the arcs, or one is not decided in its time.

    Then the core shrinks to the arcs that can be in an answer better than
    the incumbent (its own arcs stay, so every bound found on what is left
    still bounds the whole problem)."""
    t1 = time.perf_counter()
    bands = 0
    source = "knapsack Lagrangian bands + cpsat"
    target = integral(bound)
    bands_budget = budget.share(GAP_BANDS_TOTAL_SHARE, reserve_s)
    # bands pay when the prices have converged (small bands) and the
    # optimum lies a few units above the bound (GAP_MAX_BANDS)
    while (
        gb.converged
        and bands < GAP_MAX_BANDS
        and target > work.value(best)
        and budget.left() > reserve_s + steps.MIN_SEARCH_S
        and bands_budget.left() > 0
    ):
        keep = arcs_for(gb, target)
        if not (np.bincount(work.arc_item[keep], minlength=work.n_items) > 0).all():
            # an item without an arc in the band: no answer is worth `target`
            bound, bound_source, target = target - 1, source, target - 1
            continue
        if keep.sum() > GAP_BAND_ARC_SHARE * work.n_arcs:
            break
        bands += 1
        sub, sub_back = work.restrict(keep)
        r = cpsat_solver.solve_cpsat(
            sub,
            time_limit_s=max(
                0.05,
                min(
                    GAP_BAND_TIME_SHARE * (budget.left() - reserve_s),
                    bands_budget.left(),
                ),
            ),
            relative_gap=0.0,
            workers=opts.workers,
            seed=opts.seed,
            min_value=target,
        )
        found = None
        if r.chosen is not None and sub.is_feasible(r.chosen):
            found = sub_back[r.chosen]
            if work.value(found) > work.value(best):
                best = found
                stats["incumbent_source"] = source
        if r.status is SearchStatus.OPTIMAL and found is not None:
            # every answer worth `target` or more is in this band
            bound, bound_source = float(work.value(found)), source
            break
        if r.status is not SearchStatus.INFEASIBLE:
            break  # not decided in its time: the search below takes over
        bound, bound_source, target = target - 1, source, target - 1
    stats["gap_bands"] = bands
    stats["gap_bands_s"] = round(time.perf_counter() - t1, 6)

    keep = arcs_for(gb, work.value(best) + 1)
    keep[best[best >= 0]] = True
    stats["gap_fixed_arcs"] = int(work.n_arcs - keep.sum())
    if not keep.all():
        sub, sub_back = work.restrict(keep)
        best = steps.to_sub(best, sub_back)
        back = sub_back if back is None else back[sub_back]
        work = sub
    return work, back, best, bound, bound_source
