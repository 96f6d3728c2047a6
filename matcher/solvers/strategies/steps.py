"""Steps the strategies share: the incumbents before a search, the plain LP,
the best incumbent, reduced-cost fixing, and the tests of "proven".

Non-flow strategies first build incumbents (flow + repair, warm start +
repair, and when time allows LP rounding and LP-priced flow + repair, then a
local move search), use the LP's reduced costs to drop arcs that cannot be
in a better answer, and hand the best incumbent to CP-SAT or HiGHS as hint.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.solution import SolveOptions
from matcher.solvers import flow as flow_solver
from matcher.solvers import heuristics
from matcher.solvers import mip as mip_solver
from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray, warm_start_choice
from matcher.solvers.strategies.base import Outcome
from matcher.solvers.strategies.finish import integral

# Below this many free arcs the LP step costs more than it saves.
LP_MIN_ARCS = 1_000

# HiGHS LP time per free arc on generated instances: 2e-5 s on an idle
# machine, up to 1e-4 s on a loaded one (docs/solver.md).
LP_SECONDS_PER_ARC = 5e-5

# Below this much time left, starting CP-SAT or a HiGHS process costs more
# than it can find; the incumbent is returned.
MIN_SEARCH_S = 0.25

# HiGHS MIP on the whole core after an LP route runs only with this many
# times the expected LP time left: with less it would spend it on the LP at
# its root (strategy mip; the sub-MIP on the LP's fractional items then
# takes that time itself, lp_routes.fix_and_mip)
SEARCH_AFTER_LP_LPS = 4.0

# HiGHS runs in this process (no fork, no pickling: what-if re-solves of a
# few thousand arcs) up to this many free arcs, where it keeps to its time
# limit; the MIP there runs without presolve, which proved the what-if
# components optimal at the root 2-6x faster (docs/solver.md).
INPROCESS_MAX_ARCS = 20_000

# Problems this small get the local move search on top of repair + refill
# (0.13 s at 275k arcs, 0.5 s at 1.4M and 1.0 s at 2.75M; docs/solver.md).
LOCAL_SEARCH_MAX_ARCS = 3_000_000

FLOW_EXACT = "min-cost flow (exact)"
FLOW_RELAXED = "min-cost flow relaxation (budget rows dropped)"


@dataclass
class Incumbents:
    """The answers and the bound gathered before a search.  `core` may gain
    cut rows on the way (the LP routes of the mip strategy); `lp` is the LP
    whose reduced costs may fix arcs; `done` says that no search after these
    steps pays."""

    core: Core
    flow: flow_solver.FlowResult | None
    candidates: list[tuple[str, IntArray]] = field(default_factory=list)
    bound: float | None = None
    bound_source: str = "none"
    lp: Any = None
    lp_tried: bool = False
    done: bool = False
    # every bound offered, by source (the best of each): `stats["bound_sources"]`
    bounds: dict[str, float] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return self.flow is not None and self.flow.exact

    def offer_bound(self, bound: float | None, source: str) -> None:
        """Keep `bound` when it is better (lower, max form) than the one so far."""
        if bound is not None and bound < self.bounds.get(source, math.inf):
            self.bounds[source] = bound
        if bound is not None and (self.bound is None or bound < self.bound):
            self.bound, self.bound_source = bound, source

    def best_feasible(self) -> IntArray | None:
        core = self.core
        return max(
            (ch for _, ch in self.candidates if core.is_feasible(ch)),
            key=core.value,
            default=None,
        )

    def outcome(self, chosen: IntArray | None) -> Outcome:
        """`chosen` as the answer, with the bound so far, unproven."""
        return Outcome(self.core, chosen, self.bound, False, self.bound_source)


def begin(core: Core, opts: SolveOptions, stats: dict[str, Any]) -> Incumbents:
    """The min-cost flow and the first incumbents (flow + repair, warm start
    + repair, or greedy).  On a transportation core the flow is the answer:
    check `Incumbents.exact` and return `exact_outcome` then."""
    t = time.perf_counter()
    fr = flow_solver.solve_flow(core)
    stats["flow_s"] = round(time.perf_counter() - t, 6)
    inc = Incumbents(core, fr)
    if fr is not None and fr.exact:
        return inc
    if fr is not None:
        inc.offer_bound(float(fr.bound), FLOW_RELAXED)

    t = time.perf_counter()
    if fr is not None:
        inc.candidates.append(("flow+repair", heuristics.repair_and_fill(core, fr.chosen)))
    if opts.warm_start is not None and opts.warm_start.assignments:
        ws = warm_start_choice(core, dict(opts.warm_start.assignments))
        inc.candidates.append(("warm start+repair", heuristics.repair_and_fill(core, ws)))
    if not inc.candidates:
        greedy = heuristics.repair_and_fill(core, np.full(core.n_items, -1))
        inc.candidates.append(("greedy", greedy))
    stats["heuristic_s"] = round(time.perf_counter() - t, 6)
    return inc


def exact_outcome(inc: Incumbents) -> Outcome:
    """The flow's answer on a transportation core: optimal."""
    assert inc.flow is not None
    return Outcome(inc.core, inc.flow.chosen, float(inc.flow.bound), True, FLOW_EXACT)


