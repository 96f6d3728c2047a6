"""Lagrangian relaxation of the budget rows around min-cost flow.

For prices lam >= 0 on the rows the flow cannot carry (budgets), the flow
optimum with arc weights ``w - lam . uses`` plus ``lam . capacity`` is an
upper bound (max form) on the optimum, for every lam.  Subgradient steps
(Polyak step towards the best answer found) move the prices; every flow
answer is repaired and refilled into a feasible incumbent.  This is the route
for problems too large for the LP within the time limit: each step costs one
flow solve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray
from matcher.solvers.flow import primary_resource, solve_flow
from matcher.solvers.heuristics import priced_weight, repair_and_fill

FloatArray = npt.NDArray[np.float64]

# first Polyak step factor (halved after 3 steps without a better bound)
THETA0 = 1.0

# integer cost resolution of the priced flow: coarser costs shorten the
# flow's cost scaling; the bound pays n_items / scale for the rounding
FLOW_COST_SCALE = 1e6

# repair a priced flow answer into an incumbent every this many steps (and
# on the last step): a repair costs half a flow solve at 10k x 2k and rarely
# beats the previous one
REPAIR_EVERY = 1


# initial prices from the zero-price flow answer: per over-full row, this
# share of the value per unit of its marginal chosen arc (docs/solver.md)
START_PRICE_SHARE = 0.25


def start_prices(core: Core, x: IntArray, rows: npt.NDArray[np.bool_]) -> FloatArray:
    """Per over-full priced row, the value per unit of the chosen arc at which
    the row's capacity runs out (the chosen arcs by value per unit, best
    first), times `START_PRICE_SHARE`: a price that would drop the marginal
    arcs if the children had nowhere else to go."""
    lam = np.zeros(core.n_resources)
    on = x[x >= 0]
    if on.size == 0 or START_PRICE_SHARE <= 0:
        return lam
    sel = np.zeros(core.n_arcs, dtype=bool)
    sel[on] = True
    ua = core.use_arc()
    m = sel[ua] & rows[core.use_res]
    arc, res, amt = ua[m], core.use_res[m], core.use_amount[m].astype(np.float64)
    if arc.size == 0:
        return lam
    ratio = np.maximum(core.weight[arc], 0.0) / np.maximum(amt, 1.0)
    o = np.lexsort((arc, -ratio, res))
    res, amt, ratio = res[o], amt[o], ratio[o]
    cum = np.cumsum(amt)
    first = np.searchsorted(res, res, side="left")
    before = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    within = cum - before  # cumulative use inside the row
    over = within > core.capacity[res]
    # first entry per row over its capacity: its ratio is the price
    idx = np.flatnonzero(over)
    if idx.size:
        r_over = res[idx]
        firsts = idx[np.r_[True, r_over[1:] != r_over[:-1]]]
        lam[res[firsts]] = START_PRICE_SHARE * ratio[firsts]
    return lam


@dataclass
class LagrangeResult:
    chosen: IntArray | None
    bound: float | None  # max form, valid upper bound
    iterations: int


def priced_rows(core: Core) -> npt.NDArray[np.bool_]:
    """Resources the flow network drops (so they get a price)."""
    prim = primary_resource(core)
    in_flow = np.zeros(core.n_resources, dtype=bool)
    in_flow[prim[prim >= 0]] = True
    total = np.bincount(core.use_res, weights=core.use_amount, minlength=core.n_resources)
    return ~in_flow & (total > core.capacity)


def lagrangian(
    core: Core,
    budget: TimeBudget,
    start: IntArray | None = None,
    prices: FloatArray | None = None,
    max_iter: int = 200,
    first: IntArray | None = None,
    est_step_s: float = 0.0,
) -> LagrangeResult:
    """Subgradient search until the `budget` ends.

    `first` is the flow answer at zero prices when the caller has it already
    (it saves one flow solve); `est_step_s` is the expected time of one step
    (a flow solve and a repair) before the first one is measured.
    """
    deadline = budget.deadline
    rows = priced_rows(core)
    lam = np.zeros(core.n_resources) if prices is None else np.where(rows, prices, 0.0)
    best = start.copy() if start is not None and core.is_feasible(start) else None
    best_v = core.value(best) if best is not None else -np.inf
    bound = np.inf
    theta, stall = THETA0, 0
    it = 0
    cap = core.capacity.astype(np.float64)
    last = est_step_s  # duration of the last step: never start one that cannot end in time
    while it < max_iter and time.perf_counter() + last < deadline:
        t_step = time.perf_counter()
        it += 1
        pw = priced_weight(core, lam)
        fr_used = True
        if it == 1 and first is not None and not lam.any():
            x, scale = first, np.inf
            fr_used = False
        else:
            top = float(np.abs(pw).max()) if pw.size else 1.0
            # coarse integer costs keep the flow's cost scaling short; the
            # bound below pays for the rounding
            scale = max(1.0, FLOW_COST_SCALE / max(top, 1.0))
            fr = solve_flow(core, np.round(pw * scale).astype(np.int64))
            if fr is None:
                break
            x = fr.chosen
        on = x[x >= 0]
        # bound from the real-valued priced weights of the flow answer, plus
        # the most the rounding of the weights could have cost (1/scale each)
        val = core.const + float(pw[on].sum()) + float(lam @ cap) + core.n_items / scale
        if it == 1 and prices is None and START_PRICE_SHARE > 0:
            # after the zero-price step (the plain flow bound) start from
            # marginal-value prices instead of a first subgradient step
            if val < bound - 1e-9:
                bound = val
            if first is None:
                cand = repair_and_fill(core, x, pw)
                if core.is_feasible(cand) and core.value(cand) > best_v:
                    best, best_v = cand, core.value(cand)
            lam = start_prices(core, x, rows)
            if fr_used:
                last = time.perf_counter() - t_step
            continue
        if val < bound - 1e-9:
            bound, stall = val, 0
        else:
            stall += 1
            if stall >= 3:
                theta, stall = theta / 2, 0
        last_step = time.perf_counter() + 2 * last >= deadline or it >= max_iter
        if (it > 1 or first is None) and (it % REPAIR_EVERY == 0 or last_step):
            # (the caller repaired the first flow already)
            cand = repair_and_fill(core, x, pw)
            if core.is_feasible(cand) and core.value(cand) > best_v:
                best, best_v = cand, core.value(cand)
        if best is not None and bound - best_v <= 1e-9 * max(1.0, abs(best_v)):
            break
        use = core.usage_exact(x).astype(np.float64)
        g = np.where(rows, cap - use, 0.0)
        # prices that are zero and whose row has slack stay at zero
        g[(lam <= 0) & (g > 0)] = 0.0
        norm = float(g @ g)
        if norm <= 0:
            break
        target = best_v if best is not None else val - 0.01 * abs(val)
        step = theta * max(val - target, 1e-9 * max(1.0, abs(val))) / norm
        lam = np.maximum(0.0, lam - step * g)
        if fr_used:
            last = time.perf_counter() - t_step
            if it % REPAIR_EVERY != 0:
                last *= 1.5  # allowance for a step that repairs
    return LagrangeResult(best, None if not np.isfinite(bound) else bound, it)
