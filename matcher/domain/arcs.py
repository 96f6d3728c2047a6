"""The building blocks of a compiled problem: release groups, the layout of resources
and options, and the arcs of one item.  `compile.compile_scenario` builds a problem from
them for a whole scenario; `compile_patch` rebuilds only the items a what-if changed."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.domain.caretypes import MAX_HOME_RANK
from matcher.domain.eligibility import Eligibility, ScenarioIndex, start_of
from matcher.domain.model import Scenario
from matcher.problem import OBJECTIVE_TIERS, AssignmentProblem, Sense

if TYPE_CHECKING:
    from matcher.domain.compile import TierWeights


@dataclass(frozen=True)
class Group:
    offering: str
    index: int
    first_release: date
    last_release: date
    places: int
    first_slot: int
    last_slot: int


@dataclass(frozen=True)
class ArcInfo:
    """What one arc means in domain terms.

    `meets_target`: every member's help starts by its objective target date (the
    norm-3 deadline, or evaluation date + grace days for a child already past it).
    It is not "binnen de norm"; `Placement.within_norm` is.
    """

    item: str
    offering: str
    group: int
    meets_target: bool
    kept: bool
    in_region: bool
    alternative: bool
    priority: int
    home: int
    cost_level: int
    members: int


class Cutoffs:
    """The last usable release slot of eligible pairs: a kept placement uses its own
    place (every slot with `allow_late`), a new one the slots whose start is on or before
    the child's target date."""

    def __init__(self, scenario: Scenario, idx: ScenarioIndex, targets: dict[str, date]) -> None:
        self.ev = scenario.evaluation_date
        self.allow_late = scenario.policy.allow_late
        self.offerings = scenario.offering_by_id
        self.slots = idx.slots
        self.targets = targets
        self.starts_of: dict[str, list[date]] = {}

    def kept(self, oid: str) -> int:
        return len(self.slots[oid]) - 1 if self.allow_late else 0

    def new(self, ref: str, oid: str) -> int:
        starts = self.starts_of.get(oid)
        if starts is None:
            o = self.offerings[oid]
            starts = self.starts_of[oid] = [start_of(s, o, self.ev) for s in self.slots[oid]]
        return bisect_right(starts, self.targets[ref]) - 1


def release_groups(
    oid: str, cuts: set[int], sl: tuple[Any, ...], own: int, late: bool
) -> list[Group]:
    """The release groups of one offering: consecutive slots that no cutoff separates."""
    ends = sorted(cuts | ({len(sl) - 1} if late else set()))
    out: list[Group] = []
    lo = 0
    for end in ends:
        places = sum(s.places for s in sl[lo : end + 1]) + (own if lo == 0 else 0)
        out.append(Group(oid, len(out), sl[lo].release, sl[end].release, places, lo, end))
        lo = end + 1
    return out


@dataclass
class Layout:
    """Resources (place groups by offering, then budgets) and options, by position."""

    res_ids: list[str]
    res_cap: list[int]
    res_pos: dict[str, int]
    opt_ids: list[str]
    group_ids: dict[str, list[tuple[Group, int, int]]]
    budget_pos: dict[str, int]


def layout(scenario: Scenario, groups: dict[str, list[Group]]) -> Layout:
    res_ids: list[str] = []
    res_cap: list[int] = []
    res_pos: dict[str, int] = {}

    def resource(rid: str, cap: int) -> int:
        p = res_pos.get(rid)
        if p is None:
            p = res_pos[rid] = len(res_ids)
            res_ids.append(rid)
            res_cap.append(cap)
        return p

    for oid in sorted(groups):
        for g in groups[oid]:
            resource(f"place:{oid}@{g.index}", g.places)
    for bg in scenario.budgets:
        resource(f"budget:{bg.id}", bg.remaining_cents)
    opt_ids: list[str] = []
    group_ids: dict[str, list[tuple[Group, int, int]]] = {}
    for oid in sorted(groups):
        lst = []
        for g in groups[oid]:
            lst.append((g, len(opt_ids), res_pos[f"place:{oid}@{g.index}"]))
            opt_ids.append(f"{oid}@{g.index}")
        group_ids[oid] = lst
    budget_pos = {bg.id: res_pos[f"budget:{bg.id}"] for bg in scenario.budgets}
    return Layout(res_ids, res_cap, res_pos, opt_ids, group_ids, budget_pos)


class ArcLists:
    """Arcs being built, in CSR form (uses before the redundant ones are dropped)."""

    def __init__(self) -> None:
        self.item: list[int] = []
        self.opt: list[int] = []
        self.val: list[int] = []
        self.ptr: list[int] = [0]
        self.res: list[int] = []
        self.amt: list[int] = []
        self.infos: list[ArcInfo] = []


