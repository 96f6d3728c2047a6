"""`solve(problem, options) -> Solution`: pick a strategy by problem shape.

Strategies (see docs/solver.md for the measurements behind the choice):

- ``flow``: min-cost flow.  Exact (OPTIMAL) on a transportation problem
  (every arc uses at most one resource, by 1).  On other problems: the flow
  relaxation (budget rows dropped) repaired to feasibility, with the
  relaxation optimum as bound.
- ``cpsat``: a flow + repair (or warm-start) incumbent as hint, then CP-SAT.
- ``mip``: the same incumbent, then HiGHS MIP (MathOpt) under a hard deadline,
  then (up to `CPSAT_MAX_ARCS` free arcs) CP-SAT polishing of the best answer
  in the last `POLISH_SHARE` of the time.
- ``cpsat-plain``: CP-SAT without hint or incumbent (a reference only).
- ``auto`` (default): ``flow`` for transportation problems; ``cpsat`` for
  tiny problems (up to `CPSAT_SMALL_ARCS` free arcs) and for GAP-like ones
  (every item must-assign, up to `CPSAT_MAX_ARCS` free arcs); ``mip``
  otherwise.

Non-flow strategies first build incumbents (flow + repair, warm start +
repair, and when time allows LP rounding and LP-priced flow + repair, then a
local move search), use the LP's reduced costs to drop arcs that cannot be
in a better answer, and hand the best incumbent to CP-SAT or HiGHS as hint.

Every answer is recomputed from the assignment (`objective_of`), the bound is
the best proven one and `stats["bound_source"]` says where it came from.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.problem import AssignmentProblem, Sense, validate_arrays
from matcher.solution import Solution, SolveOptions, Status, objective_of, relative_gap
from matcher.solvers.core import (
    Core,
    CoreInfeasible,
    IntArray,
    build_core,
    chosen_to_original_arcs,
    warm_start_choice,
)

if TYPE_CHECKING:
    from matcher.solvers.gap_bound import GapBound

STRATEGIES = ("auto", "flow", "cpsat", "gap", "mip", "cpsat-plain")

# CP-SAT alone for tiny problems (no process start) and for problems whose
# items must all be assigned, up to CPSAT_MAX_ARCS free arcs; GAP-like ones
# among them (one resource per arc) take the "gap" route.  HiGHS MIP
# wins on optional items with budget rows in euro cents (from about 200
# arcs); CP-SAT then polishes its answer up to CPSAT_MAX_ARCS free arcs,
# beyond which CP-SAT's memory grows faster than its answers improve
# (docs/solver.md).
CPSAT_SMALL_ARCS = 64
CPSAT_MAX_ARCS = 60_000

# Below this many free arcs the LP step costs more than it saves.
LP_MIN_ARCS = 1_000

# CP-SAT parameters beyond workers, seed, time and gap (docs/solver.md says
# which were measured and why these are kept).
CPSAT_PARAMS: dict[str, Any] = {}

# Share of the time the MIP route leaves to CP-SAT polishing, and the least
# time left for which polishing is tried (docs/solver.md).
POLISH_SHARE = 0.25
POLISH_MIN_S = 2.0

# Below this much time left, starting CP-SAT or a HiGHS process costs more
# than it can find; the incumbent is returned.
MIN_SEARCH_S = 0.25

# HiGHS LP time per free arc on generated instances: 2e-5 s on an idle
# machine, up to 1e-4 s on a loaded one (docs/solver.md).
LP_SECONDS_PER_ARC = 5e-5

# HiGHS runs in this process (no fork, no pickling: what-if re-solves of a
# few thousand arcs) up to this many free arcs, where it keeps to its time
# limit; the MIP there runs without presolve, which proved the what-if
# components optimal at the root 2-6x faster (docs/solver.md).
INPROCESS_MAX_ARCS = 20_000

# GAP-like problems (every item must-assign, one resource per arc): shares of
# the time left after the LP that the tabu search (gap_search.py) gets to
# improve the hint and then to polish the search's answer (docs/solver.md);
# after HiGHS (strategy "gap") the polish gained nothing and is off
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
# ... the bands (see _gap_bands) stop when a band keeps more than this share
# of the arcs, and each band gets at most this share of the time left
GAP_BAND_ARC_SHARE = 0.5
GAP_BAND_TIME_SHARE = 0.2
GAP_BANDS_TOTAL_SHARE = 0.5
GAP_MAX_BANDS = 3

# Problems with budget rows get the LP by column and cut generation
# (colgen.py) in the first COLGEN_SHARE of the time limit.
COLGEN = True
COLGEN_SHARE = 0.5
# ... when the plain LP would take at most this share of the time limit
# (at the measured LP rate): the restricted LPs take a few rounds, and a
# first round alone gives a bound far weaker than the Lagrangian one
COLGEN_MAX_LP_SHARE = 0.75

# The LP with cuts by PDLP (pdlp_lp.py) where the simplex LP does not fit:
# from this many arcs (measured from 54k up; below, the simplex or the
# Lagrangian alone), within this share of the time limit, and only when its
# time holds PDLP_MIN_ROUNDS rounds of the expected length (PDLP's first
# round took 1.0 s at 275k arcs, 4e-6 s per arc; docs/solver.md)
PDLP = True
PDLP_MIN_ARCS = 50_000
PDLP_SHARE = 0.7
PDLP_SECONDS_PER_ARC = 4e-6
PDLP_MIN_ROUNDS = 2

# Share of the time limit kept free after the sub-MIP on the LP's fractional
# items (for the steps after it and for assembling the answer).
FIX_MIP_RESERVE = 0.05

# Problems this small get the local move search on top of repair + refill
# (0.13 s at 275k arcs, 0.5 s at 1.4M and 1.0 s at 2.75M; docs/solver.md).
LOCAL_SEARCH_MAX_ARCS = 3_000_000


class _Clock:
    def __init__(self, limit: float) -> None:
        self.t0 = time.perf_counter()
        self.limit = limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float:
        return max(0.0, self.limit - self.elapsed())


def solve(problem: AssignmentProblem, options: SolveOptions | None = None) -> Solution:
    """Solve `problem`; see the module docstring for the strategies."""
    opts = options or SolveOptions()
    clock = _Clock(opts.time_limit_s)
    if opts.strategy not in STRATEGIES:
        return _empty(
            Status.MODEL_INVALID,
            clock,
            opts.strategy,
            {"issues": [f"unknown strategy {opts.strategy!r}; choose from {STRATEGIES}"]},
        )
    issues = validate_arrays(problem)
    if issues:
        return _empty(
            Status.MODEL_INVALID, clock, opts.strategy, {"issues": [str(i) for i in issues]}
        )
    try:
        core = build_core(problem)
    except CoreInfeasible as exc:
        return _empty(Status.INFEASIBLE, clock, opts.strategy, {"reason": exc.reason})
    stats: dict[str, Any] = {
        "core_items": core.n_items,
        "core_arcs": core.n_arcs,
        "build_core_s": round(clock.elapsed(), 6),
    }
    strategy = opts.strategy
    if strategy == "auto":
        if problem.is_transportation():
            strategy = "flow"
        elif core.n_arcs <= CPSAT_SMALL_ARCS:
            strategy = "cpsat"
        elif bool(core.must.all()) and core.n_arcs <= CPSAT_MAX_ARCS:
            from matcher.solvers.gap_search import is_gap_like

            strategy = "gap" if is_gap_like(core) else "cpsat"
        else:
            strategy = "mip"
    try:
        return _run(core, strategy, opts, clock, stats)
    except CoreInfeasible as exc:
        stats["reason"] = exc.reason
        return _empty(Status.INFEASIBLE, clock, strategy, stats)


def _run(
    core: Core, strategy: str, opts: SolveOptions, clock: _Clock, stats: dict[str, Any]
) -> Solution:
    if strategy == "cpsat-plain":
        ch, b, src, proven = _cpsat(core, None, None, "none", opts, clock, stats)
        stats["bound_source"] = src
        return _finish(core, ch, b, proven, opts, clock, stats, strategy)

    from matcher.solvers.flow import solve_flow
    from matcher.solvers.heuristics import improve_moves, repair_and_fill

    t = time.perf_counter()
    fr = solve_flow(core)
    stats["flow_s"] = round(time.perf_counter() - t, 6)
    if fr is not None and fr.exact:
        stats["bound_source"] = "min-cost flow (exact)"
        return _finish(core, fr.chosen, float(fr.bound), True, opts, clock, stats, strategy)

    bound = float(fr.bound) if fr is not None else None
    bound_source = "min-cost flow relaxation (budget rows dropped)" if fr is not None else "none"

    # incumbents: flow + repair, and the warm start + repair; keep the best
    t = time.perf_counter()
    candidates: list[tuple[str, IntArray]] = []
    if fr is not None:
        candidates.append(("flow+repair", repair_and_fill(core, fr.chosen)))
    if opts.warm_start is not None and opts.warm_start.assignments:
        ws = warm_start_choice(core, dict(opts.warm_start.assignments))
        candidates.append(("warm start+repair", repair_and_fill(core, ws)))
    if not candidates:
        candidates.append(("greedy", repair_and_fill(core, np.full(core.n_items, -1))))
    stats["heuristic_s"] = round(time.perf_counter() - t, 6)

    # the LP gives a far better bound than the flow relaxation and budget
    # prices that steer the flow to an answer that (nearly) fits the budgets
    lp = None
    lp_tried = False
    strategy_done = strategy == "flow"
    # a warm-started small MIP (a what-if re-solve) skips the separate LP:
    # HiGHS solves the same LP at its root, and the warm start is a better
    # hint than LP rounding there (docs/solver.md)
    warm_small_mip = (
        strategy == "mip" and opts.warm_start is not None and core.n_arcs <= INPROCESS_MAX_ARCS
    )
    # budget rows: the LP by column and cut generation (colgen.py), whose
    # knapsack cuts close most of the plain LP's gap; GAP-like problems keep
    # the plain LP (no knapsack rows there, and their tuning was measured so)
    use_colgen = (
        strategy == "mip"
        and not warm_small_mip
        and COLGEN
        and core.n_arcs >= LP_MIN_ARCS
        and _lp_expected_s(core) <= COLGEN_MAX_LP_SHARE * clock.limit
    )
    # too large for the simplex in the time given: the LP with cuts by PDLP
    # gives the Lagrangian its prices (pdlp_lp.py). Its prices are worth
    # nothing without the flows after it: one priced by its first prices (the
    # answer), one by its last (the bound), and a step's worth of slack
    step_s = stats.get("flow_s", 0.0) + stats.get("heuristic_s", 0.0)
    pdlp_until = min(
        clock.t0 + PDLP_SHARE * clock.limit,
        clock.t0 + clock.limit - _answer_margin(opts) - 3 * step_s,
    )
    use_pdlp = (
        strategy == "mip"
        and not warm_small_mip
        and not use_colgen
        and PDLP
        and core.n_arcs >= PDLP_MIN_ARCS
        and not _lp_worth_it(core, opts, clock)
        and pdlp_until - time.perf_counter() > PDLP_MIN_ROUNDS * _pdlp_round_s(core)
    )
    if use_colgen:
        lp_tried = True
        t = time.perf_counter()
        keep = max(
            (ch for _, ch in candidates if core.is_feasible(ch)), key=core.value, default=None
        )
        lp_bound, lp_cands, lp_stats, lp, core = _colgen_heuristics(core, clock, keep)
        stats.update(lp_stats)
        stats["lp_heuristics_s"] = round(time.perf_counter() - t, 6)
        candidates.extend(lp_cands)
        if lp_bound is not None and (bound is None or lp_bound < bound):
            bound = lp_bound
            bound_source = "LP relaxation with knapsack cuts (column generation, HiGHS)"
        if lp is None:
            stats["lp_failed"] = True
        elif clock.left() < 4 * _lp_expected_s(core):
            # HiGHS would spend the time left on the LP at its root
            strategy_done = True
    elif use_pdlp:
        lp_tried = True
        t = time.perf_counter()
        keep = max(
            (ch for _, ch in candidates if core.is_feasible(ch)), key=core.value, default=None
        )
        lp, core, pd_stats, plain_prices = _pdlp_prices(core, opts, pdlp_until, keep)
        stats.update(pd_stats)
        if plain_prices is not None:
            # the flow carries the places itself: price only the rows it drops
            from matcher.solvers.lagrange import priced_rows

            flow_prices = np.where(priced_rows(core), plain_prices, 0.0)
            candidates.extend(_priced_flow(core, flow_prices, "LP-priced flow+repair"))
        stats["lp_heuristics_s"] = round(time.perf_counter() - t, 6)
        # the Lagrangian below starts from these prices: its first flow is
        # both the bound of the prices and the LP-priced answer
        strategy_done = True
        if lp is None:
            stats["lp_failed"] = True
    elif strategy != "flow" and not warm_small_mip and _lp_worth_it(core, opts, clock):
        lp_tried = True
        t = time.perf_counter()
        lp_bound, lp_cands, lp_stats, lp = _lp_heuristics(core, opts, clock)
        stats.update(lp_stats)
        stats["lp_heuristics_s"] = round(time.perf_counter() - t, 6)
        candidates.extend(lp_cands)
        if lp_bound is not None and (bound is None or lp_bound < bound):
            bound, bound_source = lp_bound, "LP relaxation (HiGHS)"
        if lp is None:
            stats["lp_failed"] = True
        elif clock.left() < 4 * _lp_expected_s(core):
            # HiGHS would spend the time left on re-solving the LP at its root
            strategy_done = strategy == "mip"
    if (
        strategy == "mip"
        and not warm_small_mip
        and (lp is None or strategy_done)
        and core.n_arcs >= LP_MIN_ARCS
        and clock.left() > MIN_SEARCH_S
    ):
        # too large for the LP (or for HiGHS after the LP) in the time given:
        # Lagrangian prices on the budget rows around min-cost flow give both
        # answers and a bound; started from the LP prices when there are any
        from matcher.solvers.lagrange import lagrangian

        t = time.perf_counter()
        start = max(
            (ch for _, ch in candidates if core.is_feasible(ch)),
            key=core.value,
            default=None,
        )
        margin = _answer_margin(opts)
        lr = lagrangian(
            core,
            deadline=clock.t0 + clock.limit - margin,
            start=start,
            prices=lp.duals if lp is not None else None,
            first=fr.chosen if fr is not None and lp is None else None,
            est_step_s=stats.get("flow_s", 0.0) + stats.get("heuristic_s", 0.0),
        )
        stats["lagrange_s"] = round(time.perf_counter() - t, 6)
        stats["lagrange_iterations"] = lr.iterations
        if lr.chosen is not None:
            candidates.append(("Lagrangian-priced flow+repair", lr.chosen))
        if lr.bound is not None and (bound is None or lr.bound < bound):
            bound = lr.bound
            bound_source = "Lagrangian relaxation of the budget rows (flow)"
            if core.n_cuts:
                bound_source = "Lagrangian relaxation of the budget and cut rows (flow)"
        # after a failed LP (HiGHS error) the search still runs: its own
        # failure falls back to CP-SAT
        strategy_done = strategy_done or not lp_tried

    t = time.perf_counter()
    best_name, best = "", None
    for name, ch in candidates:
        if not core.is_feasible(ch):
            continue
        if best is None or core.value(ch) > core.value(best):
            best_name, best = name, ch
    if best is not None and core.n_arcs <= LOCAL_SEARCH_MAX_ARCS:
        best = improve_moves(core, best)
    stats["local_search_s"] = round(time.perf_counter() - t, 6)
    stats["incumbent_source"] = best_name or "none"
    if best is not None:
        stats["incumbent_objective"] = core.to_sense(core.value(best))

    if strategy == "flow":
        stats["bound_source"] = bound_source
        return _finish(core, best, bound, False, opts, clock, stats, strategy)
    if strategy_done or clock.left() < MIN_SEARCH_S:
        # too little time to start a solver process: the incumbent is the answer
        stats["bound_source"] = bound_source
        return _finish(core, best, bound, False, opts, clock, stats, strategy)
    # reduced-cost fixing: an arc whose LP reduced cost exceeds the gap between
    # the LP bound and the incumbent cannot be in any better answer; dropping
    # it keeps every better answer (and the incumbent) and shrinks the search
    work, back = core, None
    if (
        best is not None
        and lp is not None
        and lp.reduced_costs is not None
        and lp.bound is not None
    ):
        # (the bound that goes with these reduced costs: another, lower
        # bound from elsewhere does not make the fixing valid)
        v = core.value(best)
        keep = (lp.x > 1e-9) | (lp.bound - np.abs(lp.reduced_costs) >= v + 0.5)
        keep[best[best >= 0]] = True
        stats["rc_fixed_arcs"] = int(core.n_arcs - keep.sum())
        if not keep.all():
            work, back = core.restrict(keep)
            best = _to_sub(best, back)
    if strategy in ("cpsat", "gap"):
        from matcher.solvers.gap_search import is_gap_like, tabu_search

        gap_like = is_gap_like(work)
        # "gap": the knapsack Lagrangian, bands and HiGHS as the search;
        # "cpsat" on a GAP-like core: tabu search around CP-SAT
        gap_route = gap_like and strategy == "gap"
        polish_share = GAP_TABU_SHARE if gap_route else TABU_SHARE
        gb = None
        if gap_route and best is not None and not _proven(work, best, bound, opts):
            gb, bound, bound_source = _gap_bound(work, best, bound, bound_source, lp, clock, stats)
        first_s = TABU_FIRST_SHARE * clock.left() if gap_like else 0.0
        if first_s > 0 and best is not None and not _proven(work, best, bound, opts):
            # a better hint: CP-SAT's neighbourhood search starts from it
            t = time.perf_counter()
            b0 = work.value(best)
            best = tabu_search(
                work,
                best,
                deadline=time.perf_counter() + first_s,
                seed=opts.seed,
                target=_target(bound, opts),
            )
            stats["tabu_first_s"] = round(time.perf_counter() - t, 6)
            stats["tabu_first_gain"] = work.value(best) - b0
        if (
            gb is not None
            and best is not None
            and bound is not None
            and not _proven(work, best, bound, opts)
        ):
            work, back, best, bound, bound_source = _gap_bands(
                work,
                back,
                best,
                bound,
                bound_source,
                gb,
                opts,
                clock,
                stats,
                reserve_s=polish_share * clock.left(),
            )
        tabu_s = polish_share * clock.left() if gap_like else 0.0
        if gap_route:
            chosen, bound, bound_source, proven = _mip(
                work,
                best,
                bound,
                bound_source,
                opts,
                clock,
                stats,
                reserve_s=tabu_s,
                presolve=True,
                with_cpsat=GAP_CPSAT_SIDE and work.n_arcs <= GAP_CPSAT_SIDE_MAX_ARCS,
            )
            if stats.get("highs_failed") and clock.left() > tabu_s + MIN_SEARCH_S:
                chosen, bound, bound_source, proven = _cpsat(
                    work, chosen, bound, bound_source, opts, clock, stats, reserve_s=tabu_s
                )
        else:
            chosen, bound, bound_source, proven = _cpsat(
                work, best, bound, bound_source, opts, clock, stats, reserve_s=tabu_s
            )
        if tabu_s > 0 and chosen is not None and not proven and clock.left() > 0.1:
            t = time.perf_counter()
            tabu_before = work.value(chosen)
            chosen = tabu_search(
                work,
                chosen,
                deadline=clock.t0 + clock.limit - 0.05,
                seed=opts.seed,
                target=_target(bound, opts),
            )
            stats["tabu_s"] = round(time.perf_counter() - t, 6)
            stats["tabu_gain"] = work.value(chosen) - tabu_before
            if stats["tabu_gain"] > 0:
                stats["incumbent_source"] = f"{stats.get('incumbent_source', 'search')}+tabu"
                proven = _proven(work, chosen, bound, opts)
    else:
        polish = core.n_arcs <= CPSAT_MAX_ARCS
        share = POLISH_SHARE if polish and clock.left() > POLISH_MIN_S else 0.0
        chosen, bound, bound_source, proven = _mip(
            work, best, bound, bound_source, opts, clock, stats, reserve_s=share * clock.left()
        )
        if stats.get("highs_failed") and not polish and clock.left() > MIN_SEARCH_S:
            polish = core.n_arcs <= 4 * CPSAT_MAX_ARCS  # a fallback beats no search
        if polish and not proven and clock.left() > MIN_SEARCH_S:
            # CP-SAT's neighbourhood search polishes the MIP answer in the time
            # left (and finds a first answer fast when HiGHS found none)
            before = work.value(chosen) if chosen is not None else None
            chosen, bound, bound_source, proven = _cpsat(
                work, chosen, bound, bound_source, opts, clock, stats
            )
            if before is not None and chosen is not None:
                stats["polish_gain"] = work.value(chosen) - before
    if back is not None and chosen is not None:
        chosen = np.where(chosen >= 0, back[np.maximum(chosen, 0)], -1)
    stats["bound_source"] = bound_source
    return _finish(core, chosen, bound, proven, opts, clock, stats, strategy)


def _gap_bound(
    work: Core,
    best: IntArray,
    bound: float | None,
    bound_source: str,
    lp: Any,
    clock: _Clock,
    stats: dict[str, Any],
) -> tuple[GapBound | None, float | None, str]:
    """The knapsack Lagrangian of a GAP-like core (gap_bound.py): a bound at
    least as strong as the LP's, and for each value the arcs that can be in
    an answer worth that much."""
    from matcher.solvers.colgen import dual_bound
    from matcher.solvers.gap_bound import knapsack_bound

    t0 = time.perf_counter()
    start = None
    if lp is not None and lp.duals is not None:
        start = dual_bound(work, lp.duals)[1]  # the LP's item prices
    gb = knapsack_bound(
        work,
        incumbent=float(work.value(best)),
        deadline=t0 + GAP_BOUND_SHARE * clock.left(),
        start_prices=start,
    )
    stats["gap_bound_s"] = round(time.perf_counter() - t0, 6)
    if gb is None or gb.forced is None:
        return None, bound, bound_source
    stats["gap_bound_iterations"] = gb.iterations
    if bound is None or gb.bound < bound:
        bound, bound_source = gb.bound, "knapsack Lagrangian (item rows relaxed)"
    return gb, bound, bound_source


def _gap_bands(
    work: Core,
    back: IntArray | None,
    best: IntArray,
    bound: float,
    bound_source: str,
    gb: GapBound,
    opts: SolveOptions,
    clock: _Clock,
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
    from matcher.solvers.cpsat import solve_cpsat
    from matcher.solvers.gap_bound import arcs_for

    t1 = time.perf_counter()
    bands = 0
    source = "knapsack Lagrangian bands + cpsat"
    target = _integral(bound)
    stop = t1 + GAP_BANDS_TOTAL_SHARE * (clock.left() - reserve_s)
    # bands pay when the prices have converged (small bands) and the
    # optimum lies a few units above the bound (GAP_MAX_BANDS)
    while (
        gb.converged
        and bands < GAP_MAX_BANDS
        and target > work.value(best)
        and clock.left() > reserve_s + MIN_SEARCH_S
        and time.perf_counter() < stop
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
        r = solve_cpsat(
            sub,
            time_limit_s=max(
                0.05,
                min(GAP_BAND_TIME_SHARE * (clock.left() - reserve_s), stop - time.perf_counter()),
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
        if r.status == "OPTIMAL" and found is not None:
            # every answer worth `target` or more is in this band
            bound, bound_source = float(work.value(found)), source
            break
        if r.status != "INFEASIBLE":
            break  # not decided in its time: the search below takes over
        bound, bound_source, target = target - 1, source, target - 1
    stats["gap_bands"] = bands
    stats["gap_bands_s"] = round(time.perf_counter() - t1, 6)

    keep = arcs_for(gb, work.value(best) + 1)
    keep[best[best >= 0]] = True
    stats["gap_fixed_arcs"] = int(work.n_arcs - keep.sum())
    if not keep.all():
        sub, sub_back = work.restrict(keep)
        best = _to_sub(best, sub_back)
        back = sub_back if back is None else back[sub_back]
        work = sub
    return work, back, best, bound, bound_source


def _to_sub(chosen: IntArray, back: IntArray) -> IntArray:
    """Map a choice of core arcs onto the arcs of a restricted core."""
    pos = np.full(int(back.max()) + 1 if back.size else 1, -1, dtype=np.int64)
    pos[back] = np.arange(back.size)
    safe = np.minimum(np.maximum(chosen, 0), pos.size - 1)
    return np.where(chosen >= 0, pos[safe], -1)


def _lp_worth_it(core: Core, opts: SolveOptions, clock: _Clock) -> bool:
    """The LP pays when it fits in a fraction of the time left (measured rate)."""
    if core.n_arcs < LP_MIN_ARCS:
        return False
    return clock.left() > 2 * _lp_expected_s(core)


def _lp_expected_s(core: Core) -> float:
    return 0.05 + core.n_arcs * LP_SECONDS_PER_ARC


def _colgen_heuristics(
    core: Core, clock: _Clock, keep: IntArray | None
) -> tuple[float | None, list[tuple[str, IntArray]], dict[str, Any], Any, Core]:
    """The column and cut generation LP (colgen.py) and the answers its
    point and prices give; returns the core with the cuts added."""
    from matcher.solvers.colgen import lp_loop
    from matcher.solvers.lagrange import priced_rows
    from matcher.solvers.mip import MipResult

    # (the flow answer's marginal-value budget prices, lagrange.start_prices,
    # chose worse first columns than no prices: docs/solver.md)
    r = lp_loop(
        core,
        deadline=clock.t0 + COLGEN_SHARE * clock.limit,
        keep=keep,
        in_process_max_arcs=INPROCESS_MAX_ARCS,
    )
    if r is None:
        return None, [], {}, None, core
    stats: dict[str, Any] = dict(r.stats)
    ext = r.core
    # the flow carries the places itself: price only the rows it drops (a
    # row that cannot overflow has no LP row, so its price is 0 either way)
    cands = _lp_candidates(ext, r.x, r.prices, np.where(priced_rows(ext), r.prices, 0.0))
    if r.x is not None and r.columns is not None:
        t = time.perf_counter()
        fixed = _fix_and_mip(ext, r.x, r.columns, clock, cands, stats)
        stats["fix_mip_s"] = round(time.perf_counter() - t, 6)
        if fixed is not None:
            cands.append(("LP ones fixed + HiGHS sub-MIP", fixed))
    lp = MipResult(
        "OPTIMAL", None, r.bound, primal=r.bound, x=r.x, duals=r.prices,
        reduced_costs=r.reduced_costs,
    )  # fmt: skip
    return r.bound, cands, stats, lp, ext


def _pdlp_round_s(core: Core) -> float:
    return 0.2 + core.n_arcs * PDLP_SECONDS_PER_ARC


def _answer_margin(opts: SolveOptions) -> float:
    """Time kept for assembling the answer after the Lagrangian (about a
    second for a national instance)."""
    return 0.3 + 0.06 * opts.time_limit_s


def _pdlp_prices(
    core: Core, opts: SolveOptions, until: float, keep: IntArray | None
) -> tuple[Any, Core, dict[str, Any], Any]:
    """The LP with knapsack cuts by PDLP (pdlp_lp.py): its prices and point
    as an LP result without a bound of its own (the flow Lagrangian gives the
    bound of the prices), the core with the cuts added, and the prices of the
    LP without cuts."""
    from matcher.solvers.mip import MipResult
    from matcher.solvers.pdlp_lp import pdlp_loop

    r = pdlp_loop(core, deadline=until, keep=keep, threads=opts.workers)
    if r is None:
        return None, core, {}, None
    lp = MipResult("OPTIMAL", None, None, x=r.x, duals=r.prices)
    return lp, r.core, dict(r.stats), r.first_prices


def _fix_and_mip(
    core: Core,
    x: Any,
    columns: Any,
    clock: _Clock,
    cands: list[tuple[str, IntArray]],
    stats: dict[str, Any],
) -> IntArray | None:
    """HiGHS on the items the LP leaves fractional: the arcs at 1 stay fixed,
    the other items keep the arcs of the last restricted LP.  That MIP is a few
    thousand arcs where the whole one is tens of thousands, and its answer is
    feasible for the whole problem (docs/solver.md)."""
    from matcher.solvers.heuristics import repair_and_fill
    from matcher.solvers.mip import solve_mip

    left = clock.left() - max(MIN_SEARCH_S, FIX_MIP_RESERVE * clock.limit)
    if core.n_arcs <= INPROCESS_MAX_ARCS:
        # HiGHS can prove a problem this small on the whole: keep half the
        # time for that search, which this heuristic step must not starve
        left /= 2
    if left < MIN_SEARCH_S:
        return None
    one = np.flatnonzero(x > 1 - 1e-6)
    fixed_item = np.zeros(core.n_items, dtype=bool)
    fixed_item[core.arc_item[one]] = True
    cols = columns & ~fixed_item[core.arc_item]
    cols[one] = True
    sub, back = core.restrict(cols)
    stats["fix_mip_arcs"] = sub.n_arcs
    # the best answer so far, moved onto the fixed arcs and repaired inside
    # the sub-problem: HiGHS starts from it instead of its own weak first answers
    best = max((ch for _, ch in cands if core.is_feasible(ch)), key=core.value, default=None)
    hint = None
    if best is not None:
        h = best.copy()
        h[core.arc_item[one]] = one
        h[(h >= 0) & ~cols[np.maximum(h, 0)]] = -1
        h = repair_and_fill(sub, _to_sub(h, back))
        hint = h if sub.is_feasible(h) else None
        if hint is not None:
            stats["fix_mip_hint"] = sub.value(hint)
    r = solve_mip(
        sub,
        time_limit_s=left,
        relative_gap=1e-6,
        grace_s=0.1,
        hint=hint,
        in_process=sub.n_arcs <= INPROCESS_MAX_ARCS,
    )
    stats["fix_mip_reason"] = r.stats.get("highs_reason")
    if r.chosen is None or not sub.is_feasible(r.chosen):
        return None
    return np.where(r.chosen >= 0, back[np.maximum(r.chosen, 0)], -1)


def _lp_candidates(
    core: Core, x: Any, round_prices: Any, flow_prices: Any
) -> list[tuple[str, IntArray]]:
    """Answers from an LP point and its prices: LP rounding, and the flow
    with weights priced by `flow_prices`, repaired."""
    from matcher.solvers.heuristics import from_lp

    cands: list[tuple[str, IntArray]] = []
    if x is not None:
        cands.append(("LP rounding", from_lp(core, x, round_prices)))
    cands.extend(_priced_flow(core, flow_prices, "LP-priced flow+repair"))
    return cands


def _priced_flow(core: Core, prices: Any, name: str) -> list[tuple[str, IntArray]]:
    """The flow with weights priced by `prices`, repaired and refilled (no
    answer when the flow has none)."""
    from matcher.solvers.flow import solve_flow
    from matcher.solvers.heuristics import priced_weight, repair_and_fill

    pw = priced_weight(core, np.asarray(prices, dtype=np.float64))
    top = float(np.abs(pw).max()) if pw.size else 1.0
    fr = solve_flow(core, np.round(pw * max(1.0, 1e9 / max(top, 1.0))).astype(np.int64))
    if fr is None:
        return []
    return [(name, repair_and_fill(core, fr.chosen, pw))]


def _lp_heuristics(
    core: Core, opts: SolveOptions, clock: _Clock
) -> tuple[float | None, list[tuple[str, IntArray]], dict[str, Any], Any]:
    from matcher.solvers.mip import solve_mip

    r = solve_mip(
        core,
        time_limit_s=clock.left() * 0.6,
        relative_gap=opts.relative_gap,
        relax=True,
        grace_s=0.1,
        in_process=core.n_arcs <= INPROCESS_MAX_ARCS,
    )
    stats = {"lp_" + k.removeprefix("highs_"): v for k, v in r.stats.items()}
    if r.x is None or r.duals is None:
        return None, [], stats, None
    cands = _lp_candidates(core, r.x, r.duals, r.duals)
    return r.bound, cands, stats, r


def _cpsat(
    core: Core,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    opts: SolveOptions,
    clock: _Clock,
    stats: dict[str, Any],
    reserve_s: float = 0.0,
) -> tuple[IntArray | None, float | None, str, bool]:
    from matcher.solvers.cpsat import solve_cpsat

    if hint is not None and _proven(core, hint, bound, opts):
        return hint, bound, bound_source, True
    r = solve_cpsat(
        core,
        time_limit_s=max(0.05, clock.left() - reserve_s),
        relative_gap=opts.relative_gap,
        # one worker on tiny models: as fast, and ties then break the same way
        workers=1 if core.n_arcs <= CPSAT_SMALL_ARCS else opts.workers,
        seed=opts.seed,
        hint=hint,
        params=CPSAT_PARAMS,
    )
    stats.update(r.stats)
    return _take_cpsat(core, r, hint, bound, bound_source, stats)


def _take_cpsat(
    core: Core,
    r: Any,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    stats: dict[str, Any],
) -> tuple[IntArray | None, float | None, str, bool]:
    """CP-SAT's result `r` merged with the incumbent `hint` and the bound so
    far: the better answer, the better bound, and whether it is proven."""
    if r.status == "INFEASIBLE":
        if hint is not None:
            # only possible on a restricted core: nothing beats the incumbent
            return hint, float(core.value(hint)), "reduced-cost fixing + cpsat", True
        raise CoreInfeasible("CP-SAT proved that the must-assign items cannot all be placed")
    best = hint
    if (
        r.chosen is not None
        and core.is_feasible(r.chosen)
        and (best is None or core.value(r.chosen) >= core.value(best))
    ):
        best = r.chosen
        stats["incumbent_source"] = "cpsat"
    if r.bound is not None and (bound is None or r.bound < bound):
        bound, bound_source = r.bound, "cpsat"
    return best, bound, bound_source, r.status == "OPTIMAL"


def _mip(
    core: Core,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    opts: SolveOptions,
    clock: _Clock,
    stats: dict[str, Any],
    reserve_s: float = 0.0,
    presolve: bool | None = None,
    with_cpsat: bool = False,
) -> tuple[IntArray | None, float | None, str, bool]:
    from matcher.solvers.heuristics import repair_and_fill
    from matcher.solvers.mip import solve_mip

    if hint is not None and _proven(core, hint, bound, opts):
        return hint, bound, bound_source, True
    # keep a little time to assemble the answer after the child is stopped
    small = core.n_arcs <= INPROCESS_MAX_ARCS
    side: list[Any] = []
    while_waiting = None
    if with_cpsat and opts.workers >= 2:
        # HiGHS' search uses one thread: CP-SAT searches the same core on the
        # other (docs/solver.md, "Sixth round")
        from matcher.solvers.cpsat import solve_cpsat

        def while_waiting(until: float) -> bool:
            cs = solve_cpsat(
                core,
                time_limit_s=max(0.01, until - time.perf_counter()),
                relative_gap=opts.relative_gap,
                workers=opts.workers - 1,
                seed=opts.seed,
                hint=hint,
                params=CPSAT_PARAMS,
            )
            side.append(cs)
            return cs.status in ("OPTIMAL", "INFEASIBLE")

    r = solve_mip(
        core,
        time_limit_s=max(0.05, clock.left() - (0.05 if small else 0.3) - reserve_s),
        relative_gap=opts.relative_gap,
        grace_s=0.2,
        hint=hint,
        in_process=small and while_waiting is None,
        # off in process by default: what-if re-solves were measured faster
        # without; the GAP search asks for it (docs/solver.md)
        presolve=(not small) if presolve is None else presolve,
        while_waiting=while_waiting,
    )
    stats.update(r.stats)
    if side:
        cs = side[0]
        stats["cpsat_side_status"] = cs.status
        if cs.chosen is not None and core.is_feasible(cs.chosen):
            stats["cpsat_side_objective"] = core.to_sense(core.value(cs.chosen))
        hint, bound, bound_source, proven = _take_cpsat(core, cs, hint, bound, bound_source, stats)
        if proven:
            return hint, bound, bound_source, True
    if r.status == "ERROR":
        # HiGHS failed (e.g. "kError [INTERNAL]" on objective coefficients near
        # 1e13): its bound proves nothing; CP-SAT takes over (see _run)
        stats["highs_failed"] = True
    if r.status == "INFEASIBLE":
        if hint is not None:
            return hint, float(core.value(hint)), "reduced-cost fixing + highs-mip", True
        raise CoreInfeasible("HiGHS proved that the must-assign items cannot all be placed")
    best = hint
    if r.chosen is not None:
        cand = r.chosen if core.is_feasible(r.chosen) else repair_and_fill(core, r.chosen)
        if core.is_feasible(cand) and (best is None or core.value(cand) >= core.value(best)):
            best = cand
            stats["incumbent_source"] = "highs-mip"
    if r.bound is not None and (bound is None or r.bound < bound):
        bound, bound_source = r.bound, "highs-mip dual bound"
    return best, bound, bound_source, r.status == "OPTIMAL"


def _integral(bound: float) -> float:
    """Answers have integer values (integer weights and constant), so none
    beats the float bound rounded down; a float bound a hair below its exact
    value must not lose a unit to the rounding, hence the allowance."""
    return float(math.floor(bound + 1e-6 * max(1.0, abs(bound))))


def _target(bound: float | None, opts: SolveOptions) -> float | None:
    """A max-form value at which an answer is within `relative_gap` of `bound`
    (a search may stop there: nothing it finds later can be proven better)."""
    if bound is None or not math.isfinite(bound):
        return None
    b = _integral(bound)
    return b - opts.relative_gap * max(1.0, (1.0 - opts.relative_gap) * abs(b))


def _proven(core: Core, chosen: IntArray, bound: float | None, opts: SolveOptions) -> bool:
    if bound is None or not math.isfinite(bound) or not core.is_feasible(chosen):
        return False
    v = core.value(chosen)
    return (_integral(bound) - v) / max(1.0, abs(v)) <= opts.relative_gap


def _finish(
    core: Core,
    chosen: IntArray | None,
    bound_max: float | None,
    proven: bool,
    opts: SolveOptions,
    clock: _Clock,
    stats: dict[str, Any],
    strategy: str,
) -> Solution:
    p = core.problem
    if chosen is None or not core.is_feasible(chosen):
        sol = _empty(Status.NO_SOLUTION_IN_TIME, clock, strategy, stats)
        if bound_max is not None:
            b = core.to_sense(bound_max)
            return Solution(
                status=sol.status,
                objective=None,
                best_bound=b,
                gap=None,
                assignments={},
                unassigned=(),
                wall_time_s=sol.wall_time_s,
                strategy=strategy,
                stats=stats,
            )
        return sol
    arcs = chosen_to_original_arcs(core, chosen)
    obj = objective_of(p, arcs)
    bound: float | None = None
    if bound_max is not None and math.isfinite(bound_max):
        # a float bound from LP-based solvers may sit a hair on the wrong
        # side; answers are integers, so the bound rounds to one (`_integral`)
        b = core.to_sense(_integral(bound_max))
        bound = max(b, obj) if p.sense is Sense.MAXIMIZE else min(b, obj)
    gap = relative_gap(obj, bound)
    optimal = gap is not None and (gap <= opts.relative_gap + 1e-12 or (proven and gap <= 0.01))
    pairs = sorted(
        (p.item_ids[int(p.arc_item[a])], p.option_ids[int(p.arc_option[a])]) for a in arcs
    )
    assigned = np.zeros(p.n_items, dtype=bool)
    if arcs:
        assigned[p.arc_item[np.asarray(arcs, dtype=np.int64)]] = True
    unassigned = tuple(sorted(p.item_ids[i] for i in np.flatnonzero(~assigned)))
    return Solution(
        status=Status.OPTIMAL if optimal else Status.FEASIBLE,
        objective=obj,
        best_bound=bound,
        gap=gap,
        assignments=dict(pairs),
        unassigned=unassigned,
        wall_time_s=clock.elapsed(),
        strategy=strategy,
        stats=stats,
    )


def _empty(status: Status, clock: _Clock, strategy: str, stats: dict[str, Any]) -> Solution:
    return Solution(
        status=status,
        objective=None,
        best_bound=None,
        gap=None,
        assignments={},
        unassigned=(),
        wall_time_s=clock.elapsed(),
        strategy=strategy,
        stats=stats,
    )