def plain_lp(
    inc: Incumbents, opts: SolveOptions, budget: TimeBudget, stats: dict[str, Any]
) -> bool:
    """The LP (HiGHS): a far better bound than the flow relaxation, and
    budget prices that steer the flow to an answer that (nearly) fits the
    budgets.  True when HiGHS would spend the time left on the LP again at
    its root (a MIP search after it does not pay)."""
    core = inc.core
    inc.lp_tried = True
    t = time.perf_counter()
    r = mip_solver.solve_mip(
        core,
        time_limit_s=budget.left() * 0.6,
        relative_gap=opts.relative_gap,
        relax=True,
        grace_s=0.1,
        in_process=core.n_arcs <= INPROCESS_MAX_ARCS,
    )
    stats.update({"lp_" + k.removeprefix("highs_"): v for k, v in r.stats.items()})
    if r.x is not None and r.duals is not None:
        inc.candidates.extend(lp_candidates(core, r.x, r.duals, r.duals))
    stats["lp_heuristics_s"] = round(time.perf_counter() - t, 6)
    if r.x is None or r.duals is None:
        stats["lp_failed"] = True
        return False
    inc.offer_bound(r.bound, "LP relaxation (HiGHS)")
    inc.lp = r
    return budget.left() < 4 * lp_expected_s(core)


def settle(inc: Incumbents, stats: dict[str, Any]) -> IntArray | None:
    """The best feasible incumbent, improved by the local move search."""
    core = inc.core
    t = time.perf_counter()
    best_name, best = "", None
    for name, ch in inc.candidates:
        if not core.is_feasible(ch):
            continue
        if best is None or core.value(ch) > core.value(best):
            best_name, best = name, ch
    if best is not None and core.n_arcs <= LOCAL_SEARCH_MAX_ARCS:
        best = heuristics.improve_moves(core, best)
    stats["local_search_s"] = round(time.perf_counter() - t, 6)
    stats["incumbent_source"] = best_name or "none"
    if best is not None:
        stats["incumbent_objective"] = core.to_sense(core.value(best))
    return best


def reduced_cost_fixing(
    inc: Incumbents, best: IntArray | None, stats: dict[str, Any]
) -> tuple[Core, IntArray | None, IntArray | None]:
    """An arc whose LP reduced cost exceeds the gap between the LP bound and
    the incumbent cannot be in any better answer; dropping it keeps every
    better answer (and the incumbent) and shrinks the search.  Returns the
    core to search, the map of its arcs back (None when unchanged) and the
    incumbent on it."""
    core, lp = inc.core, inc.lp
    if best is None or lp is None or lp.reduced_costs is None or lp.bound is None:
        return core, None, best
    # (the bound that goes with these reduced costs: another, lower bound
    # from elsewhere does not make the fixing valid)
    v = core.value(best)
    keep = (lp.x > 1e-9) | (lp.bound - np.abs(lp.reduced_costs) >= v + 0.5)
    keep[best[best >= 0]] = True
    stats["rc_fixed_arcs"] = int(core.n_arcs - keep.sum())
    if keep.all():
        return core, None, best
    work, back = core.restrict(keep)
    return work, back, to_sub(best, back)


