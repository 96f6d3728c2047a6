"""The LP with knapsack cuts where the simplex does not fit the time: PDLP.

On national instances (10k children and more) HiGHS needs longer for the plain
LP than the whole time limit (21 s at 10k x 2k against 10 s), so those sizes
had only the Lagrangian of the budget rows, whose subgradient steps stall far
above the LP bound (docs/solver.md).  OR-Tools' first-order LP solver PDLP
reaches a point within 0.1 % of the LP in a few hundred matrix products, and
the point need not be exact: its row prices only steer the flow Lagrangian,
whose bound is valid for any prices (lagrange.py).

- **Restricted LP.** PDLP runs on each item's best arcs by weight
  (`ARCS_PER_ITEM`); an arc outside is added when the prices make it worth
  more than its item's price (`colgen.new_columns`).  At 10k x
  2k, ten arcs per item left the bound of the prices 0.005 % above the LP's
  and made PDLP three times faster (docs/solver.md).
- **Scaled rows.** Every resource row is divided by its capacity, so that
  PDLP's relative tolerance means the same for a budget in euro cents and a
  row of three places.
- **Cuts.** After the first point, rounds separate knapsack cardinality cuts
  (colgen.py) from the point and re-solve warm from it; cut rows stay in the
  returned core, with their prices, for the Lagrangian after it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.solvers.budget import TimeBudget
from matcher.solvers.colgen import knapsack_rows, new_columns, separate, top_per_item, with_cuts
from matcher.solvers.core import Core, IntArray
from matcher.solvers.heuristics import priced_weight

FloatArray = npt.NDArray[np.float64]

# arcs per item in the restricted LP (best weight first; docs/solver.md)
ARCS_PER_ITEM = 10

# PDLP's relative optimality tolerance: 1e-3 gave prices whose flow bound lay
# 0.005 % above the LP at 10k x 2k; 1e-4 took three times the iterations
TOLERANCE = 1e-3

# a cut round stops after this many times the first round's iterations: the
# warm start needs fewer, and an unfinished round still gives valid prices
ROUND_ITERATION_FACTOR = 1.5

# only cuts violated by this much (in answers) are added: PDLP's point is
# approximate, and smaller violations are within its tolerance
CUT_MIN_VIOLATION = 0.05


@dataclass
class PdlpResult:
    core: Core  # the core with the cuts added (same arcs, more resources)
    prices: FloatArray  # row prices (max form, >= 0) per resource of `core`
    # the prices of the first round (no cuts yet), per resource of `core`:
    # the flow priced by them gave better answers than the cut prices
    # (which steer towards the cut LP's fractional point; docs/solver.md)
    first_prices: FloatArray
    x: FloatArray  # the last LP point over all arcs (zero outside the restricted LP)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Qp:
    qp: Any
    rows: IntArray  # resource of each row after the item rows
    scale: FloatArray  # divisor of each of those rows


def _build(core: Core) -> _Qp:
    """The LP of `core` as a PDLP QuadraticProgram (minimise minus the weight),
    item rows first, then every resource row that can overflow, scaled to a
    right-hand side of 1."""
    import scipy.sparse as sp
    from ortools.pdlp.python import pdlp

    from matcher.solvers.mip_model import lp_rows

    n_a, n_i = core.n_arcs, core.n_items
    lr = lp_rows(core)
    rows = lr.resources
    scale = np.maximum(core.capacity[rows].astype(np.float64), 1.0)
    row_scale = np.concatenate([np.ones(n_i), scale])
    qp = pdlp.QuadraticProgram()
    qp.resize_and_initialize(n_a, row_scale.size)
    qp.objective_vector = -core.weight.astype(np.float64)
    qp.constraint_matrix = sp.csc_matrix(
        (lr.value / row_scale[lr.row], (lr.row, lr.col)), shape=(row_scale.size, n_a)
    )
    qp.constraint_lower_bounds = lr.lower / row_scale
    qp.constraint_upper_bounds = lr.upper / row_scale
    qp.variable_lower_bounds = np.zeros(n_a)
    qp.variable_upper_bounds = np.ones(n_a)
    return _Qp(qp, rows, scale)


def _solve(
    core: Core,
    q: _Qp,
    *,
    seconds: float,
    iterations: int | None,
    start: tuple[FloatArray, FloatArray] | None,
    threads: int,
) -> tuple[FloatArray, FloatArray, FloatArray, int, bool]:
    """PDLP on `q`: the point, the row duals (PDLP's signs), the resource
    prices of `core` (max form, >= 0), the iterations it took and whether it
    reached its tolerance."""
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    prm = solvers_pb2.PrimalDualHybridGradientParams()
    crit = prm.termination_criteria
    crit.simple_optimality_criteria.eps_optimal_relative = TOLERANCE
    crit.simple_optimality_criteria.eps_optimal_absolute = TOLERANCE
    crit.time_sec_limit = max(0.01, seconds)
    if iterations is not None:
        crit.iteration_limit = iterations
    # a check every 32 products instead of 64: the time limit is kept to
    # a quarter of a second at 100k x 10k
    prm.termination_check_frequency = 32
    prm.num_threads = max(1, threads)
    init = None
    if start is not None:
        init = pdlp.PrimalAndDualSolution()
        init.primal_solution, init.dual_solution = start
    r = pdlp.primal_dual_hybrid_gradient(q.qp, prm, initial_solution=init)
    x = np.clip(np.asarray(r.primal_solution, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(r.dual_solution, dtype=np.float64)
    prices = np.zeros(core.n_resources)
    # minimising, a row at its upper bound has a dual <= 0; per unit of the
    # unscaled row the price is that dual over the row's scale
    prices[q.rows] = np.maximum(-y[core.n_items :], 0.0) / q.scale
    done = r.solve_log.termination_reason == solve_log_pb2.TERMINATION_REASON_OPTIMAL
    return x, y, prices, int(r.solve_log.iteration_count), done


def pdlp_loop(
    core: Core,
    *,
    budget: TimeBudget,
    keep: IntArray | None = None,
    cuts: bool = True,
    threads: int = 2,
) -> PdlpResult | None:
    """PDLP on a restricted LP, then rounds of cuts and columns warm-started
    from the last point until the `budget` ends; None when not even
    the first round ends with a point."""
    t_start = time.perf_counter()
    krows = knapsack_rows(core) if cuts else []
    in_lp = np.zeros(core.n_arcs, dtype=bool)
    in_lp[
        top_per_item(core, core.weight.astype(np.float64), ARCS_PER_ITEM, np.ones_like(in_lp))
    ] = True
    if keep is not None:
        in_lp[keep[keep >= 0]] = True
    seen: set[tuple[int, tuple[int, ...]]] = set()
    x_full = np.zeros(core.n_arcs)
    prices: FloatArray | None = None
    first_prices: FloatArray | None = None
    y_by_res: FloatArray | None = None
    y_items: FloatArray | None = None
    first_iters: int | None = None
    last_s = 0.0
    rounds = n_cuts = n_cols = iters_total = 0
    trace: list[tuple[float, int, int, int]] = []
    while True:
        left = budget.left()
        if left <= max(0.05, 1.2 * last_s):
            break
        t = time.perf_counter()
        sub, back = core.restrict(in_lp)
        q = _build(sub)
        start = None
        if y_by_res is not None and y_items is not None:
            start = (x_full[back], np.concatenate([y_items, y_by_res[q.rows]]))
        cap = None if first_iters is None else max(64, int(ROUND_ITERATION_FACTOR * first_iters))
        x, y, p, it, done = _solve(
            sub, q, seconds=left, iterations=cap, start=start, threads=threads
        )
        last_s = time.perf_counter() - t
        rounds += 1
        iters_total += it
        if first_iters is None:
            first_iters = it
            first_prices = p.copy()
        x_full = np.zeros(core.n_arcs)
        x_full[back] = x
        prices = p
        y_items = y[: core.n_items]
        y_by_res = np.zeros(core.n_resources)
        y_by_res[q.rows] = y[core.n_items :]
        trace.append((round(time.perf_counter() - t_start, 3), it, sub.n_arcs, core.n_cuts))
        # columns the prices make worth more than their item's best arc
        # inside (the flow bound prices them anyway; this keeps the LP's
        # prices honest for them)
        new_cols = new_columns(core, priced_weight(core, prices), in_lp)
        new_cuts = []
        if krows:
            for row, ks, beta in separate(core, krows, x_full, min_violation=CUT_MIN_VIOLATION):
                key = (row, tuple(int(k) for k in ks))
                if key in seen:  # a cut PDLP's tolerance left violated
                    continue
                seen.add(key)
                new_cuts.append((row, ks, beta))
        if new_cols.size == 0 and not new_cuts and done:
            break
        in_lp[new_cols] = True
        n_cols += int(new_cols.size)
        if new_cuts:
            core = with_cuts(core, new_cuts)
            y_by_res = np.concatenate([y_by_res, np.zeros(len(new_cuts))])
            prices = np.concatenate([prices, np.zeros(len(new_cuts))])
            n_cuts += len(new_cuts)
    if prices is None or first_prices is None:
        return None
    return PdlpResult(
        core=core,
        prices=prices,
        first_prices=np.concatenate([first_prices, np.zeros(core.n_resources - first_prices.size)]),
        x=x_full,
        stats={
            "pdlp_rounds": rounds,
            "pdlp_iterations": iters_total,
            "pdlp_columns": int(in_lp.sum()),
            "pdlp_columns_added": n_cols,
            "pdlp_cuts": n_cuts,
            "pdlp_s": round(time.perf_counter() - t_start, 6),
            "pdlp_trace": trace,
        },
    )
