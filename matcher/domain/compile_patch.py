"""Patch a compiled problem for a what-if instead of compiling the scenario again.

The arcs of an item depend on its members (child, need, eligible offerings), on each
eligible offering (price, care type, release slots and groups), on the budgets those
placements draw on, on its pin, and on scenario-wide facts (policy, weights, the highest
price).  When those scenario-wide facts are unchanged, only the items that a delta can
reach get their arcs built again (`arcs.ArcMaker`, the code `compile_scenario` uses);
every other item keeps its arcs from the base, with option and resource positions mapped
to the new layout.  The result equals `compile_scenario` of the new scenario array for
array (tests/domain/test_compile_patch.py); `patch_compile` returns None whenever it
cannot show that, and the caller compiles in full.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.domain.arcs import ArcInfo, ArcLists, ArcMaker, Cutoffs, layout, problem_of
from matcher.domain.arcs import release_groups as _release_groups
from matcher.domain.base_arcs import BaseArcs, BaseMaps, PatchedArcs
from matcher.domain.compile import (
    Compiled,
    check_pins_have_places,
    cost_levels,
    keep_binding_uses,
    need_item,
    pinned_items,
    priority_points,
    resource_demand,
    scenario_items,
    weights_for,
)
from matcher.domain.component_reuse import gather_ranges
from matcher.domain.eligibility import Eligibility
from matcher.domain.model import Scenario

PairKey = tuple[str, str]


@dataclass(frozen=True)
class Changes:
    """What a delta changed, as far as the arcs can tell: the waiting needs whose
    eligible offerings differ from the base (or that appeared or left), the offerings
    that changed (places, releases, held places, refusals, forbids, anything else), and
    the providers of the budgets that changed."""

    keys: frozenset[PairKey]
    offerings: frozenset[str]
    budget_providers: frozenset[str]


def _same_frame(old: Scenario, new: Scenario) -> bool:
    """Everything but offerings, budgets, children, refusals, forbids and pins is equal,
    the budgets keep their ids and order and the highest price (the cost levels) stays."""
    rest = dataclasses.replace(
        new,
        offerings=old.offerings,
        budgets=old.budgets,
        children=old.children,
        refusals=old.refusals,
        forbids=old.forbids,
        pins=old.pins,
    )
    if rest != old:
        return False
    if [b.id for b in new.budgets] != [b.id for b in old.budgets]:
        return False
    top_old = max((o.price_cents for o in old.offerings), default=0)
    top_new = max((o.price_cents for o in new.offerings), default=0)
    return top_old == top_new


class _BudgetFlips:
    """Which placements a budget change reaches.  A budget whose scope (provider,
    perceel, gemeente, region) changed reaches every placement of its provider.  One
    whose ceiling or spending alone changed leaves every arc's uses as they were; it
    only decides whether an arc exists when the placement's cost (price times the
    members of the item) lies between the old and the new remaining amount."""

    def __init__(self, old: Scenario, new: Scenario) -> None:
        self.full: set[str] = set()
        self.windows: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for ob, nb in zip(old.budgets, new.budgets, strict=True):
            if ob == nb:
                continue
            if (ob.provider, ob.perceel, ob.gemeente, ob.region) != (
                nb.provider,
                nb.perceel,
                nb.gemeente,
                nb.region,
            ):
                self.full |= {p for p in (ob.provider, nb.provider) if p is not None}
            elif nb.provider is not None:
                lo, hi = sorted((ob.remaining_cents, nb.remaining_cents))
                self.windows[nb.provider].append((lo, hi))

    def reaches(self, provider: str, cost: int) -> bool:
        """Whether a placement costing `cost` through `provider`'s budgets may gain or
        lose its arcs."""
        if provider in self.full:
            return True
        return cost > 0 and any(lo < cost <= hi for lo, hi in self.windows.get(provider, ()))


def patch_compile(
    base: Compiled, new: Scenario, elig: Eligibility, changes: Changes | None
) -> Compiled | None:
    """`compile_scenario(new, elig)` built from `base`, or None when that cannot be done
    by rebuilding only the items the changes reach."""
    out = patch_compile_kept(base, new, elig, changes)
    return None if out is None else out[0]


def patch_compile_kept(
    base: Compiled, new: Scenario, elig: Eligibility, changes: Changes | None
) -> tuple[Compiled, np.ndarray] | None:
    """As `patch_compile`, with per item of the new problem whether it kept its base
    arcs (the same options, values and resource uses before redundant uses are
    dropped), that is: it was not built again.  A what-if reads from this which parts
    of the base answer and the base bound still hold."""
    old = base.scenario
    if changes is None or base.raw_uses is None or base.demand is None:
        return None
    if not _same_frame(old, new):
        return None
    bp = base.problem
    if bp.item_arc_ptr() is None:
        return None  # the arcs must come grouped by item, in item order
    old_elig = base.eligibility
    offs = new.offering_by_id
    pol = new.policy
    idx = elig.index
    old_kids, kids = old.child_by_ref, new.child_by_ref

    # -- children, items, weights ---------------------------------------------------
    changed_refs = {
        c.ref for c in new.children if (prev := old_kids.get(c.ref)) is not c and prev != c
    }
    changed_refs |= set(old_kids) - set(kids)
    keys: set[PairKey] = set(changes.keys)
    for ref in changed_refs:
        for c in (old_kids.get(ref), kids.get(ref)):
            if c is not None:
                keys.update((ref, n.id) for n in c.needs)
    item_members, bundle_of = scenario_items(new, elig, base.item_members)
    tw = weights_for(new, item_members)
    if tw != base.weights:
        return None
    targets = dict(base.targets)
    priority = dict(base.priority)
    for ref in changed_refs:
        targets.pop(ref, None)
        priority.pop(ref, None)
    for c in new.children:
        if c.ref in changed_refs:
            targets[c.ref] = idx.target(c)
            if any((c.ref, n.id) in elig.pairs for n in c.needs):
                priority[c.ref] = priority_points(new, c, deadline=idx.deadline(c))
    if len(targets) != len(kids):
        return None

    # -- cutoffs, own places and the pairs per offering -------------------------------
    cut = Cutoffs(new, idx, targets)
    # the base's cut-offs, an offering's own copy made at its first change
    cutoffs = dict(base.cutoffs)
    copied: set[str] = set()

    def cutoffs_at(oid: str) -> dict[PairKey, int]:
        if oid not in copied:
            copied.add(oid)
            cutoffs[oid] = dict(cutoffs.get(oid, ()))
        return cutoffs[oid]

    own = defaultdict(int, base.own_places)
    pairs_at = dict(base.pairs_at)
    via_pairs = dict(base.via_pairs)
    touched: set[str] = set(changes.offerings)
    dropped: dict[str, set[PairKey]] = defaultdict(set)
    for key in keys:
        if key not in old_elig.pairs:
            continue
        ref, nid = key
        need = old_kids[ref].need(nid)
        for pc in old_elig.eligible(ref, nid):
            oid = pc.offering_id
            del cutoffs_at(oid)[key]
            own[oid] -= need.current_offering == oid
            dropped[oid].add(key)
            touched.add(oid)
            if pc.via_main_contractor is not None:
                via_pairs[pc.via_main_contractor] = via_pairs[pc.via_main_contractor] - {key}
    for oid, gone in dropped.items():
        pairs_at[oid] = [k for k in pairs_at[oid] if k not in gone]
    for oid in changes.offerings:
        at = cutoffs_at(oid)
        for ref, nid in pairs_at.get(oid, ()):
            if kids[ref].need(nid).current_offering == oid:
                at[(ref, nid)] = cut.kept(oid)
            else:
                at[(ref, nid)] = cut.new(ref, oid)
    for key in keys:
        if key not in elig.pairs:
            continue
        ref, nid = key
        need = kids[ref].need(nid)
        for pc in elig.eligible(ref, nid):
            oid = pc.offering_id
            pairs_at[oid] = [*pairs_at.get(oid, ()), key]
            touched.add(oid)
            if pc.via_main_contractor is not None:
                via_pairs[pc.via_main_contractor] = via_pairs.get(pc.via_main_contractor, set()) | {
                    key
                }
            if need.current_offering == oid:
                cutoffs_at(oid)[key] = cut.kept(oid)
                own[oid] += 1
            else:
                cutoffs_at(oid)[key] = cut.new(ref, oid)
    for oid in copied:
        if not cutoffs[oid]:
            del cutoffs[oid]  # as a compile from scratch: no offering without pairs

    # -- release groups of the touched offerings ---------------------------------------
    groups = dict(base.groups)
    regrouped: set[str] = set()
    for oid in touched:
        cuts = {cv for cv in cutoffs.get(oid, {}).values() if cv >= 0}
        if cuts:
            groups[oid] = _release_groups(oid, cuts, idx.slots[oid], own[oid], pol.allow_late)
        else:
            groups.pop(oid, None)
        if groups.get(oid) != base.groups.get(oid):
            regrouped.add(oid)

    # -- the items whose arcs may differ ------------------------------------------------
    def item_of(key: PairKey) -> str:
        return bundle_of.get(key, need_item(*key))

    # Items whose pairs, members, pin or priority changed are built again in full; an
    # item that is only reached through an offering (its release groups, places or
    # budgets changed) gets new arcs at that offering only, the rest copied from the base.
    partial: dict[str, set[str]] = defaultdict(set)
    # A need of an unchanged child that kept its item, with no budget changed, has other
    # eligible offerings only among the changed offerings (the rest of its checks are
    # reused), so only its arcs there can differ.
    full_keys = {
        k
        for k in keys
        if changes.budget_providers
        or k[0] in changed_refs
        or k not in old_elig.pairs
        or k not in elig.pairs
        or item_of(k) != base.item_of(*k)
    }
    full: set[str] = {item_of(k) for k in full_keys} | {base.item_of(*k) for k in full_keys}
    for k in keys - full_keys:
        partial[item_of(k)].update(changes.offerings)
    reach = set(changes.offerings) | regrouped
    flips = _BudgetFlips(old, new)
    reach |= {o.id for o in new.offerings if o.provider in flips.full}
    for oid in reach:
        for k in pairs_at.get(oid, ()):
            partial[item_of(k)].add(oid)
    # a ceiling change: the items whose cost at an offering of the provider (or through
    # it as hoofdaannemer) lies in the window
    for o in new.offerings:
        if o.provider in flips.windows and o.id not in reach:
            for k in pairs_at.get(o.id, ()):
                it = item_of(k)
                if flips.reaches(o.provider, o.price_cents * len(item_members[it])):
                    partial[it].add(o.id)
    for prov in set(flips.windows) | flips.full:
        for k in via_pairs.get(prov, ()):
            it = item_of(k)
            if any(
                pc.via_main_contractor == prov
                and flips.reaches(prov, offs[pc.offering_id].price_cents * len(item_members[it]))
                for pc in elig.eligible(*k)
            ):
                full.add(it)
    pinned = pinned_items(new, elig, item_members, bundle_of)
    full.update(
        it for it in set(pinned) | set(base.pinned) if pinned.get(it) != base.pinned.get(it)
    )
    full.update(it for it, m in item_members.items() if base.item_members.get(it, m) != m)
    redo = full | set(partial)

    # -- arcs of the items to build again ---------------------------------------------------
    lay = layout(new, groups)
    maker = ArcMaker(new, elig, cutoffs, pinned, priority, tw, cost_levels(new), lay)
    items = list(item_members)
    fresh = ArcLists()
    fresh_count: dict[int, int] = {}
    bundle_infeasible = {
        it for it in base.bundle_infeasible if it not in redo and it in item_members
    }
    maps = BaseMaps(bp, lay)
    base_pos = maps.pos
    copier = BaseArcs(base, base.raw_uses, maps) if any(it not in full for it in partial) else None
    for i, it in enumerate(items):
        if it in redo or it not in base_pos:
            before = len(fresh.item)
            if copier is not None and it not in full and it in base_pos:
                copy = copier.at(it, i, fresh)
                built = maker.add(it, i, item_members[it], fresh, partial[it], copy)
            else:
                built = maker.add(it, i, item_members[it], fresh)
            if not built:
                bundle_infeasible.add(it)
            fresh_count[i] = len(fresh.item) - before
    if copier is not None and copier.lost:
        return None  # a copied arc lost its option or resource: the reach was too small
    extra: dict[str, Any] = dict(
        targets=targets,
        priority=priority,
        cutoffs=cutoffs,
        own_places={k: v for k, v in own.items() if v},
        pairs_at=pairs_at,
        via_pairs=via_pairs,
        groups=groups,
        bundle_infeasible=bundle_infeasible,
        bundle_of=bundle_of,
        item_members=item_members,
        pinned=pinned,
    )
    return _assemble(
        base, new, elig, items, tw, lay, maps, fresh, fresh_count, extra, base.raw_uses, base.demand
    )


def _assemble(
    base: Compiled,
    new: Scenario,
    elig: Eligibility,
    items: list[str],
    tw: Any,
    lay: Any,
    maps: BaseMaps,
    fresh: ArcLists,
    fresh_count: dict[int, int],
    extra: dict[str, Any],
    raw: tuple[np.ndarray, np.ndarray, np.ndarray],
    base_demand: np.ndarray,
) -> tuple[Compiled, np.ndarray] | None:
    """The new arrays: per item in order, its base arcs (options and resources mapped to
    the new layout) or its fresh ones; then the redundant uses dropped as compile does,
    with the demand per resource updated by the items that left or were built again."""
    bp = base.problem
    raw_ptr, raw_res, raw_amt = raw
    capacity = np.asarray(lay.res_cap, dtype=np.int64)
    if (
        not fresh_count
        and tuple(items) == bp.item_ids
        and tuple(lay.res_ids) == bp.resource_ids
        and tuple(lay.opt_ids) == bp.option_ids
    ):
        # the same arcs in the same layout: only capacities (and so which resources
        # cannot bind) may differ
        binding = base_demand > capacity
        if np.array_equal(binding, base_demand > bp.capacity):
            uses = (bp.use_ptr, bp.use_resource, bp.use_amount)
        else:
            uses = keep_binding_uses(raw_ptr, raw_res, raw_amt, ~binding)
        arrays = (bp.arc_item, bp.arc_option, bp.arc_value, *uses)
        return _compiled(
            base,
            new,
            elig,
            items,
            tw,
            lay,
            extra,
            arrays,
            base.arcs,
            raw,
            base_demand,
            np.ones(len(items), dtype=bool),
        )
    n_items, nb, nba = len(items), bp.n_items, bp.n_arcs
    bptr = maps.bptr
    base_pos = maps.pos
    src_list = [-1 if i in fresh_count else base_pos[it] for i, it in enumerate(items)]
    src_base = np.asarray(src_list, dtype=np.int64).reshape(-1)
    is_base = src_base >= 0
    b = src_base[is_base]
    counts = np.zeros(n_items, dtype=np.int64)
    counts[is_base] = bptr[b + 1] - bptr[b]
    fc = np.asarray([fresh_count[i] for i in sorted(fresh_count)], dtype=np.int64)
    counts[~is_base] = fc

    # runs of arcs that come in one piece from the base or from the fresh arcs: copying
    # slices is far cheaper than gathering 700k arcs one by one
    pieces: list[tuple[bool, int, int]] = []
    f_off = 0
    lo_l = bptr.tolist()
    for i, sb in enumerate(src_list):
        if sb >= 0:
            kind, lo, hi = True, lo_l[sb], lo_l[sb + 1]
        else:
            kind, lo, hi = False, f_off, f_off + fresh_count[i]
            f_off = hi
        if lo == hi:
            continue
        if pieces and pieces[-1][0] == kind and pieces[-1][2] == lo:
            pieces[-1] = (kind, pieces[-1][1], hi)
        else:
            pieces.append((kind, lo, hi))

    def cat(from_base: np.ndarray, from_fresh: np.ndarray, ptr_b: Any, ptr_f: Any) -> np.ndarray:
        parts = [
            from_base[ptr_b[lo] : ptr_b[hi]] if kind else from_fresh[ptr_f[lo] : ptr_f[hi]]
            for kind, lo, hi in pieces
        ]
        return np.concatenate(parts) if parts else from_base[:0]

    ident = range(max(nba, len(fresh.item)) + 1)
    opt_map, res_map = maps.opt_map, maps.res_map
    f_opt = np.asarray(fresh.opt, dtype=np.int64)
    arc_opt = cat(opt_map[bp.arc_option], f_opt, ident, ident)
    arc_val = cat(bp.arc_value, np.asarray(fresh.val, dtype=np.int64), ident, ident)
    arc_item = np.repeat(np.arange(n_items, dtype=np.int32), counts)
    f_ptr = np.asarray(fresh.ptr, dtype=np.int64)
    f_res = np.asarray(fresh.res, dtype=np.int64)
    f_amt = np.asarray(fresh.amt, dtype=np.int64)
    use_count = cat(np.diff(raw_ptr), np.diff(f_ptr), ident, ident)
    new_res = cat(res_map[raw_res], f_res, raw_ptr, f_ptr)
    new_amt = cat(raw_amt, f_amt, raw_ptr, f_ptr)
    new_ptr = np.concatenate(([0], np.cumsum(use_count))).astype(np.int64)
    if bool((arc_opt < 0).any()) or bool((new_res < 0).any()):
        return None  # a kept arc lost its option or resource: the reach was too small

    # demand per resource: the base's, minus the items that left or were built again,
    # plus the fresh ones (a sum over items of each item's largest use)
    n_res = len(lay.res_ids)
    alive = res_map >= 0
    demand = np.zeros(n_res, dtype=np.int64)
    demand[res_map[alive]] = base_demand[alive]
    used = np.zeros(nb, dtype=bool)
    used[b] = True
    gone = np.flatnonzero(~used[bp.arc_item])
    if gone.size:
        g_cnt = np.diff(raw_ptr)[gone]
        g_idx = gather_ranges(raw_ptr[gone], g_cnt)
        g_ptr = np.concatenate(([0], np.cumsum(g_cnt)))
        old = resource_demand(
            bp.arc_item[gone], g_ptr, raw_res[g_idx], raw_amt[g_idx], bp.n_resources
        )
        demand[res_map[alive]] -= old[alive]
    if f_ptr.size > 1:
        demand += resource_demand(
            np.asarray(fresh.item, dtype=np.int64), f_ptr, f_res.astype(np.int32), f_amt, n_res
        )
    use_ptr, use_res, use_amt = keep_binding_uses(
        new_ptr, new_res.astype(np.int32), new_amt, demand <= capacity
    )

    base_arcs = base.arcs if isinstance(base.arcs, list) else list(base.arcs)
    infos = PatchedArcs([(base_arcs if kind else fresh.infos, lo, hi) for kind, lo, hi in pieces])

    arrays = (arc_item, arc_opt.astype(np.int32), arc_val, use_ptr, use_res, use_amt)
    raw_new = (new_ptr, new_res.astype(np.int32), new_amt)
    return _compiled(
        base, new, elig, items, tw, lay, extra, arrays, infos, raw_new, demand, is_base
    )


def _compiled(
    base: Compiled,
    new: Scenario,
    elig: Eligibility,
    items: list[str],
    tw: Any,
    lay: Any,
    extra: dict[str, Any],
    arrays: tuple[np.ndarray, ...],
    infos: Sequence[ArcInfo],
    raw: tuple[np.ndarray, np.ndarray, np.ndarray],
    demand: np.ndarray,
    kept: np.ndarray,
) -> tuple[Compiled, np.ndarray]:
    pinned = extra["pinned"]
    if pinned:
        counts = np.bincount(arrays[0], minlength=len(items))
        pos = {it: i for i, it in enumerate(items)}
        check_pins_have_places(
            pinned,
            {it: int(counts[pos[it]]) for it in pinned if it in pos},
            extra["item_members"],
            extra["groups"],
        )
    problem = problem_of(new, items, lay, tw, pinned, arrays, validate=False)
    compiled = Compiled(
        scenario=new,
        problem=problem,
        eligibility=elig,
        weights=tw,
        arcs=infos,
        raw_uses=raw,
        demand=demand,
        **extra,
    )
    kept.flags.writeable = False
    return compiled, kept
