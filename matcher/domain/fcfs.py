"""First come, first served: today's practice, as the yardstick for a matching.

The rule (docs/outcomes.md): children are taken in the order of their ruling date
(the oldest ruling first; without a ruling date last; ties by ref).  Each waiting
need of a child takes, of the offerings it is eligible for, the one whose first
free place starts earliest (ties by offering id), and that place is gone for
everyone after.  A need that is already placed at its current offering keeps it.
A budget ceiling is spent as the places are taken; an offering whose ceiling has
run out is skipped.

A family bundle (children who must go to one offering together, R24) is taken as
one, as the matching does: in the order of the bundle's earliest ruling, at an
offering every member is eligible for, with a free place for each member, or not
at all.  Its members start together, on the start of the last of the places they
take.  A bundle whose members all keep their current offering keeps it.  With
`policy.bundle_families` off every need is taken on its own, as in the matching.

The answer is a `MatchResult`-like pair of placements and unplaced needs, measured
with the same norm clock (`clocks.within_norm`) as the matching, so that the
outcomes per group of both can be set side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from matcher.domain.clocks import days_late_at, deadline_norm3, within_norm
from matcher.domain.eligibility import Eligibility, PairCheck, evaluate, start_of
from matcher.domain.model import CareNeed, Child, Scenario

__all__ = ["FcfsPlacement", "FcfsResult", "first_come_first_served"]


@dataclass(frozen=True)
class FcfsPlacement:
    child_ref: str
    need_id: str
    offering: str
    start: date
    deadline: date | None
    within_norm: bool
    days_late: int


@dataclass
class FcfsResult:
    scenario: Scenario
    placements: dict[tuple[str, str], FcfsPlacement] = field(default_factory=dict)
    unplaced: list[tuple[str, str]] = field(default_factory=list)


Key = tuple[str, str]


def _order(child: Child) -> tuple[int, date, str]:
    return (0, child.ruling_date, child.ref) if child.ruling_date else (1, date.max, child.ref)


def _units(scenario: Scenario, elig: Eligibility) -> list[tuple[Key, ...]]:
    """The waiting needs in the order they are served: a family bundle as one unit,
    at its earliest member's place in the queue; every other need on its own."""
    bundled: dict[Key, int] = {}
    units: list[tuple[tuple[int, date, str], tuple[Key, ...]]] = []
    if scenario.policy.bundle_families:
        for bd in scenario.bundles:
            members = tuple(mk for mk in bd.members if mk in elig.pairs)
            if not members:
                continue
            for mk in members:
                bundled[mk] = len(units)
            first = min(_order(scenario.child_by_ref[ref]) for ref, _ in members)
            units.append((first, members))
    for child in scenario.children:
        for need in child.needs:
            key = (child.ref, need.id)
            if key in elig.pairs and key not in bundled:
                units.append((_order(child), (key,)))
    # a stable sort: a child's own needs stay in their order, after its bundle
    return [members for _, members in sorted(units, key=lambda u: u[0])]


def first_come_first_served(
    scenario: Scenario, eligibility: Eligibility | None = None
) -> FcfsResult:
    """Place the waiting needs in ruling-date order (see the module's rule)."""
    elig = eligibility or evaluate(scenario)
    idx = elig.index
    ev = scenario.evaluation_date
    left: dict[str, list[int]] = {
        oid: [s.places for s in slots] for oid, slots in idx.slots.items()
    }
    budget_left = {b.id: b.remaining_cents for b in scenario.budgets}
    out = FcfsResult(scenario)

    def need_of(key: Key) -> tuple[Child, CareNeed]:
        c = scenario.child_by_ref[key[0]]
        return c, c.need(key[1])

    def put(key: Key, oid: str, start: date, counts: bool) -> None:
        child, _ = need_of(key)
        deadline = deadline_norm3(child)
        out.placements[key] = FcfsPlacement(
            key[0],
            key[1],
            oid,
            start,
            deadline,
            counts and within_norm(deadline, start),
            days_late_at(deadline, start),
        )

    for members in _units(scenario, elig):
        current = {need_of(k)[1].current_offering for k in members}
        if None not in current and len(current) == 1:
            for k in members:
                put(k, need_of(k)[1].current_offering or "", need_of(k)[1].start_date or ev, True)
            continue
        m = len(members)
        per_member = [{pc.offering_id: pc for pc in elig.eligible(*k)} for k in members]
        first_child = need_of(members[0])[0]
        best: tuple[date, str, list[int], list[PairCheck]] | None = None
        for oid in sorted(set(per_member[0]).intersection(*per_member[1:])):
            o = scenario.offering_by_id[oid]
            pcs = [d[oid] for d in per_member]
            # the bundle's budget is its first member's, once per member (as compiled)
            budgets = idx.budgets_for(first_child, o, pcs[0].via_main_contractor)
            if any(budget_left[b.id] < m * o.price_cents for b in budgets):
                continue
            taken: list[int] = []
            for i, n in enumerate(left[oid]):
                taken += [i] * min(n, m - len(taken))
                if len(taken) == m:
                    break
            if len(taken) < m:
                continue
            start = max(start_of(idx.slots[oid][i], o, ev) for i in taken)
            if best is None or (start, oid) < best[:2]:
                best = (start, oid, taken, pcs)
        if best is None:
            out.unplaced.extend(members)
            continue
        start, oid, taken, pcs = best
        o = scenario.offering_by_id[oid]
        for i in taken:
            left[oid][i] -= 1
        for b in idx.budgets_for(first_child, o, pcs[0].via_main_contractor):
            budget_left[b.id] -= m * o.price_cents
        for k, pc in zip(members, pcs, strict=True):
            # an alternative counts toward the norm only when family and professional
            # accepted it, as in the matching's decode
            put(k, oid, start, not pc.is_alternative or need_of(k)[1].alternative_accepted)
    return out
