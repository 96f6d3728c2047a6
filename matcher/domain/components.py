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
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matcher.problem import AssignmentProblem, Sense
from matcher.solution import Solution, SolveOptions, Status, objective_of
from matcher.solve import solve

# The least time a component with budget rows gets when the limit leaves it
# (`solve_by_components`): twice the least search time of the strategies.
MIN_PART_S = 0.5

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection of uint64 that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    out: np.ndarray = x ^ (x >> np.uint64(31))
    return out


def _str_hashes(ids: tuple[str, ...], salt: int) -> np.ndarray:
    # Python's string hash is fixed within one process, where base and new are compared
    return np.fromiter((hash((s, salt)) & 0xFFFFFFFFFFFFFFFF for s in ids), np.uint64, len(ids))


def _segment_sums(values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Sum (mod 2**64) of `values[ptr[k]:ptr[k+1]]` per k."""
    cs = np.concatenate((np.zeros(1, np.uint64), np.cumsum(values, dtype=np.uint64)))
    out: np.ndarray = cs[ptr[1:]] - cs[ptr[:-1]]
    return out


def _item_hashes(p: AssignmentProblem, salt: int, arcs: np.ndarray | None = None) -> np.ndarray:
    """Per item, a 64-bit hash of its arcs as a set of (option, value, pinned, forbidden,
    {(resource, amount)}): sums of mixed terms, so that the order of arcs and of uses does
    not matter and a change of any one field changes the hash.  Only `arcs` (all when
    None) are hashed; items without any of them get 0."""
    s = np.uint64(salt)
    h_res = _str_hashes(p.resource_ids, salt)
    h_opt = _str_hashes(p.option_ids, salt)
    uidx: np.ndarray | slice
    if arcs is None:
        arcs = np.arange(p.n_arcs)
        ptr, uidx = p.use_ptr, slice(None)
    else:
        counts = np.diff(p.use_ptr)[arcs]
        ptr = np.concatenate(([0], np.cumsum(counts)))
        uidx = gather_ranges(p.use_ptr[arcs], counts)
    use = _mix(h_res[p.use_resource[uidx]] ^ _mix(p.use_amount[uidx].astype(np.uint64) + s))
    uses = _segment_sums(use, ptr)
    flags = p.pinned[arcs].astype(np.uint64) * np.uint64(2) + p.forbidden[arcs].astype(np.uint64)
    arc = _mix(h_opt[p.arc_option[arcs]] ^ _mix(p.arc_value[arcs].astype(np.uint64) ^ s))
    arc = _mix(_mix(arc + uses) + flags)
    items = p.arc_item[arcs]
    order = np.argsort(items, kind="stable")
    iptr = np.searchsorted(items[order], np.arange(p.n_items + 1))
    item: np.ndarray = _segment_sums(arc[order], iptr)
    return item


def gather_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indices `starts[k] .. starts[k] + counts[k] - 1`, concatenated over k."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out: np.ndarray = np.repeat(starts - offsets, counts) + np.arange(total)
    return out


@dataclass(frozen=True)
class _Signatures:
    """Per item (in the problem's item order): whether it must be assigned, its penalty,
    its number of arcs and two independent 64-bit hashes of its arcs (a pin changes only
    the first, and must still keep a component from being reused).  Per resource its
    capacity; per use, the item that may use the resource."""

    item_index: dict[str, int]
    must: np.ndarray
    penalty: np.ndarray
    n_arcs: np.ndarray
    h1: np.ndarray
    h2: np.ndarray
    resource_index: dict[str, int]
    capacity: np.ndarray
    use_item: np.ndarray
    use_resource: np.ndarray


_MEMO: dict[tuple[object, ...], tuple[tuple[np.ndarray, ...], object, object]] = {}


def _memo(kind: str, p: AssignmentProblem, arrays: tuple[np.ndarray, ...], compute: Any) -> Any:
    """`compute(p)`, kept while the same arrays (by identity) come back: a what-if whose
    patch kept the base's arcs hands over the base's arrays, and their components and
    hashes are the base's.  Ids, the sizes and the (absent) pins are compared too."""
    extra = (
        kind,
        p.n_items,
        p.n_resources,
        p.option_ids,
        p.resource_ids,
        bool(p.pinned.any()),
        bool(p.forbidden.any()),
        bool(p.must_assign.any()),
    )
    key = (kind, *map(id, arrays))
    hit = _MEMO.get(key)
    if (
        hit is not None
        and all(a is b for a, b in zip(hit[0], arrays, strict=True))
        and hit[1] == extra
    ):
        _MEMO[key] = _MEMO.pop(key)  # most recently used last: the base's stay
        return hit[2]
    # three problems' worth of the four kinds (the arrays are held here)
    if len(_MEMO) >= 12:
        _MEMO.pop(next(iter(_MEMO)))
    value = compute(p)
    _MEMO[key] = (arrays, extra, value)
    return value


def _arc_arrays(p: AssignmentProblem) -> tuple[np.ndarray, ...]:
    return (p.arc_item, p.arc_option, p.arc_value, p.use_ptr, p.use_resource, p.use_amount)


def _full_hashes(p: AssignmentProblem) -> tuple[np.ndarray, np.ndarray]:
    if bool(p.pinned.any()) or bool(p.forbidden.any()):
        return _item_hashes(p, 1), _item_hashes(p, 2)
    out: tuple[np.ndarray, np.ndarray] = _memo(
        "hashes", p, _arc_arrays(p), lambda q: (_item_hashes(q, 1), _item_hashes(q, 2))
    )
    return out


def _signatures(p: AssignmentProblem) -> _Signatures:
    return _Signatures(
        item_index=p.item_index(),
        must=p.must_assign,
        penalty=p.unassigned_penalty,
        n_arcs=np.bincount(p.arc_item, minlength=p.n_items),
        h1=_full_hashes(p)[0],
        h2=_full_hashes(p)[1],
        resource_index=p.resource_index(),
        capacity=p.capacity,
        use_item=p.arc_item[p.use_arc_index()],
        use_resource=p.use_resource,
    )


_SIG_CACHE: dict[int, tuple[AssignmentProblem, _Signatures]] = {}


def _cached_signatures(p: AssignmentProblem) -> _Signatures:
    """The base problem is re-used by many what-ifs; keep its signatures (a small cache
    keyed by identity, holding the problem so the id stays valid)."""
    hit = _SIG_CACHE.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    if len(_SIG_CACHE) >= 4:
        _SIG_CACHE.pop(next(iter(_SIG_CACHE)))
    sig = _signatures(p)
    _SIG_CACHE[id(p)] = (p, sig)
    return sig


def prepare_base(p: AssignmentProblem) -> None:
    """Compute now what re-solves against base `p` read (its signatures and hashes, its
    components, which items are plain transportation, each item's best): a server does
    this once after the base answer, so that no what-if pays for it."""
    _cached_signatures(p)
    _memo("components", p, (p.arc_item, p.use_ptr, p.use_resource), _components)
    _memo("transport", p, _arc_arrays(p), _transportation_items)
    _best_per_item(p)


def _components(p: AssignmentProblem) -> np.ndarray:
    """Component label per item and then per resource (items linked by sharing a
    resource); labels are consecutive from 0."""
    n = p.n_items + p.n_resources
    rows = p.arc_item[p.use_arc_index()].astype(np.int64)
    cols = p.n_items + p.use_resource.astype(np.int64)
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph.tocsr(), directed=False)
    out: np.ndarray = labels.astype(np.int64)
    return out


def _labels_from_base(
    new: AssignmentProblem, base: AssignmentProblem, kept: np.ndarray
) -> np.ndarray | None:
    """Labels as `_components` gives, but built from the base's components (when they
    are known): each kept item and each base resource starts in its base component,
    every other item or resource in one of its own, and the labels that a use of `new`
    links are merged.  Every use's item and resource end up with one label, so each
    label is a union of components (a component the changes split stays one label):
    enough for solving per label, and far cheaper than the components of 700k arcs."""
    hit = _MEMO.get(("components", *map(id, (base.arc_item, base.use_ptr, base.use_resource))))
    if hit is None or not all(
        a is b
        for a, b in zip(hit[0], (base.arc_item, base.use_ptr, base.use_resource), strict=True)
    ):
        return None
    base_labels = hit[2]
    if not isinstance(base_labels, np.ndarray):
        return None
    base_items, base_res = base.item_index(), base.resource_index()
    n_base = int(base_labels.max()) + 1 if base_labels.size else 0
    nxt = n_base
    lab = np.empty(new.n_items + new.n_resources, dtype=np.int64)
    src_item = np.fromiter(
        (base_items.get(k, -1) if kept[i] else -1 for i, k in enumerate(new.item_ids)),
        np.int64,
        new.n_items,
    )
    src_res = np.fromiter(
        (base_res.get(r, -1) for r in new.resource_ids), np.int64, new.n_resources
    )
    src = np.concatenate((src_item, np.where(src_res >= 0, base.n_items + src_res, -1)))
    own = src < 0
    lab[~own] = base_labels[src[~own]]
    lab[own] = nxt + np.arange(int(own.sum()))
    n_lab = nxt + int(own.sum())
    a = lab[new.arc_item[new.use_arc_index()]]
    b = lab[new.n_items + new.use_resource.astype(np.int64)]
    diff = a != b
    if bool(diff.any()):
        graph = coo_matrix(
            (np.ones(int(diff.sum()), dtype=np.int8), (a[diff], b[diff])), shape=(n_lab, n_lab)
        )
        _, merged = connected_components(graph.tocsr(), directed=False)
        lab = merged[lab]
    # consecutive from 0, as `_components` gives them
    _, out = np.unique(lab, return_inverse=True)
    res: np.ndarray = out.astype(np.int64)
    return res


def _reusable(
    new: AssignmentProblem,
    base: _Signatures,
    proven: frozenset[str],
    labels: np.ndarray,
    kept: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per component label: whether it is unchanged from the base, and whether it is
    unchanged and was proven optimal there.  Unchanged: every item has the same
    signature in the base, every resource the same capacity, and no base item outside
    the component could use one of its resources.  With `kept` (per new item: its arcs
    and their uses before redundant ones were dropped are the base's, as a patched
    compile knows) no hashing is needed; a base item then also marks its own component
    when one of its base resources changed capacity or lies elsewhere now (a use
    dropped as redundant leaves no trace in the new arcs)."""
    n_lab = int(labels.max()) + 1 if labels.size else 0
    item_labels = labels[: new.n_items]
    old_of_item = np.fromiter(
        (base.item_index.get(k, -1) for k in new.item_ids), np.int64, new.n_items
    )
    known = old_of_item >= 0
    was_proven = np.fromiter((k in proven for k in new.item_ids), bool, new.n_items)
    unproven = np.zeros(n_lab, dtype=bool)
    unproven[item_labels[~was_proven]] = True
    bad = np.zeros(n_lab, dtype=bool)
    bad[item_labels[~known]] = True
    new_of_res = np.full(len(base.resource_index) + 1, -1, dtype=np.int64)
    old_of_res = np.fromiter(
        (base.resource_index.get(r, -1) for r in new.resource_ids), np.int64, new.n_resources
    )
    res_known = old_of_res >= 0
    new_of_res[old_of_res[res_known]] = np.flatnonzero(res_known)
    cap_same = res_known.copy()
    cap_same[res_known] = base.capacity[old_of_res[res_known]] == new.capacity[res_known]
    bad[labels[new.n_items :][~cap_same]] = True
    # base uses of resources that still exist: the base item must sit in the same component
    r_new = new_of_res[base.use_resource]
    alive = r_new >= 0
    res_label = labels[new.n_items + r_new[alive]]
    new_of_item = np.full(len(base.item_index), -1, dtype=np.int64)
    new_of_item[old_of_item[known]] = np.flatnonzero(known)
    i_new = new_of_item[base.use_item[alive]]
    item_label = np.where(i_new >= 0, labels[np.maximum(i_new, 0)], -1)
    bad[res_label[item_label != res_label]] = True
    if kept is not None:
        moved = (item_label >= 0) & ((item_label != res_label) | ~cap_same[r_new[alive]])
        bad[item_label[moved]] = True
        bad[item_labels[~kept]] = True
        look = ~bad[item_labels]
        o = old_of_item[look]
        same = (base.must[o] == new.must_assign[look]) & (
            base.penalty[o] == new.unassigned_penalty[look]
        )
        bad[item_labels[look][~same]] = True
        return ~bad, ~bad & ~unproven
    # hash last, and only the arcs of components that can still be reused
    look = ~bad[item_labels]
    arcs = np.flatnonzero(look[new.arc_item])
    known_hashes = _MEMO.get(("hashes", *map(id, _arc_arrays(new))))
    if known_hashes is not None and not (new.pinned.any() or new.forbidden.any()):
        h1, h2 = _full_hashes(new)
    else:
        h1, h2 = _item_hashes(new, 1, arcs), _item_hashes(new, 2, arcs)
    o = old_of_item[look]
    same = (
        (base.must[o] == new.must_assign[look])
        & (base.penalty[o] == new.unassigned_penalty[look])
        & (base.n_arcs[o] == np.bincount(new.arc_item, minlength=new.n_items)[look])
        & (base.h1[o] == h1[look])
        & (base.h2[o] == h2[look])
    )
    bad[item_labels[look][~same]] = True
    return ~bad, ~bad & ~unproven


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
    out: np.ndarray = _memo("best", p, (p.arc_item, p.arc_value), compute)
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
    `_reusable`."""
    t0 = time.perf_counter()
    derived = (
        _labels_from_base(new, base, kept)
        if kept is not None
        and base is not None
        and _MEMO.get(("components", *map(id, (new.arc_item, new.use_ptr, new.use_resource))))
        is None
        else None
    )
    labels: np.ndarray = (
        derived
        if derived is not None
        else _memo("components", new, (new.arc_item, new.use_ptr, new.use_resource), _components)
    )
    item_labels = labels[: new.n_items]
    order = np.argsort(item_labels, kind="stable")
    cuts = np.flatnonzero(np.diff(item_labels[order])) + 1
    groups = np.split(order, cuts) if order.size else []
    if base is not None and base_solution is not None:
        unchanged, reusable = _reusable(new, _cached_signatures(base), base_proven, labels, kept)
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
    simple: np.ndarray = _memo("transport", new, _arc_arrays(new), _transportation_items)
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
