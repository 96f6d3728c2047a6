"""Compile a `Scenario` into the arc-level `AssignmentProblem`.

Items: one per waiting need, or one per family bundle (all members or none).
Resources: the places of an offering per *release group* and the budget ceilings.
Options: ``<offering>@<group>``.  Only eligible pairs become arcs.

Time.  Places of an offering free up on known dates (free now, then the release
schedule).  A child can use a place that frees early enough for help to start by its
target date, i.e. any place released up to its *cutoff* slot.  The sets of usable
places are nested prefixes, so the child gets one arc to every release group up to its
cutoff, and every group is a resource with the places released in it.  Consecutive
release dates that no child's cutoff separates are merged into one group (exact: no
child can tell them apart), which keeps the problem a transportation problem with few
arcs.  Late arcs (policy `allow_late`) go to groups after the cutoff.

Objective (MAXIMIZE; see docs/matching-rules.md): per placed member
``W1 * meets_target + W2 * priority + fit``, with ``fit = home * (5 - home rank) +
keep * kept + region * in_region + cost level``.  `meets_target`: help starts by the
child's objective target date (`clocks.objective_target_date`: the norm-3 deadline, or
for a child already past it the evaluation date plus the grace days).  It steers the
objective only; whether a placement is within the norm is decided by `clocks` at
decode.  W1 is computed from the number of members so that one more member meeting its
target outweighs everything below it over the whole scenario; W2 makes one priority
point outweigh the fit of one child (or, with `Weights.strict_priority`, of all
children).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from matcher.domain.arcs import (
    ArcInfo,
    ArcLists,
    ArcMaker,
    Cutoffs,
    Group,
    layout,
    problem_of,
    release_groups,
)
from matcher.domain.caretypes import MAX_HOME_RANK
from matcher.domain.clocks import deadline_norm3
from matcher.domain.eligibility import (
    Eligibility,
    ScenarioIndex,
    evaluate,
)
from matcher.domain.model import Child, DeltaError, Scenario, Weights
from matcher.domain.reasons import reason_text
from matcher.errors import MatcherError
from matcher.problem import MAX_ABS_INT, AssignmentProblem


class WeightsTooLargeError(MatcherError, ValueError):
    """The scenario has more members than the objective's integer range can order."""


@dataclass(frozen=True)
class TierWeights:
    """The weights used in one compiled problem and which orders they guarantee.

    `meets_target` is W1, the weight of a member whose help starts by its objective
    target date (see the module docstring).
    """

    meets_target: int
    priority: int
    home: int
    keep: int
    region: int
    cost_levels: int
    priority_max: int
    fit_max: int
    members: int
    priority_strict: bool  # True: tier 2 outweighs all fit over the whole scenario
    priority_mode: str = "strict"  # "strict", "per_child" or "coarse"

    def as_dict(self) -> dict[str, int | bool | str]:
        return {
            "meets_target": self.meets_target,
            "priority": self.priority,
            "home": self.home,
            "keep": self.keep,
            "region": self.region,
            "cost_levels": self.cost_levels,
            "priority_max": self.priority_max,
            "fit_max": self.fit_max,
            "members": self.members,
            "priority_strict": self.priority_strict,
            "priority_mode": self.priority_mode,
        }


WEIGHT_BUCKET = 1024  # the member count behind W1 is rounded up to a multiple of this
COARSE_PRIORITY_MAX = 7  # overdue 4 + urgent 2 + waited 90 days or more 1


