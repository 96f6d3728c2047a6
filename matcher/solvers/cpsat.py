"""CP-SAT on a `Core`, written at the proto level (fast to build), with a hint.

One Boolean per arc; exactly-one (must-assign) or at-most-one per item; one
linear row per resource that can be exceeded at all.  The objective is the
max-form weight; CP-SAT minimises, so weights are negated and the scaling
factor is -1, which makes CP-SAT report objective and bound in max form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.solvers.core import Core, IntArray
from matcher.solvers.status import SearchStatus


@dataclass
class CpSatResult:
    status: SearchStatus  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN or MODEL_INVALID
    chosen: IntArray | None
    bound: float | None  # max form, including core.const
    stats: dict[str, Any] = field(default_factory=dict)


def build_model(core: Core, hint: IntArray | None, redundant: bool = True) -> Any:
    from ortools.sat.python import cp_model_helper as cmh

    m = cmh.CpModelProto()
    n_a = core.n_arcs
    variables = m.variables
    for _ in range(n_a):
        variables.add().domain.extend((0, 1))

    iptr = core.item_ptr.tolist()
    must = core.must.tolist()
    for i in range(core.n_items):
        lo, hi = iptr[i], iptr[i + 1]
        if must[i]:
            m.constraints.add().exactly_one.literals.extend(range(lo, hi))
        elif hi - lo >= 2:
            m.constraints.add().at_most_one.literals.extend(range(lo, hi))

    use_arc = core.use_arc()
    order = np.lexsort((use_arc, core.use_res))
    res_sorted = core.use_res[order]
    arc_sorted = use_arc[order]
    amt_sorted = core.use_amount[order]
    bounds = np.searchsorted(res_sorted, np.arange(core.n_resources + 1))
    total = np.bincount(core.use_res, weights=core.use_amount, minlength=core.n_resources)
    cap = core.capacity.tolist()
    for r in range(core.n_resources):
        lo, hi = int(bounds[r]), int(bounds[r + 1])
        if hi == lo or total[r] <= cap[r]:
            continue  # cannot be exceeded
        lin = m.constraints.add().linear
        lin.vars.extend(arc_sorted[lo:hi].tolist())
        lin.coeffs.extend(amt_sorted[lo:hi].tolist())
        lin.domain.extend((0, cap[r]))

    obj = m.objective
    nz = np.flatnonzero(core.weight != 0)
    obj.vars.extend(nz.tolist())
    obj.coeffs.extend((-core.weight[nz]).tolist())
    obj.scaling_factor = -1.0

    if hint is not None:
        on = np.zeros(n_a, dtype=np.int64)
        on[hint[hint >= 0]] = 1
        m.solution_hint.vars.extend(range(n_a))
        m.solution_hint.values.extend(on.tolist())
    return m


def solve_cpsat(
    core: Core,
    *,
    time_limit_s: float,
    relative_gap: float,
    workers: int,
    seed: int,
    hint: IntArray | None = None,
    params: dict[str, Any] | None = None,
    min_value: float | None = None,
) -> CpSatResult:
    """CP-SAT on the core.  `min_value` (max form): only answers worth at
    least this much count; INFEASIBLE then proves that none exists."""
    from ortools.sat.python import cp_model_helper as cmh

    if core.n_arcs == 0:
        chosen = np.full(core.n_items, -1, dtype=np.int64)
        return CpSatResult(SearchStatus.OPTIMAL, chosen, float(core.const))
    model = build_model(core, hint)
    if min_value is not None:
        # the objective CP-SAT sees is sum(-weight x), without the constant
        low = -int(np.abs(core.weight).sum()) - 1
        high = math.floor(core.const - min_value + 1e-9)
        model.objective.domain.extend((low, max(low, high)))
    p = cmh.SatParameters()
    p.num_workers = max(1, workers)
    p.random_seed = seed
    p.max_time_in_seconds = max(0.01, time_limit_s)
    p.relative_gap_limit = relative_gap
    p.log_search_progress = False
    for k, v in (params or {}).items():
        if isinstance(v, list | tuple):
            getattr(p, k).extend(v)  # repeated fields (e.g. subsolvers)
        else:
            setattr(p, k, v)
    w = cmh.SolveWrapper()
    w.set_parameters(p)
    resp = w.solve(model)  # type: ignore[no-untyped-call]
    status = _status(resp.status)
    stats = {
        "cpsat_status": status,
        "cpsat_wall_time_s": resp.wall_time,
        "cpsat_conflicts": resp.num_conflicts,
        "cpsat_branches": resp.num_branches,
    }
    if status.has_answer:
        sol = np.asarray(resp.solution, dtype=np.int64)
        on = np.flatnonzero(sol[: core.n_arcs] > 0)
        chosen = np.full(core.n_items, -1, dtype=np.int64)
        chosen[core.arc_item[on]] = on
        bound = resp.best_objective_bound
        b = float(bound) + core.const if math.isfinite(bound) else None
        return CpSatResult(status, chosen, b, stats)
    return CpSatResult(status, None, None, stats)


def _status(raw: object) -> SearchStatus:
    """CP-SAT's response status as a `SearchStatus` (UNKNOWN for any other)."""
    name = getattr(raw, "name", str(raw))
    try:
        return SearchStatus(name)
    except ValueError:
        return SearchStatus.UNKNOWN
