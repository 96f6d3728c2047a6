"""Lookups computed once per scenario for the eligibility rules.

Contracts, subcontracts, refusals, budgets, places per release date and the purchase
route per (gemeente, care type, provider): the rules in `eligibility` read them per
pair, so each is built once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from matcher.domain.caretypes import CareType
from matcher.domain.clocks import deadline_norm3, objective_target_date
from matcher.domain.model import Budget, CareNeed, Child, Offering, Refusal, Scenario
from matcher.domain.reasons import Reason

Route = tuple[Reason | None, str | None, tuple[str, ...]]


@dataclass
class PurchaseLookups:
    """The index's answers that depend only on what was bought: contracts, subcontracts,
    budgets, regions, the evaluation date and the offerings (not on any child but its
    gemeente).  Scenarios that share all of these may share one (see
    `ScenarioIndex.share_purchase_lookups`), so a lookup made for one is not made again
    for the next."""

    contracted: dict[tuple[str, CareType], set[str]] = field(default_factory=dict)
    purchasable: dict[tuple[str, CareType], frozenset[str]] = field(default_factory=dict)
    routes: dict[tuple[str, CareType, str], Route] = field(default_factory=dict)
    budgets: dict[tuple[str, str, str | None], list[Budget]] = field(default_factory=dict)


@dataclass(frozen=True)
class Slot:
    """Places of an offering that free up on `release` (index 0: free now)."""

    release: date
    places: int


class ScenarioIndex:
    """Lookups computed once per scenario (contracts, subcontracts, budgets, refusals)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        ev = scenario.evaluation_date
        self.contracted: dict[tuple[CareType, str], set[str]] = defaultdict(set)
        for c in scenario.contracts:
            if c.valid_from is not None and c.valid_from > ev:
                continue
            if c.valid_until is not None and c.valid_until < ev:
                continue
            self.contracted[(c.care_type, c.buyer)].add(c.provider)
        self.subcontract: dict[tuple[str, str, CareType | None], bool] = {}
        for s in scenario.subcontracts:
            self.subcontract[(s.main_provider, s.sub_provider, s.care_type)] = s.accepts
        self.refusals: dict[tuple[str, str], list[Refusal]] = defaultdict(list)
        for r in scenario.refusals:
            self.refusals[(r.offering, r.child_ref)].append(r)
        self.by_care_type: dict[CareType, list[Offering]] = defaultdict(list)
        for o in scenario.offerings:
            self.by_care_type[o.care_type].append(o)
        self.horizon_end = ev + timedelta(weeks=scenario.policy.horizon_weeks)
        self.budgets_by_provider: dict[str | None, list[Budget]] = defaultdict(list)
        for b in scenario.budgets:
            self.budgets_by_provider[b.provider].append(b)
        self.forbidden = {(f.child_ref, f.need_id, f.offering) for f in scenario.forbids}
        self._targets: dict[str, date] = {}
        self._ages: dict[tuple[str, int], tuple[int, int]] = {}
        self._deadlines: dict[str, date | None] = {}
        self._budget_cache: dict[tuple[str, str, str | None], list[Budget]] = {}
        # purchase facts depend on the child only through its gemeente: computed once
        # per (gemeente, care type) instead of once per pair
        self._contracted: dict[tuple[str, CareType], set[str]] = {}
        self._purchasable: dict[tuple[str, CareType], frozenset[str]] = {}
        self._routes: dict[tuple[str, CareType, str], Route] = {}
        self.region_of = dict(scenario.purchase_region_of)
        # A gemeente that buys nothing itself and has no budget of its own is looked up
        # as its region: every such gemeente of a region gets the same answers.
        self._own_buyers = {c.buyer for c in scenario.contracts}
        self._own_budgets = {b.gemeente for b in scenario.budgets if b.gemeente is not None}
        self.subs_of: dict[str, set[str]] = defaultdict(set)
        # per onderaannemer: the hoofdaannemers that said yes or no to it (for any care
        # type); a route only asks those, not every contracted hoofdaannemer
        self.mains_of: dict[str, set[str]] = defaultdict(set)
        for main, sub, _ in self.subcontract:
            self.subs_of[main].add(sub)
            self.mains_of[sub].add(main)

    def share_purchase_lookups(self, lookups: PurchaseLookups) -> None:
        """Read and fill `lookups` instead of this index's own. The caller vouches that
        every scenario sharing them has the same contracts, subcontracts, budgets,
        regions, evaluation date and offering objects (the search's cache keeps one per
        care type, purchasing region and data version)."""
        self._contracted = lookups.contracted
        self._purchasable = lookups.purchasable
        self._routes = lookups.routes
        self._budget_cache = lookups.budgets

    def target(self, child: Child) -> date:
        """The objective's target date (not the norm), computed once per child."""
        t = self._targets.get(child.ref)
        if t is None:
            t = objective_target_date(self.scenario, child, self.deadline(child))
            self._targets[child.ref] = t
        return t

    def ages(self, child: Child, duration_weeks: int) -> tuple[int, int]:
        """The child's age at the start (the evaluation date) and at the planned end of
        help lasting `duration_weeks`, computed once per child and duration (the same for
        every offering of that duration)."""
        key = (child.ref, duration_weeks)
        hit = self._ages.get(key)
        if hit is None:
            start = self.scenario.evaluation_date
            a0 = child.age_on(start)
            if child.birth_month is None:
                hit = (a0, a0 + duration_weeks // 52)
            else:
                hit = (a0, child.age_on(start + timedelta(weeks=duration_weeks)))
            self._ages[key] = hit
        return hit

    def deadline(self, child: Child) -> date | None:
        """The norm-3 deadline, computed once per child."""
        if child.ref not in self._deadlines:
            self._deadlines[child.ref] = deadline_norm3(child)
        return self._deadlines[child.ref]

    def buyers(self, child: Child) -> tuple[str, ...]:
        return self._buyers(child.gemeente)

    def _buyers(self, gemeente: str) -> tuple[str, ...]:
        region = self.region_of.get(gemeente)
        return (gemeente,) if region is None else (gemeente, region)

    def contracted_providers(self, child: Child, care_type: CareType) -> set[str]:
        return set(self._contracted_for(child.gemeente, care_type))

    def _lookup_key(self, gemeente: str, own: set[str]) -> str:
        """What a purchase answer for `gemeente` depends on: the gemeente itself when it
        is in `own` (it holds contracts, or budgets, of its own), else its region."""
        if gemeente in own:
            return gemeente
        region = self.region_of.get(gemeente)
        return gemeente if region is None else "@" + region

    def _contracted_for(self, gemeente: str, care_type: CareType) -> set[str]:
        key = (self._lookup_key(gemeente, self._own_buyers), care_type)
        out = self._contracted.get(key)
        if out is None:
            out = set()
            for b in self._buyers(gemeente):
                out |= self.contracted.get((care_type, b), set())
            self._contracted[key] = out
        return out

    def route(self, gemeente: str, care_type: CareType, provider: str) -> Route:
        """`purchase_route` for a gemeente, care type and provider (cached)."""
        key = (self._lookup_key(gemeente, self._own_buyers), care_type, provider)
        hit = self._routes.get(key)
        if hit is None:
            hit = self._routes[key] = _route(self, gemeente, care_type, provider)
        return hit

    def purchasable(self, gemeente: str, care_type: CareType) -> frozenset[str]:
        """Providers whose `purchase_route` for a child of `gemeente` has no reason:
        contracted, or accepted as onderaannemer by a contracted hoofdaannemer."""
        key = (self._lookup_key(gemeente, self._own_buyers), care_type)
        hit = self._purchasable.get(key)
        if hit is None:
            contracted = self._contracted_for(gemeente, care_type)
            subs = {s for m in contracted for s in self.subs_of.get(m, ())}
            ok = set(contracted)
            ok |= {s for s in subs if self.route(gemeente, care_type, s)[0] is None}
            hit = self._purchasable[key] = frozenset(ok)
        return hit

    def accepts_sub(self, main: str, sub: str, care_type: CareType) -> bool | None:
        v = self.subcontract.get((main, sub, care_type))
        if v is None:
            v = self.subcontract.get((main, sub, None))
        return v

    def budgets_for(self, child: Child, offering: Offering, via: str | None) -> list[Budget]:
        """The budgets a placement of `child` at `offering` (through `via`) draws on; the
        answer depends on the child only through its gemeente, so it is cached."""
        key = (self._lookup_key(child.gemeente, self._own_budgets), offering.id, via)
        hit = self._budget_cache.get(key)
        if hit is None or self.scenario.offering_by_id.get(offering.id) is not offering:
            hit = self._budget_cache[key] = self._budgets_for(child, offering, via)
        return hit

    def _budgets_for(self, child: Child, offering: Offering, via: str | None) -> list[Budget]:
        region = self.region_of.get(child.gemeente)
        out = []
        pool = self.budgets_by_provider.get(None, []) + self.budgets_by_provider.get(
            offering.provider, []
        )
        if via is not None and via != offering.provider:
            pool += self.budgets_by_provider.get(via, [])
        for b in pool:
            if b.perceel is not None and b.perceel != offering.effective_perceel:
                continue
            if b.gemeente is not None and b.gemeente != child.gemeente:
                continue
            if b.region is not None and b.region != region:
                continue
            out.append(b)
        return out

    @cached_property
    def slots(self) -> dict[str, tuple[Slot, ...]]:
        """Per offering: free places now, then releases within the horizon, by date."""
        return {o.id: self._slots_of(o) for o in self.scenario.offerings}

    def _slots_of(self, o: Offering) -> tuple[Slot, ...]:
        ev = self.scenario.evaluation_date
        by_day: dict[date, int] = defaultdict(int)
        by_day[ev] += o.free_now
        for r in o.releases:
            if r.places > 0 and r.on <= self.horizon_end:
                by_day[max(ev, r.on)] += r.places
        return tuple(Slot(d, p) for d, p in sorted(by_day.items()))

    def reuse(self, base: ScenarioIndex) -> None:
        """Take the slots and first starts of the offerings that are the same objects in
        `base` (a what-if's base, same evaluation date and horizon) instead of computing
        them all again; the others are computed."""
        if (
            base.scenario.evaluation_date != self.scenario.evaluation_date
            or base.horizon_end != self.horizon_end
        ):
            return
        if "held_places" not in self.__dict__:
            held_now = self._held_from(base)
            if held_now is not None:
                self.__dict__["held_places"] = held_now
        same = {o.id for o in base.scenario.offerings} & {o.id for o in self.scenario.offerings}
        old = base.scenario.offering_by_id
        b_slots, b_first, b_held = base.slots, base.first_start, base.held_places
        held = self.held_places
        slots: dict[str, tuple[Slot, ...]] = {}
        first: dict[str, date | None] = {}
        for o in self.scenario.offerings:
            if o.id in same and old[o.id] is o:
                slots[o.id] = b_slots[o.id]
                if b_held.get(o.id, 0) == held.get(o.id, 0):
                    first[o.id] = b_first[o.id]
                    continue
            else:
                slots[o.id] = self._slots_of(o)
            first[o.id] = self._first_start_of(o, slots[o.id], held)
        self.__dict__["slots"] = slots
        self.__dict__["first_start"] = first

    def _held_from(self, base: ScenarioIndex) -> dict[str, int] | None:
        """`held_places` from the base's, counting only the children that are not the
        same objects as in the base (a what-if changes a few of 10,000); None when
        most changed."""
        old, new = base.scenario.children, self.scenario.children
        gone = [a for a, b in zip(old, new, strict=False) if a is not b] + list(old[len(new) :])
        came = [b for a, b in zip(old, new, strict=False) if a is not b] + list(new[len(old) :])
        if len(gone) + len(came) > len(new) // 4:
            return None
        out: dict[str, int] = defaultdict(int, base.held_places)
        for children, step in ((gone, -1), (came, 1)):
            for c in children:
                for n in c.needs:
                    if n.current_offering is not None:
                        out[n.current_offering] += step
        for k in [k for k, v in out.items() if v == 0]:
            del out[k]
        return out

    @cached_property
    def held_places(self) -> dict[str, int]:
        """Per offering: places held by waiting children placed there now.  They free up
        if that child moves, so other children may be matched to them."""
        out: dict[str, int] = defaultdict(int)
        for c in self.scenario.children:
            for n in c.needs:
                if n.current_offering is not None:
                    out[n.current_offering] += 1
        return out

    @cached_property
    def first_start(self) -> dict[str, date | None]:
        """Per offering: the earliest start over all slots with places, counting places
        held by children who may move (None: no place at all)."""
        held, slots = self.held_places, self.slots
        return {o.id: self._first_start_of(o, slots[o.id], held) for o in self.scenario.offerings}

    def _first_start_of(
        self, o: Offering, slots: tuple[Slot, ...], held: dict[str, int]
    ) -> date | None:
        # slots are sorted by release and a start never comes before its release,
        # so the first slot with a place gives the earliest start
        first = next(
            (s for i, s in enumerate(slots) if s.places > 0 or (i == 0 and held.get(o.id, 0) > 0)),
            None,
        )
        return None if first is None else start_of(first, o, self.scenario.evaluation_date)


def start_of(slot: Slot, offering: Offering, ev: date) -> date:
    return max(ev, slot.release) + timedelta(days=offering.intake_lead_days)


def _route(index: ScenarioIndex, gemeente: str, ct: CareType, provider: str) -> Route:
    """(reason, hoofdaannemer used, hoofdaannemers that decline) for R10/R11."""
    contracted = index._contracted_for(gemeente, ct)
    if provider in contracted:
        return None, None, ()
    if not contracted:
        return Reason.NOT_PURCHASED, None, ()
    declining: list[str] = []
    # a hoofdaannemer without a word on this provider neither accepts nor declines it
    for main in sorted(contracted & index.mains_of.get(provider, set())):
        ok = index.accepts_sub(main, provider, ct)
        if ok:
            return None, main, ()
        if ok is False:
            declining.append(main)
    return Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR, None, tuple(declining)


def candidates(scenario: Scenario, need: CareNeed, index: ScenarioIndex) -> list[Offering]:
    """Offerings of the needed care type and of its alternatives (the candidate set)."""
    out = list(index.by_care_type.get(need.care_type, ()))
    for alt in need.alternatives:
        if alt != need.care_type:
            out.extend(index.by_care_type.get(alt, ()))
    return out