def tier_weights(w: Weights, members: int) -> TierWeights:
    """W1 > N * (P_max * W2 + fit_max): one more member meeting its target outweighs
    everything below, for N members.

    Tier 2 is "per child" by default (W2 = fit_max + 1: one priority point outweighs all
    fit points of one child).  With `Weights.strict_priority`, W2 = N * fit_max + 1 (one
    point outweighs the fit of everyone) when that fits the integer range.  For very
    large N the priority points become coarse (overdue, urgent, waited 90 days: 0..7).
    Tier 1 always stays strict.
    """
    n = max(1, members)
    fit_max = w.home * (MAX_HOME_RANK - 1) + w.keep + w.region + w.cost_levels
    p_max = w.priority_overdue + w.priority_urgent + w.priority_max_wait_days

    def fits(w1: int, w2: int, pm: int) -> bool:
        return n * (w1 + pm * w2 + fit_max) <= MAX_ABS_INT

    mode = "strict"
    w2 = n * fit_max + 1
    w1 = n * (p_max * w2 + fit_max) + 1
    if not w.strict_priority or not fits(w1, w2, p_max):
        mode = "per_child"
        w2 = fit_max + 1
        w1 = n * (p_max * w2 + fit_max) + 1
    if not fits(w1, w2, p_max):
        mode = "coarse"
        p_max = COARSE_PRIORITY_MAX
        w1 = n * (p_max * w2 + fit_max) + 1
    if not fits(w1, w2, p_max):
        raise WeightsTooLargeError(f"{members} members do not fit the objective range")
    return TierWeights(
        meets_target=w1,
        priority=w2,
        home=w.home,
        keep=w.keep,
        region=w.region,
        cost_levels=w.cost_levels,
        priority_max=p_max,
        fit_max=fit_max,
        members=members,
        priority_strict=mode == "strict",
        priority_mode=mode,
    )


def priority_points(
    scenario: Scenario, child: Child, mode: str = "strict", deadline: date | None = None
) -> int:
    """Tier 2: overdue first, then urgent ("zoveel eerder" or acute unsafety), then days
    waited since the ruling (capped).  In "coarse" mode: 4 overdue + 2 urgent + 1 when
    waited 90 days or more."""
    w = scenario.policy.weights
    ev = scenario.evaluation_date
    dl = deadline if deadline is not None else deadline_norm3(child)
    overdue = dl is not None and dl < ev
    urgent = child.urgent_deadline is not None or child.acute_unsafety
    days = 0 if child.ruling_date is None else max(0, (ev - child.ruling_date).days)
    if mode == "coarse":
        return 4 * overdue + 2 * urgent + int(days >= 90)
    return (
        w.priority_overdue * overdue
        + w.priority_urgent * urgent
        + min(w.priority_max_wait_days, days)
    )


@dataclass
class Compiled:
    """The problem plus everything needed to read its solution back in domain terms."""

    scenario: Scenario
    problem: AssignmentProblem
    eligibility: Eligibility
    weights: TierWeights
    item_members: dict[str, tuple[tuple[str, str], ...]]
    arcs: Sequence[ArcInfo]  # a list, or a what-if's runs of its base's (`base_arcs`)
    groups: dict[str, list[Group]]
    targets: dict[str, date]  # child ref -> objective target date (not the norm)
    # offering -> (ref, need) -> last usable slot; per offering, so that a what-if copies
    # only the offerings it changes
    cutoffs: dict[str, dict[tuple[str, str], int]]
    bundle_of: dict[tuple[str, str], str] = field(default_factory=dict)
    bundle_infeasible: set[str] = field(default_factory=set)
    own_places: dict[str, int] = field(default_factory=dict)  # places of current placements
    pinned: dict[str, str] = field(default_factory=dict)  # item -> pinned offering
    priority: dict[str, int] = field(default_factory=dict)  # child ref -> priority points
    # What a what-if needs to patch this problem instead of compiling again
    # (`compile_patch`): the eligible pairs per offering and per hoofdaannemer, the
    # resource uses before the redundant ones were dropped, and per resource the most
    # it could be asked for.
    pairs_at: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    via_pairs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    raw_uses: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    demand: np.ndarray | None = None

    def item_of(self, ref: str, need_id: str) -> str:
        return self.bundle_of.get((ref, need_id), need_item(ref, need_id))


