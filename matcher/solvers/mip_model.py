"""The MathOpt model of a core for HiGHS (`matcher.solvers.mip`): its rows, the
scale of its objective and the model itself, with rows beyond the core's where a
caller holds a tier at its optimum (`matcher.solvers.tiers`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.solvers.core import Core, IntArray

__all__ = [
    "MAX_MODEL_WEIGHT",
    "AtLeast",
    "LpRows",
    "build_model_proto",
    "lp_rows",
    "objective_scale",
    "resource_rows",
]


@dataclass
class LpRows:
    """The rows of the LP of a core: 0..n_items-1 one per item (at most one
    arc; exactly one when must-assign), then one per resource that can
    overflow, in `resource_rows` order (`resources`)."""

    resources: IntArray
    row: IntArray  # the non-zeros: row, column (arc) and value
    col: IntArray
    value: Any
    lower: Any  # row bounds
    upper: Any


def lp_rows(core: Core) -> LpRows:
    n_a, n_i = core.n_arcs, core.n_items
    rows_r = resource_rows(core)
    row_of_res = np.full(core.n_resources, -1, dtype=np.int64)
    row_of_res[rows_r] = n_i + np.arange(rows_r.size)
    use_arc = core.use_arc()
    keep = row_of_res[core.use_res] >= 0
    return LpRows(
        resources=rows_r,
        row=np.concatenate([core.arc_item, row_of_res[core.use_res[keep]]]),
        col=np.concatenate([np.arange(n_a, dtype=np.int64), use_arc[keep]]),
        value=np.concatenate([np.ones(n_a), core.use_amount[keep].astype(np.float64)]),
        lower=np.concatenate([np.where(core.must, 1.0, -np.inf), np.full(rows_r.size, -np.inf)]),
        upper=np.concatenate([np.ones(n_i), core.capacity[rows_r].astype(np.float64)]),
    )


# HiGHS' dual simplex fails on objective coefficients far above this ("excessive dual
# values": the domain path's tiered weights reach 6e10); the model gets its weights
# divided by a power of two (exact in floating point) and every value read back is
# multiplied again (`objective_scale`).
MAX_MODEL_WEIGHT = 2.0**20


def objective_scale(core: Core) -> float:
    """The power of two the model's objective is multiplied by (1 when the weights are
    small enough for HiGHS as they are)."""
    top = float(np.abs(core.weight).max()) if core.weight.size else 0.0
    if top <= MAX_MODEL_WEIGHT:
        return 1.0
    return 2.0 ** -math.ceil(math.log2(top / MAX_MODEL_WEIGHT))


# A row: the sum over arcs of coefficient times x is at least a whole number.
AtLeast = tuple[IntArray, int]


def build_model_proto(
    core: Core, relax: bool, scale: float, at_least: Sequence[AtLeast] = ()
) -> Any:
    """The MathOpt model of `core`, its objective multiplied by `scale`
    (`objective_scale`: the caller multiplies every value read back by 1 / scale),
    with a row per `at_least` (coefficients per arc, the least sum)."""
    from ortools.math_opt import model_pb2

    n_a = core.n_arcs
    mp_ = model_pb2.ModelProto()
    v = mp_.variables
    v.ids.extend(np.arange(n_a, dtype=np.int64))
    v.lower_bounds.extend(np.zeros(n_a))
    v.upper_bounds.extend(np.ones(n_a))
    v.integers.extend(np.full(n_a, not relax, dtype=bool))
    mp_.objective.maximize = True
    mp_.objective.offset = float(core.const) * scale
    nz = np.flatnonzero(core.weight != 0)
    mp_.objective.linear_coefficients.ids.extend(nz.astype(np.int64))
    mp_.objective.linear_coefficients.values.extend(core.weight[nz].astype(np.float64) * scale)

    rows = lp_rows(core)
    lower, upper = rows.lower, rows.upper
    r_rows, r_cols, r_vals = rows.row, rows.col, rows.value
    for coef, least in at_least:
        on = np.flatnonzero(coef)
        r_rows = np.concatenate([r_rows, np.full(on.size, lower.size, dtype=np.int64)])
        r_cols = np.concatenate([r_cols, on.astype(np.int64)])
        r_vals = np.concatenate([r_vals, coef[on].astype(np.float64)])
        lower = np.append(lower, float(least))
        upper = np.append(upper, np.inf)
    lc = mp_.linear_constraints
    lc.ids.extend(np.arange(lower.size, dtype=np.int64))
    lc.lower_bounds.extend(lower)
    lc.upper_bounds.extend(upper)
    o = np.lexsort((r_cols, r_rows))
    mat = mp_.linear_constraint_matrix
    mat.row_ids.extend(r_rows[o])
    mat.column_ids.extend(r_cols[o])
    mat.coefficients.extend(r_vals[o])
    return mp_


def resource_rows(core: Core) -> IntArray:
    """Resources that get a row (those that can overflow), in row order."""
    total = np.bincount(core.use_res, weights=core.use_amount, minlength=core.n_resources)
    return np.flatnonzero(total > core.capacity).astype(np.int64)
