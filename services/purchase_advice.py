"""Use case: purchase advice for an inkoop team.

Which places to buy with a budget for the most children within the norm
(`matcher.planning`), against the naive rule "buy where the list is longest";
aggregates only, with small cells suppressed by the data layer's rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from matcher.domain import Offering, Scenario
from matcher.planning import (
    OfferingPurchase,
    PurchasePlan,
    naive_plan,
    plan_purchases,
    planning_from_scenario,
)
from providers.store.access import Principal
from providers.store.aggregates import small_cell
from providers.store.regional import load_region, region_of
from services.errors import InvalidRequest
from services.what_if import Progress

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class PurchaseLine:
    """Places bought for one care type in one region under one rule."""

    care_type: str
    region: str
    places: int
    spent_cents: int
    children: int | None  # within the norm because of this purchase (re-solve without it)
    cents_per_child: int | None


@dataclass(frozen=True)
class RuleOutcome:
    rule: str  # "advies" or "langste_wachtlijst"
    spent_cents: int
    within_norm: int | None
    gained: int | None
    per_million_euro: float | None
    purchases: tuple[PurchaseLine, ...]


@dataclass(frozen=True)
class AdviceOutcome:
    region: str
    evaluation_date: dt.date
    budget_cents: int
    max_places: int
    baseline_within_norm: int | None
    rules: tuple[RuleOutcome, ...]
    proven_optimal: bool
    # Why there is no advice (no rules then): the region has nothing to buy more of.
    no_advice: str = ""


# The answer for a region without purchased offerings: nothing to buy more of, so no
# plan to compute; said as an outcome, not as a failed job.
NO_PURCHASES = (
    "Deze regio heeft nog geen ingekocht aanbod dat nieuwe kinderen aanneemt. "
    "Daarom kan de wijzer niet uitrekenen waar extra plekken de meeste kinderen helpen. "
    "Wat kunt u doen? Laat beheer de contracten van de regio inlezen (pagina Inlezen, "
    "tabel Contracten), of vraag de aanbieders de opnamestop op te heffen. "
    "Vraag daarna het advies opnieuw aan."
)


def _candidates(sc: Scenario, region: str, max_places: int) -> list[OfferingPurchase]:
    """One candidate per care type in the region: more places at the cheapest purchased
    offering without an intake stop, at its own price per placement."""
    contracted = {(c.provider, c.care_type) for c in sc.contracts}
    best: dict[str, Offering] = {}
    for o in sc.offerings:
        if o.intake_stop or o.region != region or (o.provider, o.care_type) not in contracted:
            continue
        cur = best.get(o.care_type.value)
        if cur is None or (o.price_cents, o.id) < (cur.price_cents, cur.id):
            best[o.care_type.value] = o
    return [
        OfferingPurchase(
            id=ct,
            offering=replace(o, id=f"{o.id}+inkoop", free_now=max_places, releases=()),
            price_cents=max(1, o.price_cents),
        )
        for ct, o in sorted(best.items())
    ]


def _rule(plan: PurchasePlan, name: str, baseline: int | None) -> RuleOutcome:
    within = None if small_cell(plan.within_norm) else plan.within_norm
    # the gain follows from two shown totals, so it is shown only with both
    gained = plan.gained if within is not None and baseline is not None else None
    lines = []
    for e in plan.effects:
        n = None if small_cell(e.marginal_within_norm) else e.marginal_within_norm
        lines.append(
            PurchaseLine(
                care_type=e.care_type,
                region=e.region,
                places=e.units,
                spent_cents=e.spent_cents,
                children=n,
                cents_per_child=e.cents_per_child if n else None,
            )
        )
    per_million = plan.children_per_million_euro if gained is not None else None
    return RuleOutcome(name, plan.spent_cents, within, gained, per_million, tuple(lines))


def purchase_advice(
    session: Session,
    user: Principal,
    budget_cents: int,
    *,
    today: dt.date,
    max_places: int = 10,
    region: str | None = None,
    progress: Progress | None = None,
) -> AdviceOutcome:
    """Which places to buy with `budget_cents` for the most children within the norm
    (matcher.planning), against the naive rule "buy where the list is longest";
    aggregates only (no refs: the plans' lists of unblocked children stay here)."""
    if budget_cents < 0 or max_places < 1:
        raise InvalidRequest({"budget": "Het budget en het aantal plekken moeten positief zijn."})
    step = progress or (lambda _s, _p: None)
    step("Gegevens van de regio lezen", 5)
    code = region_of(session, user, region)
    sc = load_region(session, user, today=today, region=code)
    purchases = _candidates(sc, code, max_places)
    if not purchases:
        return AdviceOutcome(
            region=code,
            evaluation_date=today,
            budget_cents=budget_cents,
            max_places=max_places,
            baseline_within_norm=None,
            rules=(),
            proven_optimal=True,
            no_advice=NO_PURCHASES,
        )
    step("Het advies berekenen", 20)
    pp, _ = planning_from_scenario(sc, purchases)
    advice = plan_purchases(pp, budget_cents)
    step("De regel 'langste wachtlijst' berekenen", 70)
    naive = naive_plan(pp, budget_cents)
    step("Totalen maken", 95)
    base = advice.baseline_within_norm
    baseline = None if small_cell(base) else base
    return AdviceOutcome(
        region=code,
        evaluation_date=today,
        budget_cents=budget_cents,
        max_places=max_places,
        baseline_within_norm=baseline,
        rules=(_rule(advice, "advies", baseline), _rule(naive, "langste_wachtlijst", baseline)),
        proven_optimal=advice.proven_optimal,
    )
