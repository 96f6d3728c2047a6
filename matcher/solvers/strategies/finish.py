"""From a strategy's `Outcome` to the `Solution` the caller gets.

The objective is recomputed from the assignment on the original problem;
a float bound is rounded to the integer no answer can beat and never lies on
the wrong side of the answer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from matcher.problem import Sense
from matcher.solution import Solution, SolveOptions, Status, objective_of, relative_gap
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray, chosen_to_original_arcs


def integral(bound: float) -> float:
    """Answers have integer values (integer weights and constant), so none
    beats the float bound rounded down; a float bound a hair below its exact
    value must not lose a unit to the rounding, hence the allowance."""
    return float(math.floor(bound + 1e-6 * max(1.0, abs(bound))))


def finish(
    core: Core,
    chosen: IntArray | None,
    bound_max: float | None,
    proven: bool,
    opts: SolveOptions,
    budget: TimeBudget,
    stats: dict[str, Any],
    strategy: str,
) -> Solution:
    p = core.problem
    if chosen is None or not core.is_feasible(chosen):
        sol = empty(Status.NO_SOLUTION_IN_TIME, budget, strategy, stats)
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
        # side; answers are integers, so the bound rounds to one (`integral`)
        b = core.to_sense(integral(bound_max))
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
        wall_time_s=budget.elapsed(),
        strategy=strategy,
        stats=stats,
    )


def empty(status: Status, budget: TimeBudget, strategy: str, stats: dict[str, Any]) -> Solution:
    """A solution without an answer (invalid, infeasible or out of time)."""
    return Solution(
        status=status,
        objective=None,
        best_bound=None,
        gap=None,
        assignments={},
        unassigned=(),
        wall_time_s=budget.elapsed(),
        strategy=strategy,
        stats=stats,
    )
