"""The knapsack Lagrangian bound of GAP-like cores, and arc fixing with it.

On a GAP-like core (every item must be assigned, every arc uses one resource
by a positive integer amount) the item rows are relaxed with prices u:

    value <= const + sum_j u_j + sum_r K_r(u),
    K_r(u) = max { sum_j (w_jr - u_j) x_j : sum_j a_jr x_j <= cap_r, x binary },

one 0-1 knapsack per resource, solved exactly by dynamic programming over
the integer capacities.  This is the classic bound of Ross and Soland and of
Fisher, Jaikumar and Van Wassenhove: at least as strong as the LP relaxation
(the LP bound of the plain assignment-with-capacities model is the same
relaxation with each knapsack replaced by its LP), often clearly stronger on
tight instances (c10200: LP 2795.4, this bound 2803.6, optimum 2806).

Prices move by subgradient steps with a Polyak step towards the incumbent.

Fixing: with the knapsack of resource r solved with arc (j, r) forced in,
the bound of every answer that uses the arc is known exactly for these
prices; an arc whose forced bound cannot beat the incumbent by 1 (answers
have integer values) is in no better answer and may be dropped.  The
forced knapsacks come from a forward and a backward pass of the same
dynamic programme.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import BoolArray, Core, IntArray

FloatArray = npt.NDArray[np.float64]

# dense (item x resource x capacity) cells of the stored passes above this
# cost more memory and time than the bound gains
MAX_DP_CELLS = 6_000_000
# step size multiplier of the Polyak step: halved after this many steps
# without a better bound
HALVE_AFTER = 20
MIN_STEP = 1e-4
# profits are rounded up to this fraction for the integer knapsack solver
PROFIT_SCALE = 10_000


@dataclass
class GapBound:
    bound: float  # max form, constant included; valid for every answer
    prices: FloatArray  # item prices u of the bound
    # per arc: the bound of every answer that uses it (-inf: none can)
    forced: FloatArray | None
    iterations: int
    seconds: float
    # the steps stopped moving the prices (or the bound met the incumbent)
    # before the deadline: the prices are as good as this ascent makes them
    converged: bool = False


@dataclass
class _Dense:
    weight: FloatArray  # (m, n), -inf where no arc
    need: IntArray  # (m, n)
    cap: IntArray  # (m,)
    arc_at: IntArray  # (m, n), -1 where no arc
    # per item, for the programme's tables (m, width) read flat: where each
    # cell looks when the item is taken, and whether the item fits there
    src: npt.NDArray[np.int32]  # (n, m * width)
    fits: BoolArray  # (n, m * width)
    width: int


def applicable(core: Core) -> bool:
    """GAP-like, and a dynamic programme that fits (amounts and capacities
    are integers in every core)."""
    from matcher.solvers.gap_search import is_gap_like

    if not is_gap_like(core):
        return False
    cap = np.maximum(core.capacity, 0)
    cells = core.n_items * core.n_resources * (int(cap.max(initial=0)) + 1)
    return cells <= MAX_DP_CELLS


def _dense(core: Core) -> _Dense:
    from matcher.solvers.gap_search import arc_agents

    n, m = core.n_items, core.n_resources
    agent, amount = arc_agents(core)
    weight = np.full((m, n), -np.inf)
    need = np.zeros((m, n), dtype=np.int64)
    arc_at = np.full((m, n), -1, dtype=np.int64)
    weight[agent, core.arc_item] = core.weight.astype(np.float64)
    need[agent, core.arc_item] = amount
    arc_at[agent, core.arc_item] = np.arange(core.n_arcs)
    cap = np.maximum(np.asarray(core.capacity, dtype=np.int64), 0)
    width = int(cap.max(initial=0)) + 1
    # need.T[:, :, None] is (n, m, 1): the cell c - need of the same row
    back = np.arange(width)[None, None, :] - need.T[:, :, None]
    fits = (back >= 0) & np.isfinite(weight.T)[:, :, None]
    src = (np.arange(m)[None, :, None] * width + np.maximum(back, 0)).astype(np.int32)
    return _Dense(weight, need, cap, arc_at, src.reshape(n, -1), fits.reshape(n, -1), width)


def _step(d: _Dense, table: FloatArray, profit: FloatArray, j: int) -> tuple[FloatArray, BoolArray]:
    """One item of the knapsack programme for every resource at once:
    table[r, c] = best profit within capacity c; the item is taken where it
    pays.  `table` is (m * width,) flat."""
    p = np.repeat(profit[:, j], d.width)
    ok = d.fits[j] & (p > 0)
    cand = np.where(ok, table[d.src[j]] + p, -np.inf)
    take = cand > table
    return np.where(take, cand, table), take


def _knapsacks(d: _Dense, profit: FloatArray) -> tuple[FloatArray, BoolArray]:
    """K_r for every resource, and the items each knapsack takes."""
    m, n = profit.shape
    w = d.width
    table = np.zeros(m * w)
    takes = np.zeros((n, m * w), dtype=bool)
    useful = np.flatnonzero((profit > 0).any(axis=0))
    for j in useful.tolist():
        table, takes[j] = _step(d, table, profit, j)
    rows = np.arange(m)
    value = table[rows * w + d.cap]
    x = np.zeros((m, n), dtype=bool)
    c = d.cap.copy()
    for j in useful[::-1].tolist():
        t = takes[j, rows * w + c]
        x[:, j] = t
        c = c - np.where(t, d.need[:, j], 0)
    return value, x


def _knapsacks_bb(d: _Dense, profit: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Upper bounds of K_r, and the items each knapsack takes, by OR-Tools'
    branch-and-bound knapsack solver (several times faster here than the
    dynamic programme in numpy).  It needs integer values: profits are
    rounded up to 1 / PROFIT_SCALE, so each value returned is at least K_r
    (and at most K_r + items / PROFIT_SCALE): the bound stays valid."""
    from ortools.algorithms.python import knapsack_solver

    m, n = profit.shape
    value = np.zeros(m)
    x = np.zeros((m, n), dtype=bool)
    solver = knapsack_solver.KnapsackSolver(
        knapsack_solver.SolverType.KNAPSACK_MULTIDIMENSION_BRANCH_AND_BOUND_SOLVER, "gap"
    )
    for r in range(m):
        items = np.flatnonzero((profit[r] > 0) & (d.need[r] <= d.cap[r]))
        if items.size == 0:
            continue
        scaled = np.ceil(profit[r, items] * PROFIT_SCALE).astype(np.int64)
        solver.init(scaled.tolist(), [d.need[r, items].tolist()], [int(d.cap[r])])
        value[r] = solver.solve() / PROFIT_SCALE
        taken = [solver.best_solution_contains(i) for i in range(items.size)]
        x[r, items[np.asarray(taken, dtype=bool)]] = True
    return value, x


