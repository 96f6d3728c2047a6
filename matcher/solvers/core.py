"""Canonical, preprocessed form of an `AssignmentProblem` shared by all solvers.

Every solver works on a `Core`: the free part of the problem after pinned arcs
are fixed and useless arcs are dropped, in a canonical order (items, options
and resources sorted by id) so that the answer never depends on the order in
which the caller listed things.  The objective is rewritten in "max form":

    F = sum over assigned arcs of gain - sum over unassigned items of penalty

with gain = value (MAXIMIZE) or -value (MINIMIZE).  For an optional item the
weight of an arc is ``gain + penalty`` (assigning it earns the gain and saves
the penalty), so F = const + sum of weights of chosen arcs; arcs of optional
items with a negative weight can never help and are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from matcher.errors import MatcherError
from matcher.problem import AssignmentProblem, Sense

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class CoreInfeasible(MatcherError):
    """The pinned arcs or must-assign items make the problem infeasible."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
        super().__init__(reason)


@dataclass(frozen=True, eq=False)
class Core:
    """Free part of a problem in canonical order, objective in max form.

    Arc ``a`` belongs to item ``arc_item[a]`` (0..n_items-1), has weight
    ``weight[a]`` and uses ``use_amount[use_ptr[a]:use_ptr[a+1]]`` of the
    resources ``use_res[...]`` (canonical resource indexes).  Arcs are sorted
    by (item, option id) so the arcs of one item are contiguous:
    ``item_ptr[i]:item_ptr[i+1]``.
    """

    problem: AssignmentProblem
    item_orig: IntArray  # core item -> original item index
    must: BoolArray
    arc_item: IntArray
    arc_orig: IntArray  # core arc -> original arc index
    weight: IntArray
    use_ptr: IntArray
    use_res: IntArray
    use_amount: IntArray
    item_ptr: IntArray
    res_orig: IntArray  # canonical resource -> original resource index
    capacity: IntArray  # residual capacity after the pinned arcs
    const: int  # max-form objective of the pinned part minus optional penalties
    pinned_arcs: IntArray  # original arc indexes that are pinned
    # the last `n_cuts` resources are valid inequalities added by
    # `colgen.with_cuts` (no resource of the problem): every feasible answer
    # keeps them, so they only cut fractional points off the relaxations
    n_cuts: int = 0

    @property
    def n_items(self) -> int:
        return int(self.item_orig.shape[0])

    @property
    def n_arcs(self) -> int:
        return int(self.arc_item.shape[0])

    @property
    def n_resources(self) -> int:
        return int(self.capacity.shape[0])

    def use_arc(self) -> IntArray:
        return np.repeat(np.arange(self.n_arcs, dtype=np.int64), np.diff(self.use_ptr))

    def usage_exact(self, chosen: IntArray) -> IntArray:
        """Integer resource use, exact (float sums only while they are exact)."""
        sel = np.zeros(self.n_arcs, dtype=bool)
        sel[chosen[chosen >= 0]] = True
        mask = np.repeat(sel, np.diff(self.use_ptr))
        amounts = self.use_amount[mask]
        if amounts.size == 0 or int(amounts.max()) * amounts.size < 2**52:
            # bincount sums in float64, exact below 2**53 and ~10x faster than add.at
            return np.bincount(
                self.use_res[mask], weights=amounts, minlength=self.n_resources
            ).astype(np.int64)
        out = np.zeros(self.n_resources, dtype=np.int64)
        np.add.at(out, self.use_res[mask], amounts)
        return out

    def value(self, chosen: IntArray) -> int:
        """Max-form objective of a choice."""
        c = chosen[chosen >= 0]
        return self.const + int(self.weight[c].sum())

    def is_feasible(self, chosen: IntArray) -> bool:
        if bool(np.any((chosen < 0) & self.must)):
            return False
        return bool(np.all(self.usage_exact(chosen) <= self.capacity))

    def restrict(self, keep: BoolArray) -> tuple[Core, IntArray]:
        """The same core with only the arcs in `keep`; also new -> old arc map."""
        arcs = np.flatnonzero(keep).astype(np.int64)
        counts = np.diff(self.use_ptr)[arcs]
        ptr = np.zeros(arcs.size + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        idx = np.repeat(self.use_ptr[arcs] - ptr[:-1], counts) + np.arange(int(ptr[-1]))
        arc_item = self.arc_item[arcs]
        item_ptr = np.zeros(self.n_items + 1, dtype=np.int64)
        np.cumsum(np.bincount(arc_item, minlength=self.n_items), out=item_ptr[1:])
        sub = replace(
            self,
            arc_item=arc_item,
            arc_orig=self.arc_orig[arcs],
            weight=self.weight[arcs],
            use_ptr=ptr,
            use_res=self.use_res[idx],
            use_amount=self.use_amount[idx],
            item_ptr=item_ptr,
        )
        return sub, arcs

    def to_sense(self, max_form: float) -> float:
        return max_form if self.problem.sense is Sense.MAXIMIZE else -max_form


def _rank(ids: tuple[str, ...]) -> IntArray:
    """rank[k] = position of ids[k] in sorted order."""
    order = np.asarray(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids), dtype=np.int64)
    return rank


