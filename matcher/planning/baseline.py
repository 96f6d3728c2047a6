"""The naive rule inkoop is compared with: buy where the waiting list is
longest."""

from __future__ import annotations

import time
from collections import defaultdict

from matcher.planning.advice import PurchasePlan, explain_units
from matcher.planning.model import CandidatePurchase, PlanningProblem
from matcher.solution import SolveOptions


def waiting_lists(pp: PlanningProblem) -> dict[tuple[str, str], int]:
    """Children (needs) waiting per (care type, region)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for ct, rg in zip(pp.item_care_type, pp.item_region, strict=True):
        out[(ct, rg)] += 1
    return dict(out)


def naive_units(pp: PlanningProblem, budget_cents: int) -> dict[str, int]:
    """The naive rule: buy one place at a time where the waiting list is longest.

    The list shrinks by the places bought; within a list the cheapest place
    per euro is bought first.  Lists without an affordable candidate are
    skipped; buying stops when no list with children left can be served.
    """
    left = dict(waiting_lists(pp))
    budget = budget_cents
    units: dict[str, int] = defaultdict(int)
    groups: dict[tuple[str, str], list[CandidatePurchase]] = defaultdict(list)
    for c in pp.candidates:
        groups[(c.care_type, c.region)].append(c)
    for cs in groups.values():
        cs.sort(key=lambda c: (c.price_cents / max(1, sum(c.adds.values())), c.id))
    while True:
        bought = False
        for key in sorted(left, key=lambda k: (-left[k], k)):
            if left[key] <= 0:
                break
            for c in groups.get(key, []):
                if units[c.id] < c.max_units and c.price_cents <= budget:
                    units[c.id] += 1
                    budget -= c.price_cents
                    left[key] -= sum(c.adds.values())
                    bought = True
                    break
            if bought:
                break
        if not bought:
            return {k: v for k, v in units.items() if v > 0}


def naive_plan(
    pp: PlanningProblem, budget_cents: int, options: SolveOptions | None = None
) -> PurchasePlan:
    pp.validate()
    t0 = time.perf_counter()
    return explain_units(
        pp,
        naive_units(pp, budget_cents),
        rule="longest-waiting-list",
        budget_cents=budget_cents,
        options=options,
        started=t0,
    )
