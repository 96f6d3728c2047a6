"""`solve(problem, options) -> Solution`: validate, build the core, pick a
strategy, run it, finish the answer.

The strategies live in `matcher.solvers.strategies` (one module each behind
the `Strategy` protocol, by name in `REGISTRY`); ``auto`` (the default)
picks one by problem shape (`strategies.auto`).  One `TimeBudget` starts
here and every step takes its time from it.  Every answer is recomputed
from the assignment (`objective_of`), the bound is the best proven one and
`stats["bound_source"]` says where it came from (docs/solver.md).
"""

from __future__ import annotations

from typing import Any

from matcher.problem import AssignmentProblem, validate_arrays
from matcher.solution import Solution, SolveOptions, Status
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import CoreInfeasible, build_core
from matcher.solvers.strategies import AUTO, REGISTRY, STRATEGIES, choose
from matcher.solvers.strategies.finish import empty, finish

__all__ = ["STRATEGIES", "solve"]


def solve(problem: AssignmentProblem, options: SolveOptions | None = None) -> Solution:
    """Solve `problem` with the strategy `options.strategy` names."""
    opts = options or SolveOptions()
    budget = TimeBudget(opts.time_limit_s)
    if opts.strategy not in STRATEGIES:
        return empty(
            Status.MODEL_INVALID,
            budget,
            opts.strategy,
            {"issues": [f"unknown strategy {opts.strategy!r}; choose from {STRATEGIES}"]},
        )
    issues = validate_arrays(problem)
    if issues:
        return empty(
            Status.MODEL_INVALID, budget, opts.strategy, {"issues": [str(i) for i in issues]}
        )
    try:
        core = build_core(problem)
    except CoreInfeasible as exc:
        return empty(Status.INFEASIBLE, budget, opts.strategy, {"reason": exc.reason})
    stats: dict[str, Any] = {
        "core_items": core.n_items,
        "core_arcs": core.n_arcs,
        "build_core_s": round(budget.elapsed(), 6),
    }
    name = choose(problem, core) if opts.strategy == AUTO else opts.strategy
    try:
        out = REGISTRY[name].run(core, opts, budget, stats)
    except CoreInfeasible as exc:
        stats["reason"] = exc.reason
        return empty(Status.INFEASIBLE, budget, name, stats)
    stats["bound_source"] = out.bound_source
    return finish(out.core, out.chosen, out.bound, out.proven, opts, budget, stats, name)