def build_core(p: AssignmentProblem) -> Core:
    """Fix pins, drop useless arcs, sort canonically.  Raises CoreInfeasible."""
    n_i, n_r = p.n_items, p.n_resources
    item_rank, opt_rank, res_rank = _rank(p.item_ids), _rank(p.option_ids), _rank(p.resource_ids)
    counts = np.diff(p.use_ptr)
    use_arc = np.repeat(np.arange(p.n_arcs, dtype=np.int64), counts)
    gain = p.arc_value if p.sense is Sense.MAXIMIZE else -p.arc_value

    # pinned arcs: fixed, their uses leave the capacities
    pinned_arcs = np.flatnonzero(p.pinned).astype(np.int64)
    pinned_item = np.zeros(n_i, dtype=bool)
    pinned_item[p.arc_item[pinned_arcs]] = True
    pin_use = np.zeros(n_r, dtype=np.int64)
    pin_mask = p.pinned[use_arc]
    np.add.at(pin_use, p.use_resource[pin_mask], p.use_amount[pin_mask])
    residual = p.capacity - pin_use
    if bool(np.any(residual < 0)):
        r = int(np.flatnonzero(residual < 0)[0])
        raise CoreInfeasible(
            f"the pinned arcs use {int(pin_use[r])} of resource {p.resource_ids[r]!r}, "
            f"capacity {int(p.capacity[r])}"
        )

    free_item = ~pinned_item
    optional_pen = np.where(p.must_assign, 0, p.unassigned_penalty)
    const = int(gain[pinned_arcs].sum()) - int(optional_pen[free_item].sum())

    # arcs that can take part: not forbidden, item free, fits the residual
    # capacity on its own, and (optional items) not worse than leaving it out
    weight_all = gain + optional_pen[p.arc_item]
    keep = ~p.forbidden & free_item[p.arc_item]
    keep &= p.must_assign[p.arc_item] | (weight_all >= 0)
    too_big = np.zeros(p.n_arcs, dtype=bool)
    big = p.use_amount > residual[p.use_resource]
    too_big[use_arc[big]] = True
    keep &= ~too_big

    free_idx = np.flatnonzero(free_item)
    free_idx = free_idx[np.argsort(item_rank[free_idx], kind="stable")]
    core_of_item = np.full(n_i, -1, dtype=np.int64)
    core_of_item[free_idx] = np.arange(free_idx.size, dtype=np.int64)

    arcs = np.flatnonzero(keep)
    order = np.lexsort((opt_rank[p.arc_option[arcs]], core_of_item[p.arc_item[arcs]]))
    arcs = arcs[order]
    arc_item = core_of_item[p.arc_item[arcs]]
    must = p.must_assign[free_idx].copy()

    has_arc = np.zeros(free_idx.size, dtype=bool)
    has_arc[arc_item] = True
    stuck = np.flatnonzero(must & ~has_arc)
    if stuck.size:
        raise CoreInfeasible(
            f"item {p.item_ids[int(free_idx[stuck[0]])]!r} must be assigned but none of its "
            "arcs fits"
        )

    # uses of the kept arcs, resources by canonical index
    res_orig = np.argsort(res_rank, kind="stable").astype(np.int64)
    sub_counts = counts[arcs]
    starts = p.use_ptr[arcs]
    use_ptr = np.zeros(arcs.size + 1, dtype=np.int64)
    np.cumsum(sub_counts, out=use_ptr[1:])
    idx = np.repeat(starts - use_ptr[:-1], sub_counts) + np.arange(int(use_ptr[-1]))
    use_res = res_rank[p.use_resource[idx]]
    use_amount = p.use_amount[idx].astype(np.int64)
    # (the order of the uses inside one arc does not reach any answer: every
    # consumer breaks ties by resource index, so no sort is spent on it)
    # zero uses carry no information and only make the models larger
    nz = use_amount != 0
    if not bool(nz.all()):
        seg = np.repeat(np.arange(arcs.size, dtype=np.int64), sub_counts)[nz]
        use_res, use_amount = use_res[nz], use_amount[nz]
        use_ptr = np.zeros(arcs.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(seg, minlength=arcs.size), out=use_ptr[1:])

    item_ptr = np.zeros(free_idx.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(arc_item, minlength=free_idx.size), out=item_ptr[1:])

    return Core(
        problem=p,
        item_orig=free_idx.astype(np.int64),
        must=must,
        arc_item=arc_item,
        arc_orig=arcs.astype(np.int64),
        weight=weight_all[arcs].astype(np.int64),
        use_ptr=use_ptr,
        use_res=use_res.astype(np.int64),
        use_amount=use_amount,
        item_ptr=item_ptr,
        res_orig=res_orig,
        capacity=residual[res_orig].astype(np.int64),
        const=const,
        pinned_arcs=pinned_arcs,
    )


def chosen_to_original_arcs(core: Core, chosen: IntArray) -> list[int]:
    """Original arc indexes of a choice plus the pinned arcs."""
    c = chosen[chosen >= 0]
    return [int(a) for a in core.pinned_arcs] + [int(a) for a in core.arc_orig[c]]


def warm_start_choice(core: Core, assignments: dict[str, str] | None) -> IntArray:
    """Map an earlier solution onto this core (items whose arc is gone get -1)."""
    chosen = np.full(core.n_items, -1, dtype=np.int64)
    if not assignments:
        return chosen
    p = core.problem
    item_index, opt_index = p.item_index(), p.option_index()
    core_of_item = np.full(p.n_items, -1, dtype=np.int64)
    core_of_item[core.item_orig] = np.arange(core.n_items)
    opt_of_core_arc = p.arc_option[core.arc_orig]
    for it, op in assignments.items():
        i = item_index.get(it)
        o = opt_index.get(op)
        if i is None or o is None or core_of_item[i] < 0:
            continue
        k = int(core_of_item[i])
        lo, hi = int(core.item_ptr[k]), int(core.item_ptr[k + 1])
        hit = np.flatnonzero(opt_of_core_arc[lo:hi] == o)
        if hit.size:
            chosen[k] = lo + int(hit[0])
    return chosen
