"""The searches after the incumbents: CP-SAT and HiGHS MIP on a core,
started from the incumbent as hint and merged with it and the bound so far.

Each returns ``(answer, bound, bound_source, proven)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matcher.solution import SolveOptions
from matcher.solvers import cpsat as cpsat_solver
from matcher.solvers import heuristics
from matcher.solvers import mip as mip_solver
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, CoreInfeasible, IntArray
from matcher.solvers.mip_model import AtLeast
from matcher.solvers.status import SearchStatus
from matcher.solvers.strategies import steps
from matcher.solvers.tiers import Tiers

# CP-SAT runs with one worker up to this many free arcs (as fast, and ties
# then break the same way); `auto` sends problems this small to CP-SAT.
CPSAT_SMALL_ARCS = 64

# CP-SAT parameters beyond workers, seed, time and gap (docs/solver.md says
# which were measured and why these are kept).
CPSAT_PARAMS: dict[str, Any] = {}

Found = tuple[IntArray | None, float | None, str, bool]


def run_cpsat(
    core: Core,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    opts: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
    reserve_s: float = 0.0,
) -> Found:
    """CP-SAT in the time left but `reserve_s`."""
    if hint is not None and steps.proven(core, hint, bound, opts):
        return hint, bound, bound_source, True
    r = cpsat_solver.solve_cpsat(
        core,
        time_limit_s=max(0.05, budget.left() - reserve_s),
        relative_gap=opts.relative_gap,
        workers=1 if core.n_arcs <= CPSAT_SMALL_ARCS else opts.workers,
        seed=opts.seed,
        hint=hint,
        params=CPSAT_PARAMS,
    )
    stats.update(r.stats)
    return take_cpsat(core, r, hint, bound, bound_source, stats)


def take_cpsat(
    core: Core,
    r: cpsat_solver.CpSatResult,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    stats: dict[str, Any],
) -> Found:
    """CP-SAT's result `r` merged with the incumbent `hint` and the bound so
    far: the better answer, the better bound, and whether it is proven."""
    if r.status is SearchStatus.INFEASIBLE:
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
    return best, bound, bound_source, r.status is SearchStatus.OPTIMAL


def run_mip(
    core: Core,
    hint: IntArray | None,
    bound: float | None,
    bound_source: str,
    opts: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
    reserve_s: float = 0.0,
    presolve: bool | None = None,
    with_cpsat: bool = False,
    node_limit: int | None = None,
    at_least: Sequence[AtLeast] = (),
) -> Found:
    """HiGHS MIP in the time left but `reserve_s`; with `with_cpsat` (and two
    workers) CP-SAT searches the same core on the other core meanwhile.  A
    failed HiGHS run sets ``stats["highs_failed"]`` (the caller falls back).
    `at_least` rows (met by every optimal answer) go to HiGHS, in process."""
    if hint is not None and steps.proven(core, hint, bound, opts):
        return hint, bound, bound_source, True
    small = core.n_arcs <= steps.INPROCESS_MAX_ARCS
    side: list[cpsat_solver.CpSatResult] = []
    while_waiting = None
    if with_cpsat and opts.workers >= 2:
        # HiGHS' search uses one thread: CP-SAT searches the same core on the
        # other (docs/solver.md, "Sixth round")

        def while_waiting(child: TimeBudget) -> bool:
            cs = cpsat_solver.solve_cpsat(
                core,
                time_limit_s=max(0.01, child.left()),
                relative_gap=opts.relative_gap,
                workers=opts.workers - 1,
                seed=opts.seed,
                hint=hint,
                params=CPSAT_PARAMS,
            )
            side.append(cs)
            return cs.status.settled

    r = mip_solver.solve_mip(
        core,
        # keep a little time to assemble the answer after the child is stopped
        time_limit_s=max(0.05, budget.left() - (0.05 if small else 0.3) - reserve_s),
        relative_gap=opts.relative_gap,
        grace_s=0.2,
        hint=hint,
        in_process=small and while_waiting is None,
        # off in process by default: what-if re-solves were measured faster
        # without; the GAP search asks for it (docs/solver.md)
        presolve=(not small) if presolve is None else presolve,
        while_waiting=while_waiting,
        node_limit=node_limit,
        at_least=at_least,
    )
    stats.update(r.stats)
    if side:
        cs = side[0]
        stats["cpsat_side_status"] = cs.status
        if cs.chosen is not None and core.is_feasible(cs.chosen):
            stats["cpsat_side_objective"] = core.to_sense(core.value(cs.chosen))
        hint, bound, bound_source, proven = take_cpsat(core, cs, hint, bound, bound_source, stats)
        if proven:
            return hint, bound, bound_source, True
    if r.status is SearchStatus.ERROR:
        # HiGHS failed (e.g. "kError [INTERNAL]" on objective coefficients near
        # 1e13): its bound proves nothing; CP-SAT takes over (the caller)
        stats["highs_failed"] = True
    if r.status is SearchStatus.INFEASIBLE:
        if hint is not None:
            return hint, float(core.value(hint)), "reduced-cost fixing + highs-mip", True
        raise CoreInfeasible("HiGHS proved that the must-assign items cannot all be placed")
    best = hint
    if r.chosen is not None:
        cand = (
            r.chosen if core.is_feasible(r.chosen) else heuristics.repair_and_fill(core, r.chosen)
        )
        if core.is_feasible(cand) and (best is None or core.value(cand) >= core.value(best)):
            best = cand
            stats["incumbent_source"] = "highs-mip"
    if r.bound is not None and (bound is None or r.bound < bound):
        bound, bound_source = r.bound, "highs-mip dual bound"
    return best, bound, bound_source, r.status is SearchStatus.OPTIMAL


def tier_rows(
    core: Core,
    tiers: Tiers,
    hint: IntArray | None,
    budget: TimeBudget,
    stats: dict[str, Any],
    node_limit: int | None = None,
) -> tuple[list[AtLeast], IntArray | None]:
    """HiGHS on each tier of `tiers` in turn (`matcher.solvers.tiers`), every earlier
    tier held at its optimum: a row per tier proven (within `node_limit` nodes), which
    every optimal answer of the whole objective meets, and the hint for a search with
    those rows (`hint` where it meets them, else the last tier's answer)."""
    rows: list[AtLeast] = []
    current = hint
    nodes: list[int | None] = []
    for k in range(len(tiers.units)):
        tier = tiers.objective(core, k)
        r = mip_solver.solve_mip(
            tier,
            time_limit_s=max(0.05, budget.left() - 0.05),
            relative_gap=0.0,
            hint=current,
            in_process=True,
            presolve=False,
            node_limit=node_limit,
            at_least=rows,
        )
        nodes.append(r.stats.get("highs_nodes"))
        if r.status is not SearchStatus.OPTIMAL or r.chosen is None:
            break
        best = tier.value(r.chosen)
        rows.append((tier.weight, best))
        if current is None or tier.value(current) < best:
            current = r.chosen
    stats["tiers_nodes"] = nodes
    stats["tier_rows"] = len(rows)
    return rows, current
