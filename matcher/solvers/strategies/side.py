"""HiGHS MIP on the whole core beside the route of strategy ``mip``.

On small cores a plain MIP solver can beat the route: on family perceel4 at
1k x 200 and 10 s HiGHS alone reached 99.66 % of the best known answer where
the route reached 99.57 % (issue 18, item 2).  With two workers and a limit
of 10 s or more (`SIDE_MIN_LIMIT_S`: below, HiGHS finds nothing the route
does not, and the route loses the second core) the route
uses one core at a time for most of its steps, so HiGHS searches the whole
core on the other one from the start, in a forked child started after the
first incumbents (the best is its hint), and the better answer and the
better bound are kept at the end.  Its dual bound also keeps the reported
bound at or below the plain LP's once its root LP is solved, whatever the
route's column generation reached.

What-if re-solves (warm start, small core) keep HiGHS in this process and
get no child: a fork costs more than their whole solve.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from matcher.solution import SolveOptions
from matcher.solvers.budget import TimeBudget
from matcher.solvers.mip import MipChild, MipResult
from matcher.solvers.status import SearchStatus
from matcher.solvers.strategies import steps
from matcher.solvers.strategies.base import Outcome

SIDE_MIP = True
# cores of this many free arcs get the child (HiGHS found no answer in 10 s
# at 275k arcs, so larger cores would only lose a core to it)
SIDE_MIN_ARCS = steps.LP_MIN_ARCS
SIDE_MAX_ARCS = 50_000
# ... and limits of this many seconds: at 1k x 200 (perceel4, all4, bundles,
# late, seeds 1-3, load about 2) the child cost the route CPU and answers at
# 2 s (up to -0.37 %) and 5 s (up to -0.08 %) and never gave a better one; at
# 10 s it gave +0.07 % and +0.02 % and cost -0.05 % at worst
SIDE_MIN_LIMIT_S = 10.0

# `child_margin`
CHILD_MARGIN_S = 0.4
CHILD_MARGIN_SHARE = 0.03

SOURCE = "highs-mip dual bound (whole core, beside the route)"


def end_margin(budget: TimeBudget) -> float:
    """Time kept after the child is collected, for assembling the answer."""
    return 0.03 + 0.01 * budget.limit


def child_margin(budget: TimeBudget) -> float:
    """Time kept between the child's own limit and its collection: HiGHS
    overran limits of 1-5 s by 0.2-0.4 s on 12k-22k arcs (fork, model,
    answer), and a child killed at the deadline gives neither answer nor
    bound."""
    return CHILD_MARGIN_S + CHILD_MARGIN_SHARE * budget.limit


def route_budget(budget: TimeBudget, child: MipChild | None) -> TimeBudget:
    """The route's budget: it ends early enough to collect the child."""
    if child is None:
        return budget
    return TimeBudget(budget.limit - 2 * end_margin(budget), budget.start)


def start(
    inc: steps.Incumbents, opts: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
) -> MipChild | None:
    """The child on the whole core, or None where it does not pay (one
    worker, a core outside the size range, a short limit, a warm-started
    small re-solve, too little time left)."""
    core = inc.core
    if not SIDE_MIP or opts.workers < 2 or budget.limit < SIDE_MIN_LIMIT_S:
        return None
    if not SIDE_MIN_ARCS <= core.n_arcs <= SIDE_MAX_ARCS:
        return None
    if opts.warm_start is not None and core.n_arcs <= steps.INPROCESS_MAX_ARCS:
        return None
    limit = budget.left() - end_margin(budget) - child_margin(budget)
    if limit < steps.MIN_SEARCH_S:
        return None
    child = MipChild.start(
        core, time_limit_s=limit, relative_gap=opts.relative_gap, hint=inc.best_feasible()
    )
    if child is not None:
        stats["side_mip_arcs"] = core.n_arcs
        stats["side_mip_limit_s"] = round(limit, 6)
    return child


def route_options(opts: SolveOptions, child: MipChild | None) -> SolveOptions:
    """The route's options: one worker fewer for CP-SAT while the child has a core."""
    if child is None:
        return opts
    return replace(opts, workers=max(1, opts.workers - 1))


def proved(child: MipChild | None) -> bool:
    """True when the child has already proved its answer (the route may stop)."""
    if child is None or not child.done():
        return False
    return child.collect(0.0).status is SearchStatus.OPTIMAL


def merge(
    child: MipChild | None, out: Outcome, budget: TimeBudget, stats: dict[str, Any]
) -> Outcome:
    """The route's outcome `out` and the child's: the better answer and the
    better bound.  Waits for the child until just before the deadline (not
    at all when the route proved its answer); the child is killed then."""
    if child is None:
        return out
    t = time.perf_counter()
    wait = 0.0 if out.proven else budget.deadline - end_margin(budget) - t
    r = child.collect(wait, "stopped: the route proved its answer" if out.proven else None)
    stats["side_mip_wait_s"] = round(time.perf_counter() - t, 6)
    stats["side_mip_s"] = round(r.stats["highs_wall_time_s"], 6)
    stats["side_mip_reason"] = r.stats.get("highs_reason")
    if "highs_child_s" in r.stats:
        stats["side_mip_child_s"] = round(r.stats["highs_child_s"], 6)
    return take(out, r, stats)


def take(out: Outcome, r: MipResult, stats: dict[str, Any]) -> Outcome:
    """`out` merged with the child's result `r` (on the same arcs: the
    route's cut rows are valid for every integer answer)."""
    core, chosen, bound, source = out.core, out.chosen, out.bound, out.bound_source
    proven = out.proven
    if r.status is SearchStatus.ERROR:
        return out  # a failed run proves nothing and its answer is not checked further
    if r.bound is not None:
        stats["side_mip_bound"] = r.bound
        if bound is None or r.bound < bound:
            bound, source = r.bound, SOURCE
    if r.chosen is not None and core.is_feasible(r.chosen):
        value = core.value(r.chosen)
        stats["side_mip_objective"] = core.to_sense(value)
        if chosen is None or value > core.value(chosen):
            chosen, proven = r.chosen, r.status is SearchStatus.OPTIMAL
            stats["incumbent_source"] = "highs-mip (whole core, beside the route)"
            stats["side_mip_won"] = True
    return Outcome(core, chosen, bound, proven, source)