@dataclass
class ArcMaker:
    """Everything the arcs of one item depend on."""

    scenario: Scenario
    elig: Eligibility
    cutoffs: dict[str, dict[tuple[str, str], int]]
    pinned: dict[str, str]
    priority: dict[str, int]
    weights: TierWeights
    cost_of: dict[str, int]
    lay: Layout

    def add(
        self,
        it: str,
        item_ix: int,
        members: tuple[tuple[str, str], ...],
        out: ArcLists,
        only: set[str] | None = None,
        copy: Callable[[list[str]], None] | None = None,
    ) -> bool:
        """Append the arcs of item `it`; False when the item is a bundle whose members
        could each be served, but not all at one offering.  With `only`, the arcs at
        the other offerings are not built but appended by `copy(offerings)` (a what-if
        copies them from the base: they cannot have changed), in the same order."""
        sc, elig, cutoffs = self.scenario, self.elig, self.cutoffs
        children, offerings, idx = sc.child_by_ref, sc.offering_by_id, elig.index
        w, pol, res_cap = sc.policy.weights, sc.policy, self.lay.res_cap
        m = len(members)
        # offerings eligible for every member
        per_member = [{pc.offering_id: pc for pc in elig.eligible(*key)} for key in members]
        common = [o for o in per_member[0] if all(o in d for d in per_member[1:])]
        if not common:
            return not (m > 1 and all(per_member))
        prio = sum(self.priority[r] for r, _ in members)
        first_child = children[members[0][0]]
        pin = self.pinned.get(it)
        w_target, w_prio = self.weights.meets_target, self.weights.priority
        # offerings whose arcs are copied, in a row: copied in one go
        pending: list[str] = []
        for oid in common:
            if pin is not None and oid != pin:
                continue
            if only is not None and copy is not None:
                if oid not in only:
                    pending.append(oid)
                    continue
                if pending:
                    copy(pending)
                    pending = []
            o = offerings[oid]
            pcs = [d[oid] for d in per_member]
            at = cutoffs[oid]
            if m == 1:
                cut = at[members[0]]
                kept = children[members[0][0]].need(members[0][1]).current_offering == oid
            else:
                cut = min(at[key] for key in members)
                kept = all(children[r].need(n).current_offering == oid for r, n in members)
            alt = any(pc.is_alternative for pc in pcs)
            reg = all(pc.in_region for pc in pcs)
            home = MAX_HOME_RANK - o.care_type.home_likeness_rank
            cl = self.cost_of[oid]
            budgets = (
                [
                    (self.lay.budget_pos[bg.id], o.price_cents * m)
                    for bg in idx.budgets_for(first_child, o, pcs[0].via_main_contractor)
                ]
                if o.price_cents > 0
                else []
            )
            if any(amt > res_cap[r] for r, amt in budgets):
                continue
            base_fit = w.home * home + w.region * int(reg) + cl
            for g, op, ri in self.lay.group_ids.get(oid, ()):
                meets = g.last_slot <= cut
                if not meets and not pol.allow_late:
                    break
                if g.places < m:
                    continue
                k = kept and g.index == 0
                fit = base_fit + w.keep * int(k)
                out.item.append(item_ix)
                out.opt.append(op)
                out.val.append(m * w_target * int(meets) + w_prio * prio + m * fit)
                out.res.append(ri)
                out.amt.append(m)
                for r, amt in budgets:
                    out.res.append(r)
                    out.amt.append(amt)
                out.ptr.append(len(out.res))
                out.infos.append(
                    ArcInfo(
                        item=it,
                        offering=oid,
                        group=g.index,
                        meets_target=meets,
                        kept=k,
                        in_region=reg,
                        alternative=alt,
                        priority=prio,
                        home=home,
                        cost_level=cl,
                        members=m,
                    )
                )
        if pending and copy is not None:
            copy(pending)
        return True


def problem_of(
    scenario: Scenario,
    items: list[str],
    lay: Layout,
    tw: TierWeights,
    pinned: dict[str, str],
    arrays: tuple[np.ndarray, ...],
    *,
    validate: bool = True,
) -> AssignmentProblem:
    """The problem from its arc arrays (item, option, value, use ptr, resource, amount)."""
    arc_item, arc_opt, arc_val, use_ptr, use_res, use_amt = arrays
    fields = dict(
        items=items,
        options=lay.opt_ids,
        resources=lay.res_ids,
        capacity=np.asarray(lay.res_cap, dtype=np.int64),
        arc_item=arc_item,
        arc_option=arc_opt,
        arc_value=arc_val,
        use_ptr=use_ptr,
        use_resource=use_res,
        use_amount=use_amt,
        must_assign=[it in pinned for it in items],
        sense=Sense.MAXIMIZE,
        name=scenario.name or "scenario",
        meta={
            "weights": tw.as_dict(),
            "evaluation_date": scenario.evaluation_date.isoformat(),
            # W1 outweighs everything below it; the priority tier may (the solver checks
            # each on the problem it solves: matcher.solvers.tiers)
            OBJECTIVE_TIERS: [tw.meets_target, tw.priority],
        },
    )
    if validate:
        return AssignmentProblem.create(**fields)  # type: ignore[arg-type]
    n_arcs = int(arc_item.size)
    return AssignmentProblem(
        item_ids=tuple(items),
        must_assign=np.asarray(fields["must_assign"], dtype=np.bool_),
        unassigned_penalty=np.zeros(len(items), dtype=np.int64),
        option_ids=tuple(lay.opt_ids),
        resource_ids=tuple(lay.res_ids),
        capacity=np.asarray(lay.res_cap, dtype=np.int64),
        arc_item=arc_item.astype(np.int32, copy=False),
        arc_option=arc_opt.astype(np.int32, copy=False),
        arc_value=arc_val.astype(np.int64, copy=False),
        use_ptr=use_ptr.astype(np.int64, copy=False),
        use_resource=use_res.astype(np.int32, copy=False),
        use_amount=use_amt.astype(np.int64, copy=False),
        pinned=np.zeros(n_arcs, dtype=np.bool_),
        forbidden=np.zeros(n_arcs, dtype=np.bool_),
        sense=Sense.MAXIMIZE,
        name=scenario.name or "scenario",
        meta=fields["meta"],  # type: ignore[arg-type]
    )
