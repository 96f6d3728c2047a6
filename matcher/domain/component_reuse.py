"""What a re-solve reads of its base problem to tell which components it may keep:
per-item signatures (two independent hashes of each item's arcs), component labels
(computed once, or merged from the base's when a patched compile says which items
kept their arcs) and the test of which components are unchanged.  Kept apart from
`components`, which solves; the hashes and labels are plain arrays and know nothing
of the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matcher.problem import AssignmentProblem

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


def positions(
    ids: tuple[str, ...], base_ids: tuple[str, ...], base_index: dict[str, int]
) -> tuple[np.ndarray, bool]:
    """Per id its position in `base_ids` (-1 when not there), and whether `ids` starts
    with `base_ids` (then the positions need no lookup per id)."""
    nb = len(base_ids)
    if ids[:nb] == base_ids:
        out = np.full(len(ids), -1, dtype=np.int64)
        out[:nb] = np.arange(nb)
        return out, True
    return np.fromiter((base_index.get(k, -1) for k in ids), np.int64, len(ids)), False


@dataclass(frozen=True)
class _Signatures:
    """Per item (in the problem's item order): whether it must be assigned, its penalty,
    its number of arcs and two independent 64-bit hashes of its arcs (a pin changes only
    the first, and must still keep a component from being reused).  Per resource its
    capacity; per use, the item that may use the resource."""

    item_ids: tuple[str, ...]
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
    resource_ids: tuple[str, ...]
    # per base item whether it was proven optimal, for the last `proven` set asked
    proven_of: dict[int, tuple[frozenset[str], np.ndarray]] = field(
        default_factory=dict, compare=False
    )

    def positions(self, new: AssignmentProblem) -> tuple[np.ndarray, np.ndarray, bool, bool]:
        """Per item and per resource of `new`, its position in the base (-1 when new),
        and whether `new` starts with the base's items, and with its resources, in the
        base's order (then every base item, or resource, is at its own position). A
        what-if keeps the base's order and adds at the end, so the maps need no lookup
        per id."""
        old_of_item, items_kept = positions(new.item_ids, self.item_ids, self.item_index)
        old_of_res, res_kept = positions(new.resource_ids, self.resource_ids, self.resource_index)
        return old_of_item, old_of_res, items_kept, res_kept

    def was_proven(self, proven: frozenset[str], old_of_item: np.ndarray) -> np.ndarray:
        """Per item of `new` (by `old_of_item`), whether it was proven optimal in the
        base: a new item never was."""
        hit = self.proven_of.get(id(proven))
        if hit is None or hit[0] is not proven:
            self.proven_of.clear()
            flags = np.fromiter((k in proven for k in self.item_ids), bool, len(self.item_ids))
            hit = self.proven_of[id(proven)] = (proven, flags)
        out: np.ndarray = np.zeros(old_of_item.size, dtype=bool)
        known = old_of_item >= 0
        out[known] = hit[1][old_of_item[known]]
        return out


_MEMO: dict[tuple[object, ...], tuple[tuple[np.ndarray, ...], object, object]] = {}


def memo(kind: str, p: AssignmentProblem, arrays: tuple[np.ndarray, ...], compute: Any) -> Any:
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


def arc_arrays(p: AssignmentProblem) -> tuple[np.ndarray, ...]:
    return (p.arc_item, p.arc_option, p.arc_value, p.use_ptr, p.use_resource, p.use_amount)


def _full_hashes(p: AssignmentProblem) -> tuple[np.ndarray, np.ndarray]:
    if bool(p.pinned.any()) or bool(p.forbidden.any()):
        return _item_hashes(p, 1), _item_hashes(p, 2)
    out: tuple[np.ndarray, np.ndarray] = memo(
        "hashes", p, arc_arrays(p), lambda q: (_item_hashes(q, 1), _item_hashes(q, 2))
    )
    return out


def _signatures(p: AssignmentProblem) -> _Signatures:
    return _Signatures(
        item_ids=p.item_ids,
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
        resource_ids=p.resource_ids,
    )


_SIG_CACHE: dict[int, tuple[AssignmentProblem, _Signatures]] = {}


def base_signatures(p: AssignmentProblem) -> _Signatures:
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


def components_of(p: AssignmentProblem) -> np.ndarray:
    """Component label per item and then per resource (items linked by sharing a
    resource); labels are consecutive from 0."""
    n = p.n_items + p.n_resources
    rows = p.arc_item[p.use_arc_index()].astype(np.int64)
    cols = p.n_items + p.use_resource.astype(np.int64)
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph.tocsr(), directed=False)
    out: np.ndarray = labels.astype(np.int64)
    return out


def labels_from_base(
    new: AssignmentProblem, base: AssignmentProblem, kept: np.ndarray
) -> np.ndarray | None:
    """Labels as `components_of` gives, but built from the base's components (when they
    are known): each kept item and each base resource starts in its base component,
    every other item or resource in one of its own, and the labels that a use of `new`
    links are merged.  Every use's item and resource end up with one label, so each
    label is a union of components (a component the changes split stays one label):
    enough for solving per label, and far cheaper than the components of 700k arcs."""
    base_labels = memo_value("components", (base.arc_item, base.use_ptr, base.use_resource))
    if not isinstance(base_labels, np.ndarray):
        return None
    old_of_item = positions(new.item_ids, base.item_ids, base.item_index())[0]
    src_res = positions(new.resource_ids, base.resource_ids, base.resource_index())[0]
    n_base = int(base_labels.max()) + 1 if base_labels.size else 0
    nxt = n_base
    lab = np.empty(new.n_items + new.n_resources, dtype=np.int64)
    src_item = np.where(kept, old_of_item, -1)
    src = np.concatenate((src_item, np.where(src_res >= 0, base.n_items + src_res, -1)))
    own = src < 0
    lab[~own] = base_labels[src[~own]]
    lab[own] = nxt + np.arange(int(own.sum()))
    n_lab = nxt + int(own.sum())
    a = lab[new.arc_item[new.use_arc_index()]]
    b = lab[new.n_items :][new.use_resource]
    diff = a != b
    if bool(diff.any()):
        graph = coo_matrix(
            (np.ones(int(diff.sum()), dtype=np.int8), (a[diff], b[diff])), shape=(n_lab, n_lab)
        )
        _, merged = connected_components(graph.tocsr(), directed=False)
        lab = merged[lab]
    # consecutive from 0, as `components_of` gives them
    _, out = np.unique(lab, return_inverse=True)
    res: np.ndarray = out.astype(np.int64)
    return res


def unchanged_components(
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
    old_of_item, old_of_res, items_in_place, res_in_place = base.positions(new)
    known = old_of_item >= 0
    was_proven = base.was_proven(proven, old_of_item)
    unproven = np.zeros(n_lab, dtype=bool)
    unproven[item_labels[~was_proven]] = True
    bad = np.zeros(n_lab, dtype=bool)
    bad[item_labels[~known]] = True
    res_known = old_of_res >= 0
    cap_same = res_known.copy()
    cap_same[res_known] = base.capacity[old_of_res[res_known]] == new.capacity[res_known]
    bad[labels[new.n_items :][~cap_same]] = True
    # base uses of resources that still exist: the base item must sit in the same component
    # (a base item or resource at its own position needs no mapping: no lookup per use)
    if res_in_place:
        r_new, use_item = base.use_resource, base.use_item
    else:
        new_of_res = np.full(len(base.resource_index) + 1, -1, dtype=np.int64)
        new_of_res[old_of_res[res_known]] = np.flatnonzero(res_known)
        r_all = new_of_res[base.use_resource]
        alive = r_all >= 0
        r_new, use_item = r_all[alive], base.use_item[alive]
    res_label = labels[new.n_items :][r_new]
    if items_in_place:
        item_label = item_labels[use_item]
    else:
        new_of_item = np.full(len(base.item_index), -1, dtype=np.int64)
        new_of_item[old_of_item[known]] = np.flatnonzero(known)
        i_new = new_of_item[use_item]
        item_label = np.where(i_new >= 0, item_labels[np.maximum(i_new, 0)], -1)
    cap_same_at_use = cap_same[r_new]
    bad[res_label[item_label != res_label]] = True
    if kept is not None:
        moved = (item_label >= 0) & ((item_label != res_label) | ~cap_same_at_use)
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
    known_hashes = _MEMO.get(("hashes", *map(id, arc_arrays(new))))
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


def memo_value(kind: str, arrays: tuple[np.ndarray, ...]) -> object | None:
    """The value `memo` holds of `kind` for these very arrays, or None."""
    hit = _MEMO.get((kind, *map(id, arrays)))
    if hit is None or not all(a is b for a, b in zip(hit[0], arrays, strict=True)):
        return None
    return hit[2]


def memo_has(kind: str, arrays: tuple[np.ndarray, ...]) -> bool:
    """Whether `memo` holds a value of `kind` for these very arrays."""
    return memo_value(kind, arrays) is not None
