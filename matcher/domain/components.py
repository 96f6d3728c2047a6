"""Solve an arc-level problem per independent component, reusing unchanged parts.

Items are linked when they may use the same resource; the objective is a sum over
these components, so each can be solved on its own.  A component whose items, arcs
and capacities equal those of a base problem, and that no other base item could
reach, keeps its part of the base answer: proven optimal when it was proven there, else
unproven (solving it again would only show moves the changes did not cause).  A changed
component without time for the solver keeps the base answer repaired (`warm_answer`).
Both a first match (no base) and a what-if re-solve use this; it knows nothing of the
domain.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import replace

import numpy as np

from matcher.domain.component_reuse import (
    arc_arrays,
    base_signatures,
    components_of,
    labels_from_base,
    memo,
    memo_has,
    unchanged_components,
)
from matcher.problem import AssignmentProblem, Sense
from matcher.solution import Solution, SolveOptions, Status, objective_of
from matcher.solve import solve

# The least time a component with budget rows gets when the limit leaves it
# (`solve_by_components`): twice the least search time of the strategies.
MIN_PART_S = 0.5


def prepare_base(p: AssignmentProblem) -> None:
    """Compute now what re-solves against base `p` read (its signatures and hashes, its
    components, which items are plain transportation, each item's best): a server does
    this once after the base answer, so that no what-if pays for it."""
    base_signatures(p)
    memo("components", p, (p.arc_item, p.use_ptr, p.use_resource), components_of)
    memo("transport", p, arc_arrays(p), _transportation_items)
    _best_per_item(p)


def _transportation_items(p: AssignmentProblem) -> np.ndarray:
    """Per item: every arc uses at most one resource, by exactly 1 (no budget row)."""
    counts = np.diff(p.use_ptr)
    # an arc with one use: that use's amount is 1 (read at the arc's first use)
    first = np.minimum(p.use_ptr[:-1], max(0, p.use_amount.size - 1))
    one = p.use_amount[first] == 1 if p.use_amount.size else np.zeros(p.n_arcs, dtype=bool)
    simple_arc = (counts == 0) | ((counts == 1) & one)
    out: np.ndarray = np.ones(p.n_items, dtype=bool)
    out[p.arc_item[~simple_arc]] = False
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
    # a part of a valid problem is valid (and `solve` validates what it gets)
    return AssignmentProblem(
        item_ids=tuple(p.item_ids[i] for i in items.tolist()),
        must_assign=p.must_assign[items],
        unassigned_penalty=p.unassigned_penalty[items],
        option_ids=tuple(p.option_ids[o] for o in used_opt.tolist()),
        resource_ids=tuple(p.resource_ids[r] for r in used_res.tolist()),
        capacity=p.capacity[used_res],
        arc_item=new_item[p.arc_item[arcs]].astype(np.int32),
        arc_option=new_opt[p.arc_option[arcs]].astype(np.int32),
        arc_value=p.arc_value[arcs],
        use_ptr=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        use_resource=new_res[p.use_resource[idx]].astype(np.int32),
        use_amount=p.use_amount[idx],
        pinned=p.pinned[arcs],
        forbidden=p.forbidden[arcs],
        sense=p.sense,
        name=p.name,
        meta=p.meta,
    )


def _chosen_arcs(p: AssignmentProblem, assignments: dict[str, str]) -> np.ndarray:
    """The arc of every assigned item that has an arc to its option (an item has at
    most one arc per option); pairs without an arc are left out."""
    item_ix, opt_ix = p.item_index(), p.option_index()
    pick = np.full(p.n_items, -1, dtype=np.int64)
    for k, v in assignments.items():
        i, o = item_ix.get(k), opt_ix.get(v)
        if i is not None and o is not None:
            pick[i] = o
    out: np.ndarray = np.flatnonzero(pick[p.arc_item] == p.arc_option)
    return out


# Seconds per arc the solver needs before it has a first answer on a component with
# budget rows (core, min-cost flow, repair; about 2 s for the 6,400-item component of
# 450k arcs at 10,000 children on the shared 2-core machine).  With less time than this
# a re-solve keeps the repaired base answer instead of starting the solver.
SOLVER_START_S_PER_ARC = 4e-6


def warm_answer(
    p: AssignmentProblem, warm: dict[str, str], items: np.ndarray | None = None
) -> tuple[dict[str, str], float, int] | None:
    """The base answer on `p` (on `items` only, which must be whole components), repaired
    and filled, with an upper bound on the best objective there and the objective there
    (MAXIMIZE); None when the repair cannot keep the problem's pins.

    Repair: pairs without an arc (or on a forbidden arc) are dropped, then per
    over-full resource the least valuable arcs using it until it fits.  Fill: the free
    items take, most valuable first, an arc whose every use still fits.  The bound is
    the sum over items of the best each could get (its best arc, or its penalty)."""
    if p.sense is not Sense.MAXIMIZE or bool(p.pinned.any()):
        return None
    scope = np.ones(p.n_items, dtype=bool)
    if items is not None:
        scope[:] = False
        scope[items] = True
    arc_in = scope[p.arc_item]
    use_arc = p.use_arc_index()
    chosen = np.zeros(p.n_arcs, dtype=bool)
    chosen[_chosen_arcs(p, warm)] = True
    chosen &= ~p.forbidden & arc_in

    def usage() -> np.ndarray:
        on = chosen[use_arc]
        out: np.ndarray = np.bincount(
            p.use_resource[on], weights=p.use_amount[on], minlength=p.n_resources
        ).astype(np.int64)
        return out

    used = usage()
    for r in np.flatnonzero(used > p.capacity).tolist():
        excess = int(used[r] - p.capacity[r])
        if excess <= 0:
            continue  # an earlier drop made room here too
        on = (p.use_resource == r) & chosen[use_arc]
        arcs, amts = use_arc[on], p.use_amount[on]
        order = np.argsort(p.arc_value[arcs], kind="stable")
        k = int(np.searchsorted(np.cumsum(amts[order]), excess)) + 1
        chosen[arcs[order[:k]]] = False
        used = usage()
    assigned = np.zeros(p.n_items, dtype=bool)
    assigned[p.arc_item[chosen]] = True
    residual = p.capacity - used
    gain = p.arc_value + p.unassigned_penalty[p.arc_item]
    fits = p.use_amount <= residual[p.use_resource]
    misfit = np.bincount(use_arc[~fits], minlength=p.n_arcs) > 0
    cand = np.flatnonzero(arc_in & ~assigned[p.arc_item] & ~p.forbidden & ~misfit & (gain > 0))
    for a in cand[np.argsort(-gain[cand], kind="stable")].tolist():
        i = int(p.arc_item[a])
        if assigned[i]:
            continue
        lo, hi = int(p.use_ptr[a]), int(p.use_ptr[a + 1])
        res, amt = p.use_resource[lo:hi], p.use_amount[lo:hi]
        if bool(np.all(amt <= residual[res])):
            residual[res] -= amt
            assigned[i] = True
            chosen[a] = True
    if bool((p.must_assign & ~assigned & scope).any()):
        return None
    penalty = p.unassigned_penalty
    bound = float(_best_per_item(p)[scope].sum())
    picked = np.flatnonzero(chosen)
    objective = int(p.arc_value[picked].sum()) - int(penalty[scope & ~assigned].sum())
    out = {p.item_ids[int(p.arc_item[a])]: p.option_ids[int(p.arc_option[a])] for a in picked}
    return out, bound, objective


def _best_per_item(p: AssignmentProblem) -> np.ndarray:
    """Per item the most it can add: its best arc's value, or minus its penalty."""

    def compute(q: AssignmentProblem) -> np.ndarray:
        best = np.full(q.n_items, -np.inf)
        np.maximum.at(best, q.arc_item, q.arc_value.astype(np.float64))
        out: np.ndarray = np.maximum(best, -q.unassigned_penalty.astype(np.float64))
        return out

    if bool(p.unassigned_penalty.any()):
        return compute(p)
    out: np.ndarray = memo("best", p, (p.arc_item, p.arc_value), compute)
    return out


def _slack(p: AssignmentProblem, chosen: np.ndarray, items: np.ndarray) -> float:
    """How far the best each of `items` could get (its best arc, or its penalty) lies
    above what it gets in `chosen` (MAXIMIZE): a valid bound on what solving them again
    could add."""
    best = _best_per_item(p)
    got = -p.unassigned_penalty.astype(np.float64)
    got[p.arc_item[chosen]] = p.arc_value[chosen]
    return float((best[items] - got[items]).sum())


# Parts solved before, by their content (`_part_key`): the search for what would help
# re-solves many neighbourhoods whose untouched components are the same problem each
# time.  Only proven optimal answers are kept, and a part is the same only when every
# array, id, the warm start and the options but the time limit are the same: the solve
# is deterministic, so it would give the same answer again.
_SOLVED: OrderedDict[bytes, Solution] = OrderedDict()
_SOLVED_LOCK = threading.Lock()  # a web server may match in several threads
SOLVED_MAX = 512
# parts this large are not kept (the answer's dict and the hashing would cost more
# than they save; the search's parts have a few thousand arcs at most)
SOLVED_MAX_ARCS = 20_000


def _part_key(p: AssignmentProblem, warm: dict[str, str], options: SolveOptions) -> bytes:
    """A digest of everything the solve of part `p` reads but the time limit."""
    h = hashlib.blake2b(digest_size=32)
    for a in (
        p.must_assign,
        p.unassigned_penalty,
        p.capacity,
        p.arc_item,
        p.arc_option,
        p.arc_value,
        p.use_ptr,
        p.use_resource,
        p.use_amount,
        p.pinned,
        p.forbidden,
    ):
        # the dtype and the length too, so that arrays cannot run into each other
        h.update(f"{a.dtype.str}:{a.size};".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    head = (
        p.item_ids,
        p.option_ids,
        p.resource_ids,
        p.sense.value,
        p.name,
        sorted(warm.items()),
        options.relative_gap,
        options.workers,
        options.seed,
        options.strategy,
    )
    h.update(repr(head).encode())
    return h.digest()


def _solve_part(sub: AssignmentProblem, warm: dict[str, str], options: SolveOptions) -> Solution:
    """`solve` of one part with `warm` as its warm start, or the proven answer of the
    same part solved before when that solve took no longer than this one's limit and the
    limit leaves a search its time (`MIN_PART_S`: with less, a new solve may keep its
    first answer unproven)."""
    key = _part_key(sub, warm, options) if sub.n_arcs <= SOLVED_MAX_ARCS else None
    if key is not None:
        with _SOLVED_LOCK:
            hit = _SOLVED.get(key)
            if hit is not None and max(hit.wall_time_s, MIN_PART_S) <= options.time_limit_s:
                _SOLVED.move_to_end(key)
                return hit
    sol = solve(
        sub,
        replace(options, warm_start=Solution(Status.FEASIBLE, None, None, None, warm, (), 0.0, "")),
    )
    if key is not None and sol.status is Status.OPTIMAL:
        with _SOLVED_LOCK:
            _SOLVED[key] = sol
            _SOLVED.move_to_end(key)
            while len(_SOLVED) > SOLVED_MAX:
                _SOLVED.popitem(last=False)
    return sol


def solve_by_components(
    new: AssignmentProblem,
    base: AssignmentProblem | None,
    base_solution: Solution | None,
    options: SolveOptions,
    base_proven: frozenset[str] = frozenset(),
    kept: np.ndarray | None = None,
) -> tuple[Solution, frozenset[str]]:
    """Solve `new` component by component; keep the base answers of unchanged components
    (proven optimal only when they were proven in the base).  Returns the solution and the items
    whose component was proven optimal (for the next re-solve).  `kept`: see
    `component_reuse.unchanged_components`."""
    t0 = time.perf_counter()
    derived = (
        labels_from_base(new, base, kept)
        if kept is not None
        and base is not None
        and not memo_has("components", (new.arc_item, new.use_ptr, new.use_resource))
        else None
    )
    labels: np.ndarray = (
        derived
        if derived is not None
        else memo("components", new, (new.arc_item, new.use_ptr, new.use_resource), components_of)
    )
    item_labels = labels[: new.n_items]
    order = np.argsort(item_labels, kind="stable")
    cuts = np.flatnonzero(np.diff(item_labels[order])) + 1
    groups = np.split(order, cuts) if order.size else []
    if base is not None and base_solution is not None:
        unchanged, reusable = unchanged_components(
            new, base_signatures(base), base_proven, labels, kept
        )
    else:
        unchanged = reusable = np.zeros(int(labels.max()) + 1 if labels.size else 0, dtype=bool)
    kept_unproven: list[int] = []
    base_assign = dict(base_solution.assignments) if base_solution is not None else {}
    assignments: dict[str, str] = {}
    proven: set[str] = set()
    bound_slack: float | None = 0.0
    solved_items = 0
    reused = 0
    kept_warm = 0
    # Components without budget rows are transportation problems that min-cost flow
    # solves exactly in one go: solving them together saves the fixed cost of a solve
    # per component (thousands of one-child components at national size).  The
    # others follow, the largest first, so that they get the most of the time limit.
    simple: np.ndarray = memo("transport", new, arc_arrays(new), _transportation_items)
    flow_batch: list[int] = []
    todo: list[list[int]] = []
    for its_arr in sorted(groups, key=lambda v: (-v.size, int(v[0]))):
        its = its_arr.tolist()
        if reusable[item_labels[its[0]]]:
            for i in its:
                k = new.item_ids[i]
                proven.add(k)
                if k in base_assign:
                    assignments[k] = base_assign[k]
            reused += 1
            continue
        if unchanged[item_labels[its[0]]]:
            # a part the changes did not reach, not proven optimal in the base either:
            # its base answer stays (solving it again would only show moves the
            # changes did not cause), unproven
            for i in its:
                k = new.item_ids[i]
                if k in base_assign:
                    assignments[k] = base_assign[k]
            kept_unproven.extend(its)
            continue
        if bool(simple[its_arr].all()):
            flow_batch.extend(its)
        else:
            todo.append(its)
    if flow_batch:
        todo.insert(0, sorted(flow_batch))
    items_left = sum(len(its) for its in todo)
    arcs_of_item = np.bincount(new.arc_item, minlength=new.n_items)
    for its in todo:
        ids = {new.item_ids[i] for i in its}
        its_arr = np.asarray(its, dtype=np.int64)
        warm = {k: base_assign[k] for k in ids if k in base_assign}
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
        n_arcs = int(arcs_of_item[its_arr].sum())
        if base_solution is not None and left < SOLVER_START_S_PER_ARC * n_arcs:
            # too little time for the solver to start: the repaired base answer
            quick = warm_answer(new, warm, its_arr)
            if quick is not None:
                part, ub, obj_part = quick
                solved_items += len(its)
                kept_warm += 1
                assignments.update(part)
                if bound_slack is not None:
                    bound_slack += max(0.0, ub - obj_part)
                continue
        sub = _subproblem(new, its_arr)
        sol = _solve_part(sub, warm, replace(options, time_limit_s=left))
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
    chosen = _chosen_arcs(new, assignments)
    obj = objective_of(new, chosen.tolist())
    if kept_unproven and bound_slack is not None:
        if new.sense is Sense.MAXIMIZE:
            bound_slack += _slack(new, chosen, np.asarray(kept_unproven, dtype=np.int64))
        else:
            bound_slack = None
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
                "components": len(groups),
                "components_reused": reused,
                "items_resolved": solved_items,
                "items_proven_optimal": len(proven),
                "items_solved_as_one_flow": len(flow_batch),
                "components_kept_warm": kept_warm,
                "items_kept_unproven": len(kept_unproven),
            },
        ),
        frozenset(proven),
    )