def need_item(ref: str, need_id: str) -> str:
    return f"n:{ref}:{need_id}"


def bundle_item(bundle_id: str) -> str:
    return f"b:{bundle_id}"


def option_id(offering: str, group: int) -> str:
    return f"{offering}@{group}"


def resource_demand(
    arc_item: np.ndarray,
    use_ptr: np.ndarray,
    use_res: np.ndarray,
    use_amt: np.ndarray,
    n_res: int,
) -> np.ndarray:
    """Per resource: the sum, over items, of the largest amount any arc of the item uses
    of it (every item takes at most one arc, so use never exceeds this)."""
    if use_res.size == 0:
        return np.zeros(n_res, dtype=np.int64)
    counts = np.diff(use_ptr)
    use_arc = np.repeat(np.arange(arc_item.size), counts)
    item_of_use = arc_item[use_arc].astype(np.int64)
    key = item_of_use * n_res + use_res.astype(np.int64)
    order = np.lexsort((use_amt, key))
    last = np.ones(key.size, dtype=bool)
    last[:-1] = key[order][1:] != key[order][:-1]
    pick = order[last]  # per (item, resource): the use with the largest amount
    out: np.ndarray = np.bincount(use_res[pick], weights=use_amt[pick], minlength=n_res).astype(
        np.int64
    )
    return out


