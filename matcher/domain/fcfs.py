"""First come, first served: today's practice, as the yardstick for a matching.

The rule (docs/outcomes.md): children are taken in the order of their ruling date
(the oldest ruling first; without a ruling date last; ties by ref).  Each waiting
need of a child takes, of the offerings it is eligible for, the one whose first
free place starts earliest (ties by offering id), and that place is gone for
everyone after.  A need that is already placed at its current offering keeps it.
A budget ceiling is spent as the places are taken; an offering whose ceiling has
run out is skipped.  Family bundles are not kept together: under first come,
first served every child is referred on its own.

The answer is a `MatchResult`-like pair of placements and unplaced needs, measured
with the same norm clock (`clocks.within_norm`) as the matching, so that the
outcomes per group of both can be set side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from matcher.domain.clocks import days_late_at, deadline_norm3, within_norm
from matcher.domain.eligibility import Eligibility, PairCheck, evaluate, start_of
from matcher.domain.model import Child, Scenario

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


def _order(child: Child) -> tuple[int, date, str]:
    return (0, child.ruling_date, child.ref) if child.ruling_date else (1, date.max, child.ref)


def first_come_first_served(
    scenario: Scenario, eligibility: Eligibility | None = None
) -> FcfsResult:
    """Place the waiting needs one by one in ruling-date order (see the module's rule)."""
    elig = eligibility or evaluate(scenario)
    idx = elig.index
    ev = scenario.evaluation_date
    left: dict[str, list[int]] = {
        oid: [s.places for s in slots] for oid, slots in idx.slots.items()
    }
    budget_left = {b.id: b.remaining_cents for b in scenario.budgets}
    out = FcfsResult(scenario)
    for child in sorted(scenario.children, key=_order):
        deadline = deadline_norm3(child)
        for need in child.needs:
            key = (child.ref, need.id)
            if key not in elig.pairs:
                continue  # help already started: not waiting
            if need.current_offering is not None:
                start = need.start_date or ev
                out.placements[key] = FcfsPlacement(
                    child.ref,
                    need.id,
                    need.current_offering,
                    start,
                    deadline,
                    within_norm(deadline, start),
                    days_late_at(deadline, start),
                )
                continue
            best: tuple[date, str, int, PairCheck] | None = None
            for pc in elig.eligible(child.ref, need.id):
                o = scenario.offering_by_id[pc.offering_id]
                budgets = idx.budgets_for(child, o, pc.via_main_contractor)
                if any(budget_left[b.id] < o.price_cents for b in budgets):
                    continue
                free = next((i for i, n in enumerate(left[o.id]) if n > 0), None)
                if free is None:
                    continue
                start = start_of(idx.slots[o.id][free], o, ev)
                cand = (start, o.id, free, pc)
                if best is None or cand[:2] < best[:2]:
                    best = cand
            if best is None:
                out.unplaced.append(key)
                continue
            start, oid, slot, pc = best
            o = scenario.offering_by_id[oid]
            left[oid][slot] -= 1
            for b in idx.budgets_for(child, o, pc.via_main_contractor):
                budget_left[b.id] -= o.price_cents
            # an alternative counts toward the norm only when family and professional
            # accepted it, as in the matching's decode
            counts = not pc.is_alternative or need.alternative_accepted
            out.placements[key] = FcfsPlacement(
                child.ref,
                need.id,
                oid,
                start,
                deadline,
                counts and within_norm(deadline, start),
                days_late_at(deadline, start),
            )
    return out
