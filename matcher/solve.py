"""`solve(problem, options) -> Solution`: pick a strategy by problem shape.

Strategies (see docs/solver.md for the measurements behind the choice):

- ``flow``: min-cost flow.  Exact (OPTIMAL) on a transportation problem
  (every arc uses at most one resource, by 1).  On other problems: the flow
  relaxation (budget rows dropped) repaired to feasibility, with the
  relaxation optimum as bound.
- ``cpsat``: a flow + repair (or warm-start) incumbent as hint, then CP-SAT.
- ``mip``: the same incumbent, then HiGHS MIP (MathOpt) under a hard deadline;
  the better of the two answers is kept.
- ``cpsat-plain``: CP-SAT without hint or incumbent (a reference only).
- ``auto`` (default): ``flow`` for transportation problems, ``cpsat`` up to
  `CPSAT_MAX_ARCS` free arcs, ``mip`` above.

Every answer is recomputed from the assignment (`objective_of`), the bound is
the best proven one and `stats["bound_source"]` says where it came from.
"""

from __future__ import annotations

import math
import time
from typing import Any

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

STRATEGIES = ("auto", "flow", "cpsat", "mip", "cpsat-plain")

# Above this many free arcs CP-SAT's presolve and memory grow faster than its
# answers improve, and the MIP route wins (docs/solver.md).
CPSAT_MAX_ARCS = 60_000

# Problems this small get the local move search on top of repair + refill.
LOCAL_SEARCH_MAX_ARCS = 200_000


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
        elif core.n_arcs <= CPSAT_MAX_ARCS:
            strategy = "cpsat"
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
        return _cpsat(core, None, None, "none", opts, clock, stats, strategy)

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

    # incumbent: flow + repair, and the warm start + repair; keep the better
    t = time.perf_counter()
    candidates: list[tuple[str, IntArray]] = []
    if fr is not None:
        candidates.append(("flow+repair", repair_and_fill(core, fr.chosen)))
    if opts.warm_start is not None and opts.warm_start.assignments:
        ws = warm_start_choice(core, dict(opts.warm_start.assignments))
        candidates.append(("warm start+repair", repair_and_fill(core, ws)))
    if not candidates:
        candidates.append(("greedy", repair_and_fill(core, np.full(core.n_items, -1))))
    best_name, best = "", None
    for name, ch in candidates:
        if not core.is_feasible(ch):
            continue
        if best is None or core.value(ch) > core.value(best):
            best_name, best = name, ch
    if best is not None and core.n_arcs <= LOCAL_SEARCH_MAX_ARCS:
        best = improve_moves(core, best)
    stats["heuristic_s"] = round(time.perf_counter() - t, 6)
    stats["incumbent_source"] = best_name or "none"
    if best is not None:
        stats["incumbent_objective"] = core.to_sense(core.value(best))

    if strategy == "flow":
        stats["bound_source"] = bound_source
        return _finish(core, best, bound, False, opts, clock, stats, strategy)
    if strategy == "cpsat":
        return _cpsat(core, best, bound, bound_source, opts, clock, stats, strategy)
    return _mip(core, best, bound, bound_source, opts, clock, stats, strategy)


def _cpsat(
    core: Core,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    opts: SolveOptions,
    clock: _Clock,
    stats: dict[str, Any],
    strategy: str,
) -> Solution:
    from matcher.solvers.cpsat import solve_cpsat

    if hint is not None and _proven(core, hint, bound, opts):
        stats["bound_source"] = bound_source
        return _finish(core, hint, bound, True, opts, clock, stats, strategy)
    r = solve_cpsat(
        core,
        time_limit_s=clock.left(),
        relative_gap=opts.relative_gap,
        workers=opts.workers,
        seed=opts.seed,
        hint=hint,
    )
    stats.update(r.stats)
    if r.status == "INFEASIBLE":
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
    stats["bound_source"] = bound_source
    return _finish(core, best, bound, r.status == "OPTIMAL", opts, clock, stats, strategy)


def _mip(
    core: Core,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    opts: SolveOptions,
    clock: _Clock,
    stats: dict[str, Any],
    strategy: str,
) -> Solution:
    from matcher.solvers.heuristics import repair_and_fill
    from matcher.solvers.mip import solve_mip

    if hint is not None and _proven(core, hint, bound, opts):
        stats["bound_source"] = bound_source
        return _finish(core, hint, bound, True, opts, clock, stats, strategy)
    # keep a little time to assemble the answer after the child is stopped
    r = solve_mip(
        core,
        time_limit_s=max(0.05, clock.left() - 0.3),
        relative_gap=opts.relative_gap,
        threads=opts.workers,
        grace_s=0.2,
    )
    stats.update(r.stats)
    if r.status == "INFEASIBLE":
        raise CoreInfeasible("HiGHS proved that the must-assign items cannot all be placed")
    best = hint
    if r.chosen is not None:
        cand = r.chosen if core.is_feasible(r.chosen) else repair_and_fill(core, r.chosen)
        if core.is_feasible(cand) and (best is None or core.value(cand) >= core.value(best)):
            best = cand
            stats["incumbent_source"] = "highs-mip"
    if r.bound is not None and (bound is None or r.bound < bound):
        bound, bound_source = r.bound, "highs-mip dual bound"
    stats["bound_source"] = bound_source
    return _finish(core, best, bound, r.status == "OPTIMAL", opts, clock, stats, strategy)


def _proven(core: Core, chosen: IntArray, bound: float | None, opts: SolveOptions) -> bool:
    if bound is None or not core.is_feasible(chosen):
        return False
    v = core.value(chosen)
    return (bound - v) / max(1.0, abs(v)) <= opts.relative_gap


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
        # a float bound from LP-based solvers may sit a hair on the wrong side
        b = core.to_sense(bound_max)
        bound = max(b, obj) if p.sense is Sense.MAXIMIZE else min(b, obj)
        if abs(bound - round(bound)) < 1e-6:
            bound = float(round(bound))
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
