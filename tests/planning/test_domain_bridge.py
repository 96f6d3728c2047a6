"""Planning fed by the domain level: a Scenario plus offerings on sale."""

from __future__ import annotations

from datetime import date

import pytest

from matcher.domain.model import (
    CareNeed,
    CareType,
    Child,
    Contract,
    Offering,
    Policy,
    Region,
    Release,
    Scenario,
)
from matcher.planning import (
    OfferingPurchase,
    PlanningInputError,
    naive_units,
    plan_purchases,
    planning_from_scenario,
)
from matcher.solution import SolveOptions

EV = date(2022, 3, 1)
REGION = "JZ29"
GM = "GM0599"
AMB = CareType.AMBULANTE_JGGZ
OPTS = SolveOptions(time_limit_s=20.0, workers=1)


def child(ref: str, ct: CareType = AMB) -> Child:
    return Child(
        ref=ref,
        gemeente=GM,
        region=REGION,
        needs=(CareNeed("n", ct),),
        age_years=12,
        ruling_date=date(2022, 2, 1),  # norm-3 deadline 2022-05-01
    )


def offering(oid: str, provider: str, **kw: object) -> Offering:
    base: dict[str, object] = {"region": REGION, "free_now": 1, "price_cents": 100_000}
    base.update(kw)
    return Offering(id=oid, provider=provider, care_type=AMB, **base)  # type: ignore[arg-type]


def scenario() -> Scenario:
    return Scenario(
        evaluation_date=EV,
        children=(child("k1"), child("k2"), child("k3")),
        offerings=(offering("O", "P1"),),
        contracts=(Contract("C-O", "P1", AMB, REGION),),
        regions=(Region(REGION, (GM,)),),
        policy=Policy(),
    )


def on_sale(oid: str, provider: str, on: date, places: int) -> Offering:
    return offering(oid, provider, free_now=0, releases=(Release(on, places),), intake_lead_days=7)


def test_domain_scenario_advice_buys_the_places_that_start_in_time() -> None:
    early = OfferingPurchase(
        "koop-vroeg",
        on_sale("KOOP-A", "P2", date(2022, 3, 15), 2),
        price_cents=1_000_00,
        contracts=(Contract("C-A", "P2", AMB, REGION),),
    )
    late = OfferingPurchase(
        "koop-laat",
        on_sale("KOOP-B", "P3", date(2022, 8, 1), 3),
        price_cents=500_00,
        contracts=(Contract("C-B", "P3", AMB, REGION),),
    )
    pp, _ = planning_from_scenario(scenario(), [early, late])
    assert pp.problem.n_items == 3
    plan = plan_purchases(pp, 2_000_00, OPTS)
    assert plan.baseline_within_norm == 1
    assert plan.units == {"koop-vroeg": 2}
    assert plan.within_norm == 3
    (eff,) = plan.effects
    assert len(eff.unblocked) == 2
    assert all(it.startswith("n:k") for it in eff.unblocked)
    # the late places cannot start by the deadline, so they add no arcs
    assert next(c for c in pp.candidates if c.id == "koop-laat").adds == {}


def test_places_without_a_contract_buy_nothing() -> None:
    no_contract = OfferingPurchase(
        "zonder-contract", on_sale("KOOP-C", "P4", date(2022, 3, 10), 2), price_cents=1_00
    )
    pp, _ = planning_from_scenario(scenario(), [no_contract])
    plan = plan_purchases(pp, 10_000_00, OPTS)
    assert plan.units == {}
    assert plan.within_norm == 1
    # the naive rule buys anyway: the list is long
    assert naive_units(pp, 10_000_00) == {"zonder-contract": 2}


def test_domain_purchase_input_is_checked() -> None:
    twice = on_sale("KOOP-A", "P2", date(2022, 3, 15), 2)
    two_dates = offering(
        "KOOP-D",
        "P5",
        free_now=0,
        releases=(Release(date(2022, 3, 15), 1), Release(date(2022, 4, 1), 1)),
    )
    with pytest.raises(PlanningInputError) as exc:
        planning_from_scenario(
            scenario(),
            [
                OfferingPurchase("a", twice, 100),
                OfferingPurchase("a", offering("O", "P1"), -1),
                OfferingPurchase("d", two_dates, 100),
            ],
        )
    text = str(exc.value)
    for part in ("twice", "already exists", "one date", "negative"):
        assert part in text


def test_an_overdue_child_counts_as_placed_not_within_the_norm() -> None:
    # LAAT's deadline (2022-01-01) lies before the evaluation date: a place bought for
    # it starts within the objective's grace days but never within the norm.
    late = Child(
        ref="LAAT",
        gemeente=GM,
        region=REGION,
        needs=(CareNeed("n", AMB),),
        age_years=12,
        ruling_date=date(2021, 10, 1),
    )
    sc = Scenario(
        evaluation_date=EV,
        children=(late, child("k1")),
        offerings=(offering("O", "P1", free_now=0),),
        contracts=(Contract("C-O", "P1", AMB, REGION),),
        regions=(Region(REGION, (GM,)),),
        policy=Policy(),
    )
    early = OfferingPurchase("early", on_sale("E", "P1", date(2022, 3, 2), 2), 100_000)
    pp, comp = planning_from_scenario(sc, [early])
    items = {info.item for info in comp.arcs}
    assert len(items) == 2
    plan = plan_purchases(pp, 200_000, OPTS)
    assert plan.placed == 2
    assert plan.within_norm == 1