def lp_candidates(
    core: Core, x: Any, round_prices: Any, flow_prices: Any
) -> list[tuple[str, IntArray]]:
    """Answers from an LP point and its prices: LP rounding, and the flow
    with weights priced by `flow_prices`, repaired."""
    cands: list[tuple[str, IntArray]] = []
    if x is not None:
        cands.append(("LP rounding", heuristics.from_lp(core, x, round_prices)))
    cands.extend(priced_flow(core, flow_prices, "LP-priced flow+repair"))
    return cands


def priced_flow(core: Core, prices: Any, name: str) -> list[tuple[str, IntArray]]:
    """The flow with weights priced by `prices`, repaired and refilled (no
    answer when the flow has none)."""
    pw = heuristics.priced_weight(core, np.asarray(prices, dtype=np.float64))
    top = float(np.abs(pw).max()) if pw.size else 1.0
    fr = flow_solver.solve_flow(core, np.round(pw * max(1.0, 1e9 / max(top, 1.0))).astype(np.int64))
    if fr is None:
        return []
    return [(name, heuristics.repair_and_fill(core, fr.chosen, pw))]


def lp_worth_it(core: Core, budget: TimeBudget) -> bool:
    """The LP pays when it fits in a fraction of the time left (measured rate)."""
    if core.n_arcs < LP_MIN_ARCS:
        return False
    return budget.left() > 2 * lp_expected_s(core)


def lp_expected_s(core: Core) -> float:
    """The simplex's expected seconds on `core`.  Linear up to `LP_LINEAR_ARCS`, then
    growing with the square root of the size on top: the families at 100k x 10k (1.25
    million arcs) were expected at 62 s and had no LP after 106 s, so the route ran the
    simplex into its deadline instead of PDLP (benchmarks/RESULTS.md, "Issue 18 in one
    quiet window, s24")."""
    linear = 0.05 + core.n_arcs * LP_SECONDS_PER_ARC
    return linear * math.sqrt(max(1.0, core.n_arcs / LP_LINEAR_ARCS))


# up to here the per-arc rate was measured (10k x 2k cores of 124,000-250,000 arcs)
LP_LINEAR_ARCS = 250_000


def target(bound: float | None, opts: SolveOptions) -> float | None:
    """A max-form value at which an answer is within `relative_gap` of `bound`
    (a search may stop there: nothing it finds later can be proven better)."""
    if bound is None or not math.isfinite(bound):
        return None
    b = integral(bound)
    return b - opts.relative_gap * max(1.0, (1.0 - opts.relative_gap) * abs(b))


def proven(core: Core, chosen: IntArray, bound: float | None, opts: SolveOptions) -> bool:
    if bound is None or not math.isfinite(bound) or not core.is_feasible(chosen):
        return False
    v = core.value(chosen)
    return (integral(bound) - v) / max(1.0, abs(v)) <= opts.relative_gap


def to_sub(chosen: IntArray, back: IntArray) -> IntArray:
    """Map a choice of core arcs onto the arcs of a restricted core."""
    pos = np.full(int(back.max()) + 1 if back.size else 1, -1, dtype=np.int64)
    pos[back] = np.arange(back.size)
    safe = np.minimum(np.maximum(chosen, 0), pos.size - 1)
    return np.where(chosen >= 0, pos[safe], -1)


def to_core(chosen: IntArray, back: IntArray) -> IntArray:
    """Map a choice on a restricted core back onto the core's arcs."""
    if back.size == 0:  # a core without arcs: nothing is chosen
        return np.full_like(chosen, -1)
    return np.where(chosen >= 0, back[np.maximum(chosen, 0)], -1)