def keep_binding_uses(
    use_ptr: np.ndarray, use_res: np.ndarray, use_amt: np.ndarray, redundant: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The uses of the resources that are not `redundant`."""
    if use_res.size == 0:
        return use_ptr, use_res, use_amt
    keep = ~redundant[use_res]
    # the kept uses before each arc's first use are the arc's new start: a running
    # count read at the old starts (a what-if at 10,000 children does this per
    # re-solve; it is 3 times faster than counting per arc)
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    new_ptr = kept_before[use_ptr].astype(np.int64)
    return new_ptr, use_res[keep], use_amt[keep]


def drop_redundant_uses(
    arc_item: np.ndarray,
    use_ptr: np.ndarray,
    use_res: np.ndarray,
    use_amt: np.ndarray,
    capacity: np.ndarray,
    n_items: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove the uses of resources that can never be exceeded.

    Every item takes at most one arc, so a resource can never be used beyond the sum,
    over items, of the largest amount any arc of that item uses of it.  When that sum fits
    the capacity the resource cannot bind and its rows only glue the problem together
    (fewer rows: more independent components, more often a pure transportation problem).
    """
    demand = resource_demand(arc_item, use_ptr, use_res, use_amt, capacity.size)
    return keep_binding_uses(use_ptr, use_res, use_amt, demand <= capacity)


def pinned_items(
    scenario: Scenario,
    elig: Eligibility,
    item_members: dict[str, tuple[tuple[str, str], ...]],
    bundle_of: dict[tuple[str, str], str],
) -> dict[str, str]:
    """Hard: a `Pin` sends its need (or its family bundle) to the pinned offering.

    Per item: the pinned offering.  A pin on a need that does not wait, on an offering
    that is no candidate, on an ineligible pair, or two pins of one item on different
    offerings raise `DeltaError`, with the reason in words.
    """
    out: dict[str, str] = {}
    kids = scenario.child_by_ref
    for pin in scenario.pins:
        key = (pin.child_ref, pin.need_id)
        where = f"kind {pin.child_ref}, hulpvraag {pin.need_id}, aanbod {pin.offering}"
        child = kids.get(pin.child_ref)
        if child is None or pin.need_id not in {n.id for n in child.needs}:
            raise DeltaError(f"vastzetten kan niet ({where}): onbekend kind of hulpvraag")
        if key not in elig.pairs:
            raise DeltaError(f"vastzetten kan niet ({where}): deze hulpvraag wacht niet")
        check = next((pc for pc in elig.pairs[key] if pc.offering_id == pin.offering), None)
        if check is None:
            raise DeltaError(f"vastzetten kan niet ({where}): dit aanbod biedt deze hulp niet")
        if not check.eligible:
            why = reason_text(check.reasons[0])
            raise DeltaError(f"vastzetten kan niet ({where}): {why[:1].lower()}{why[1:]}")
        item = bundle_of.get(key, need_item(*key))
        if item not in item_members:
            raise DeltaError(f"vastzetten kan niet ({where}): deze hulpvraag wacht niet")
        if out.setdefault(item, pin.offering) != pin.offering:
            raise DeltaError(f"vastzetten kan niet ({where}): al vastgezet op {out[item]}")
    return out


def check_pins_have_places(
    pinned: dict[str, str],
    arcs_of: dict[str, int],
    item_members: dict[str, tuple[tuple[str, str], ...]],
    groups: dict[str, list[Group]],
) -> None:
    """A pinned item needs an arc (`arcs_of`: arcs per pinned item), and the pins at one
    offering need places enough."""
    if not pinned:
        return
    per_offering: dict[str, int] = defaultdict(int)
    for item, oid in sorted(pinned.items()):
        if not arcs_of.get(item):
            raise DeltaError(f"vastzetten kan niet: bij {oid} is geen plek of budget voor {item}")
        per_offering[oid] += len(item_members[item])
    for oid, n in sorted(per_offering.items()):
        places = sum(g.places for g in groups.get(oid, ()))
        if n > places:
            raise DeltaError(
                f"vastzetten kan niet: {n} hulpvragen vastgezet op {oid}, er zijn {places} plekken"
            )


def scenario_items(
    scenario: Scenario,
    elig: Eligibility,
    like: dict[str, tuple[tuple[str, str], ...]] | None = None,
) -> tuple[dict[str, tuple[tuple[str, str], ...]], dict[tuple[str, str], str]]:
    """The items (waiting needs and family bundles, in this order) with their members,
    and the bundle item of every bundled need.  `like`: the items of a problem this
    one is patched from; a need's item that has the same member there keeps that
    tuple (a what-if at 10,000 children then makes no new tuple per need)."""
    bundle_of: dict[tuple[str, str], str] = {}
    item_members: dict[str, tuple[tuple[str, str], ...]] = {}
    if scenario.policy.bundle_families:
        for bd in scenario.bundles:
            in_pool = tuple(mk for mk in bd.members if mk in elig.pairs)
            if not in_pool:
                continue
            for mk in in_pool:
                bundle_of[mk] = bundle_item(bd.id)
            item_members[bundle_item(bd.id)] = in_pool
    for key in elig.pairs:
        if key not in bundle_of:
            it = need_item(*key)
            was = like.get(it) if like is not None else None
            item_members[it] = was if was is not None and was[0] == key else (key,)
    return item_members, bundle_of


def cost_levels(scenario: Scenario) -> dict[str, int]:
    w = scenario.policy.weights
    max_price = max((o.price_cents for o in scenario.offerings), default=0)

    def cost_level(price: int) -> int:
        if max_price <= 0:
            return w.cost_levels
        return round(w.cost_levels * (1 - price / max_price))

    return {o.id: cost_level(o.price_cents) for o in scenario.offerings}


def weights_for(
    scenario: Scenario, item_members: dict[str, tuple[tuple[str, str], ...]]
) -> TierWeights:
    n_members = sum(len(v) for v in item_members.values())
    # Round N up so that adding or removing a few children does not change every arc
    # value (a what-if can then reuse the untouched parts of the answer).
    return tier_weights(
        scenario.policy.weights, -(-max(1, n_members) // WEIGHT_BUCKET) * WEIGHT_BUCKET
    )


def compile_scenario(scenario: Scenario, eligibility: Eligibility | None = None) -> Compiled:
    idx = eligibility.index if eligibility is not None else ScenarioIndex(scenario)
    elig = eligibility or evaluate(scenario, idx)
    pol = scenario.policy
    children = scenario.child_by_ref
    targets = {c.ref: idx.target(c) for c in scenario.children}
    item_members, bundle_of = scenario_items(scenario, elig)

    # -- cutoffs per eligible pair ---------------------------------------------
    cut = Cutoffs(scenario, idx, targets)
    cutoffs: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    own: dict[str, int] = defaultdict(int)  # offering -> own places of kept children
    pairs_at: dict[str, list[tuple[str, str]]] = defaultdict(list)
    via_pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for key in elig.pairs:
        ref, nid = key
        need = children[ref].need(nid)
        for pc in elig.eligible(ref, nid):
            oid = pc.offering_id
            pairs_at[oid].append(key)
            if pc.via_main_contractor is not None:
                via_pairs[pc.via_main_contractor].add(key)
            if need.current_offering == oid:
                cutoffs[oid][key] = cut.kept(oid)
                own[oid] += 1
            else:
                cutoffs[oid][key] = cut.new(ref, oid)

    # -- release groups per offering -----------------------------------------
    groups = {}
    for oid, at in cutoffs.items():
        cuts = {c for c in at.values() if c >= 0}
        if cuts:
            groups[oid] = release_groups(oid, cuts, idx.slots[oid], own.get(oid, 0), pol.allow_late)

    tw = weights_for(scenario, item_members)
    pinned = pinned_items(scenario, elig, item_members, bundle_of)
    prio_of = {
        ref: priority_points(scenario, children[ref], deadline=idx.deadline(children[ref]))
        for it in item_members.values()
        for ref, _ in it
    }
    items = list(item_members)
    lay = layout(scenario, groups)
    maker = ArcMaker(scenario, elig, cutoffs, pinned, prio_of, tw, cost_levels(scenario), lay)
    out = ArcLists()
    bundle_infeasible: set[str] = set()
    for i, it in enumerate(items):
        if not maker.add(it, i, item_members[it], out):
            bundle_infeasible.add(it)

    arc_item = np.asarray(out.item, dtype=np.int32)
    check_pins_have_places(pinned, _arcs_per_item(arc_item, items, pinned), item_members, groups)
    raw_ptr = np.asarray(out.ptr, dtype=np.int64)
    raw_res = np.asarray(out.res, dtype=np.int32)
    raw_amt = np.asarray(out.amt, dtype=np.int64)
    capacity = np.asarray(lay.res_cap, dtype=np.int64)
    demand = resource_demand(arc_item, raw_ptr, raw_res, raw_amt, capacity.size)
    use_ptr, use_res, use_amt = keep_binding_uses(raw_ptr, raw_res, raw_amt, demand <= capacity)
    arrays = (
        arc_item,
        np.asarray(out.opt, dtype=np.int32),
        np.asarray(out.val, dtype=np.int64),
        use_ptr,
        use_res,
        use_amt,
    )
    return Compiled(
        scenario=scenario,
        problem=problem_of(scenario, items, lay, tw, pinned, arrays),
        eligibility=elig,
        weights=tw,
        item_members=item_members,
        arcs=out.infos,
        groups=groups,
        targets=targets,
        cutoffs=dict(cutoffs),
        bundle_of=bundle_of,
        bundle_infeasible=bundle_infeasible,
        own_places=dict(own),
        pinned=pinned,
        priority=prio_of,
        pairs_at=dict(pairs_at),
        via_pairs=dict(via_pairs),
        raw_uses=(raw_ptr, raw_res, raw_amt),
        demand=demand,
    )


def _arcs_per_item(
    arc_item: np.ndarray, items: list[str], pinned: dict[str, str]
) -> dict[str, int]:
    if not pinned:
        return {}
    counts = np.bincount(arc_item, minlength=len(items))
    pos = {it: i for i, it in enumerate(items)}
    return {it: int(counts[pos[it]]) for it in pinned if it in pos}