def _forced_in_loss(d: _Dense, profit: FloatArray) -> FloatArray:
    """K_r - K_r(arc (j, r) forced in), per (r, j); inf where it does not fit.
    K_r itself is the backward programme over all items."""
    m, n = profit.shape
    w = d.width
    rows = np.arange(m)[:, None]
    cols = np.arange(w)[None, :]
    # backward tables: suffix[j] = programme over the items j..n-1
    suffix = np.zeros((n + 1, m, w))
    table = np.zeros(m * w)
    for j in range(n - 1, -1, -1):
        if (profit[:, j] > 0).any():
            table, _ = _step(d, table, profit, j)
        suffix[j] = table.reshape(m, w)
    value = suffix[0][np.arange(m), d.cap]
    loss = np.full((m, n), np.inf)
    table = np.zeros(m * w)  # forward: items 0..j-1
    for j in range(n):
        rest = d.cap[:, None] - d.need[:, j][:, None] - cols  # capacity for the suffix
        ok = (rest >= 0) & np.isfinite(profit[:, j])[:, None]
        comb = np.where(ok, table.reshape(m, w) + suffix[j + 1][rows, np.maximum(rest, 0)], -np.inf)
        forced = comb.max(axis=1) + profit[:, j]
        loss[:, j] = np.where(np.isfinite(forced), value - forced, np.inf)
        if (profit[:, j] > 0).any():
            table, _ = _step(d, table, profit, j)
    out: FloatArray = np.maximum(loss, 0.0)
    return out


def knapsack_bound(
    core: Core,
    *,
    incumbent: float,
    budget: TimeBudget,
    start_prices: FloatArray | None = None,
    fix: bool = True,
    max_iter: int = 10_000,
    exact_steps: bool = False,
) -> GapBound | None:
    """Subgradient ascent on the knapsack Lagrangian of a GAP-like core.

    `incumbent`: the value (max form) of a feasible answer, the Polyak target
    and the value the fixing must beat.  `start_prices`: item prices to start
    from (the LP's item duals are a good start: the bound there is at most
    the LP bound).  `exact_steps`: each step by the dynamic programme instead
    of the branch-and-bound solver (to compare them,
    benchmarks/gap_bound_steps.py).  Returns None when the core is not
    GAP-like or too large for the dynamic programme."""
    if not applicable(core):
        return None
    t0 = time.perf_counter()
    d = _dense(core)
    m = d.weight.shape[0]
    if start_prices is not None:
        u = np.asarray(start_prices, dtype=np.float64).copy()
    else:
        # the second best weight of each item: taking its best arc then pays
        # only where that arc is clearly best
        srt = np.sort(np.where(np.isfinite(d.weight), d.weight, -1e18), axis=0)
        u = srt[-2] if m > 1 else srt[-1]
        u = np.where(u < -1e17, srt[-1], u)
    best, best_u = np.inf, u.copy()
    lam, since, it = 1.0, 0, 0
    converged = False
    target = incumbent + 1.0  # an answer better than the incumbent is worth this
    while it < max_iter and (it == 0 or time.perf_counter() < budget.deadline):
        it += 1
        profit = d.weight - u[None, :]
        value, x = _knapsacks(d, profit) if exact_steps else _knapsacks_bb(d, profit)
        bound = core.const + float(u.sum() + value.sum())
        if bound < best - 1e-9:
            best, best_u, since = bound, u.copy(), 0
        else:
            since += 1
            if since >= HALVE_AFTER:
                lam, since = lam / 2.0, 0
        if best < target - 1e-6 or lam < MIN_STEP:
            converged = True  # the incumbent is optimal, or the steps no longer move
            break
        g = 1.0 - x.sum(axis=0)
        gg = float(g @ g)
        if gg == 0.0:
            converged = True  # the knapsacks' answer is itself an assignment
            break
        u = u - lam * (bound - incumbent) / gg * g
    forced = None
    if fix and np.isfinite(best):
        loss = _forced_in_loss(d, d.weight - best_u[None, :])
        forced = np.full(core.n_arcs, -np.inf)
        has = d.arc_at >= 0
        forced[d.arc_at[has]] = best - loss[has]
    return GapBound(best, best_u, forced, it, time.perf_counter() - t0, converged)


def arcs_for(gb: GapBound, value: float) -> BoolArray:
    """The arcs that can be in an answer worth at least `value` (max form),
    with a small allowance for rounding in the bound."""
    assert gb.forced is not None
    return gb.forced >= value - 1e-6 * max(1.0, abs(gb.bound))
