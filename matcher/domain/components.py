"""Solve an arc-level problem per independent component, reusing unchanged parts.

Items are linked when they may use the same resource; the objective is a sum over
these components, so each can be solved on its own.  A component whose items, arcs
and capacities equal those of a base problem, and that no other base item could
reach, keeps its part of the base answer when that part was proven optimal.  Both a
first match (no base) and a what-if re-solve use this; it knows nothing of the domain.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

import numpy as np

from matcher.problem import AssignmentProblem
from matcher.solution import Solution, SolveOptions, Status, objective_of
from matcher.solve import solve

# The least time a component with budget rows gets when the limit leaves it
# (`solve_by_components`): twice the least search time of the strategies.
MIN_PART_S = 0.5


def _arc_signatures(p: AssignmentProblem) -> dict[str, tuple[Any, ...]]:
    """Per item: whether it must be assigned, its penalty, and its arcs as (option,
    value, pinned, forbidden, ((resource, amount), ...)), sorted.  A pin changes only
    the first of these, and must still keep a component from being reused."""
    per: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    res = p.resource_ids
    for a in range(p.n_arcs):
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        uses = tuple(
            sorted((res[int(p.use_resource[k])], int(p.use_amount[k])) for k in range(lo, hi))
        )
        per[p.item_ids[int(p.arc_item[a])]].append(
            (
                p.option_ids[int(p.arc_option[a])],
                int(p.arc_value[a]),
                bool(p.pinned[a]),
                bool(p.forbidden[a]),
                uses,
            )
        )
    item_ix = p.item_index()
    return {
        k: (
            bool(p.must_assign[item_ix[k]]),
            int(p.unassigned_penalty[item_ix[k]]),
            tuple(sorted(v)),
        )
        for k, v in per.items()
    }


_SIG_CACHE: dict[int, tuple[AssignmentProblem, dict[str, tuple[Any, ...]]]] = {}


def _cached_signatures(p: AssignmentProblem) -> dict[str, tuple[Any, ...]]:
    """The base problem is re-used by many what-ifs; keep its signatures (a small cache
    keyed by identity, holding the problem so the id stays valid)."""
    hit = _SIG_CACHE.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    if len(_SIG_CACHE) >= 4:
        _SIG_CACHE.pop(next(iter(_SIG_CACHE)))
    sig = _arc_signatures(p)
    _SIG_CACHE[id(p)] = (p, sig)
    return sig


def _components(p: AssignmentProblem) -> np.ndarray:
    """Component label per item (items linked by sharing a resource)."""
    parent = list(range(p.n_items + p.n_resources))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    ua = p.use_arc_index()
    for a, r in zip(ua.tolist(), p.use_resource.tolist(), strict=True):
        i = int(p.arc_item[a])
        ri, rj = find(i), find(p.n_items + int(r))
        if ri != rj:
            parent[ri] = rj
    return np.asarray([find(i) for i in range(p.n_items)], dtype=np.int64)


def _transportation_items(p: AssignmentProblem) -> np.ndarray:
    """Per item: every arc uses at most one resource, by exactly 1 (no budget row)."""
    counts = np.diff(p.use_ptr)
    ok_use = p.use_amount == 1
    bad_uses = np.bincount(p.use_arc_index(), weights=~ok_use, minlength=p.n_arcs)
    simple_arc = (counts <= 1) & (bad_uses == 0)
    bad_arcs = np.bincount(p.arc_item, weights=~simple_arc, minlength=p.n_items)
    out: np.ndarray = bad_arcs == 0
    return out


def _subproblem(p: AssignmentProblem, items: np.ndarray) -> AssignmentProblem:
    keep_item = np.zeros(p.n_items, dtype=bool)
    keep_item[items] = True
    arcs = np.flatnonzero(keep_item[p.arc_item])
    new_item = np.full(p.n_items, -1, dtype=np.int64)
    new_item[items] = np.arange(items.size)
    counts = np.diff(p.use_ptr)[arcs]
    starts = p.use_ptr[arcs]
    idx = (
        np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        + np.arange(int(counts.sum()))
        if arcs.size
        else np.zeros(0, dtype=np.int64)
    )
    used_res = np.unique(p.use_resource[idx]) if idx.size else np.zeros(0, dtype=np.int32)
    new_res = np.full(p.n_resources, -1, dtype=np.int64)
    new_res[used_res] = np.arange(used_res.size)
    used_opt = np.unique(p.arc_option[arcs]) if arcs.size else np.zeros(0, dtype=np.int32)
    new_opt = np.full(p.n_options, -1, dtype=np.int64)
    new_opt[used_opt] = np.arange(used_opt.size)
    return AssignmentProblem.create(
        items=[p.item_ids[int(i)] for i in items],
        options=[p.option_ids[int(o)] for o in used_opt],
        resources=[p.resource_ids[int(r)] for r in used_res],
        capacity=p.capacity[used_res],
        arc_item=new_item[p.arc_item[arcs]].astype(np.int32),
        arc_option=new_opt[p.arc_option[arcs]].astype(np.int32),
        arc_value=p.arc_value[arcs],
        use_ptr=np.concatenate(([0], np.cumsum(counts))),
        use_resource=new_res[p.use_resource[idx]].astype(np.int32),
        use_amount=p.use_amount[idx],
        must_assign=p.must_assign[items],
        unassigned_penalty=p.unassigned_penalty[items],
        pinned=p.pinned[arcs],
        forbidden=p.forbidden[arcs],
        sense=p.sense,
        name=p.name,
    )


def solve_by_components(
    new: AssignmentProblem,
    base: AssignmentProblem | None,
    base_solution: Solution | None,
    options: SolveOptions,
    base_proven: frozenset[str] = frozenset(),
) -> tuple[Solution, frozenset[str]]:
    """Solve `new` component by component; reuse base answers of unchanged components
    whose items were proven optimal in the base.  Returns the solution and the items
    whose component was proven optimal (for the next re-solve)."""
    t0 = time.perf_counter()
    labels = _components(new)
    members: dict[int, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels.tolist()):
        members[lab].append(i)
    res_of_item: dict[int, set[str]] = defaultdict(set)
    for a, r in zip(new.use_arc_index().tolist(), new.use_resource.tolist(), strict=True):
        res_of_item[int(new.arc_item[a])].add(new.resource_ids[int(r)])
    if base is not None and base_solution is not None and base_proven:
        sig_new = _arc_signatures(new)
        sig_old = _cached_signatures(base)
        cap_old = dict(zip(base.resource_ids, base.capacity.tolist(), strict=True))
        cap_new = dict(zip(new.resource_ids, new.capacity.tolist(), strict=True))
        old_item_res: dict[str, set[str]] = defaultdict(set)
        for item, (_, _, arcs) in sig_old.items():
            for *_, uses in arcs:
                for r, _ in uses:
                    old_item_res[r].add(item)
    base_assign = dict(base_solution.assignments) if base_solution is not None else {}
    assignments: dict[str, str] = {}
    proven: set[str] = set()
    bound_slack: float | None = 0.0
    solved_items = 0
    reused = 0
    # Components without budget rows are transportation problems that min-cost flow
    # solves exactly in one go: solving them together saves the fixed cost of a solve
    # per component (thousands of one-child components at national size).  The
    # others follow, the largest first, so that they get the most of the time limit.
    simple = _transportation_items(new)
    flow_batch: list[int] = []
    todo: list[list[int]] = []
    for its in sorted(members.values(), key=lambda v: (-len(v), v[0])):
        ids = {new.item_ids[i] for i in its}
        resources = set().union(*(res_of_item[i] for i in its))
        if (
            base_proven
            and ids <= base_proven
            and all(sig_new.get(k) == sig_old.get(k) for k in ids)
            and all(cap_old.get(r) == cap_new[r] for r in resources)
            and all(old_item_res[r] <= ids for r in resources)
        ):
            for k in ids:
                if k in base_assign:
                    assignments[k] = base_assign[k]
            proven |= ids
            reused += 1
            continue
        if bool(simple[its].all()):
            flow_batch.extend(its)
        else:
            todo.append(its)
    if flow_batch:
        todo.insert(0, sorted(flow_batch))
    items_left = sum(len(its) for its in todo)
    for its in todo:
        ids = {new.item_ids[i] for i in its}
        sub = _subproblem(new, np.asarray(its, dtype=np.int64))
        warm = {k: v for k, v in base_assign.items() if k in ids}
        # Each part gets its share (by items) of the time still left, so that the parts
        # together keep the limit; time a part does not use passes to the next ones.  A
        # solve with no time left still returns its quick feasible answer.
        left = max(0.0, options.time_limit_s - (time.perf_counter() - t0))
        # ... but never less than a search needs while the limit allows it: a share
        # below the solver's least search time gave a small component with budget rows
        # no search at all, only its first answer and the flow bound (the national
        # demo's match stopped at 2 s of 10 with a 26 % gap)
        left = min(left, max(left * len(its) / max(1, items_left), MIN_PART_S))
        items_left -= len(its)
        sol = solve(
            sub,
            replace(
                options,
                time_limit_s=left,
                warm_start=Solution(Status.FEASIBLE, None, None, None, warm, (), 0.0, ""),
            ),
        )
        solved_items += len(its)
        if not sol.status.has_solution:
            return sol, frozenset()
        if sol.status is Status.OPTIMAL:
            proven |= ids
        if bound_slack is not None and sol.best_bound is not None and sol.objective is not None:
            bound_slack += max(0.0, float(sol.best_bound) - float(sol.objective))
        elif sol.status is not Status.OPTIMAL:
            bound_slack = None
        assignments.update(sol.assignments)
    look = new.arc_lookup()
    item_ix, opt_ix = new.item_index(), new.option_index()
    chosen = [look[(item_ix[k], opt_ix[v])] for k, v in assignments.items()]
    obj = objective_of(new, chosen)
    unassigned = tuple(k for k in new.item_ids if k not in assignments)
    all_optimal = len(proven) == new.n_items
    bound = None if bound_slack is None else obj + bound_slack
    return (
        Solution(
            status=Status.OPTIMAL if all_optimal else Status.FEASIBLE,
            objective=obj,
            best_bound=bound,
            gap=None if bound is None else abs(bound - obj) / max(1.0, abs(obj)),
            assignments=assignments,
            unassigned=unassigned,
            wall_time_s=time.perf_counter() - t0,
            strategy="components",
            stats={
                "components": len(members),
                "components_reused": reused,
                "items_resolved": solved_items,
                "items_proven_optimal": len(proven),
                "items_solved_as_one_flow": len(flow_batch),
            },
        ),
        frozenset(proven),
    )
