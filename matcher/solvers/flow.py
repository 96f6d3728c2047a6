"""Min-cost flow: exact for transportation problems, a relaxation otherwise.

Network: source -> item (capacity 1) -> resource node (cost -weight) ->
sink (capacity = the resource's capacity).  An arc that uses no flow resource
goes straight to the sink.  Optional items get a bypass arc item -> sink with
cost 0 (their penalty is already inside the weights, see `core`); must-assign
items have no bypass, so an infeasible flow proves the problem infeasible.

When an arc uses several resources, or amounts other than 1, only one "unit"
resource per arc (the tightest) stays in the network and the others are
dropped: the flow optimum is then an upper bound (max form) on the true
optimum and its assignment is repaired by `heuristics.repair`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.solvers.core import Core, CoreInfeasible, IntArray


@dataclass(frozen=True)
class FlowResult:
    chosen: IntArray  # per core item: core arc or -1
    bound: int  # max-form optimum of the flow problem (a bound when relaxed)
    exact: bool  # the flow problem is the whole problem


def is_flow_core(core: Core) -> bool:
    """Every arc uses at most one resource, by exactly 1."""
    counts = np.diff(core.use_ptr)
    if counts.size and int(counts.max()) > 1:
        return False
    return bool(np.all(core.use_amount == 1))


def primary_resource(core: Core) -> IntArray:
    """Per arc the tightest resource that only ever has amount 1 (or -1)."""
    n_r = core.n_resources
    non_unit = np.zeros(n_r, dtype=bool)
    non_unit[core.use_res[core.use_amount != 1]] = True
    # a cut row spans several options: routing flow through it would drop
    # the place capacities it sums over
    non_unit[n_r - core.n_cuts :] = True
    use_arc = core.use_arc()
    ok = ~non_unit[core.use_res]
    arcs, res = use_arc[ok], core.use_res[ok]
    prim = np.full(core.n_arcs, -1, dtype=np.int64)
    if arcs.size:
        o = np.lexsort((res, core.capacity[res], arcs))
        arcs, res = arcs[o], res[o]
        first = np.ones(arcs.size, dtype=bool)
        first[1:] = arcs[1:] != arcs[:-1]
        prim[arcs[first]] = res[first]
    return prim


def solve_flow(core: Core, weight: IntArray | None = None) -> FlowResult | None:
    """Solve the flow problem; None when costs are out of the solver's range.

    `weight` replaces the arc weights (e.g. weights priced by budget duals);
    the returned bound is then in those weights, not a bound of the problem.
    """
    from ortools.graph.python import min_cost_flow

    n, m = core.n_items, core.n_arcs
    exact = is_flow_core(core) and weight is None
    if n == 0:
        return FlowResult(np.zeros(0, dtype=np.int64), core.const, exact)
    prim = primary_resource(core)
    src, sink = 0, 1
    item_node = 2 + np.arange(n, dtype=np.int64)
    res_node = 2 + n + np.arange(core.n_resources, dtype=np.int64)

    heads_arc = np.full(m, sink, dtype=np.int64)
    heads_arc[prim >= 0] = res_node[prim[prim >= 0]]
    optional = np.flatnonzero(~core.must)
    used_res = np.flatnonzero(np.bincount(prim[prim >= 0], minlength=core.n_resources))
    tails = np.concatenate(
        [item_node[core.arc_item], np.full(n, src), item_node[optional], res_node[used_res]]
    )
    heads = np.concatenate(
        [heads_arc, item_node, np.full(optional.size, sink), np.full(used_res.size, sink)]
    )
    caps = np.concatenate(
        [
            np.ones(m, dtype=np.int64),
            np.ones(n, dtype=np.int64),
            np.ones(optional.size, dtype=np.int64),
            np.minimum(core.capacity[used_res], n),
        ]
    )
    w = core.weight if weight is None else weight
    costs = np.concatenate([-w, np.zeros(n + optional.size + used_res.size, dtype=np.int64)])
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    supplies = np.zeros(2 + n + core.n_resources, dtype=np.int64)
    supplies[src], supplies[sink] = n, -n
    smcf.set_nodes_supplies(np.arange(supplies.size, dtype=np.int32), supplies)
    status = smcf.solve()
    if status == smcf.INFEASIBLE:
        raise CoreInfeasible("the must-assign items cannot all be placed (min-cost flow)")
    if status != smcf.OPTIMAL:
        return None
    flows = smcf.flows(np.arange(m, dtype=np.int32))
    chosen = np.full(n, -1, dtype=np.int64)
    on = np.flatnonzero(flows > 0)
    chosen[core.arc_item[on]] = on
    return FlowResult(chosen=chosen, bound=core.const - int(smcf.optimal_cost()), exact=exact)
