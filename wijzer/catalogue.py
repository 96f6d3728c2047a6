"""Offerings, contracts and budgets from the data store as matcher domain objects.

The search asks the domain's eligibility rules (matcher.domain.eligibility)
whether each offering fits; it needs the store rows in domain form. This
adapter covers exactly what the search reads. When the data layer offers a
converter to ``matcher.Scenario`` this module should call it instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.domain import (
    Budget,
    CareType,
    ChildAttribute,
    Contract,
    Expertise,
    Offering,
    Region,
    Subcontract,
)
from providers import reference
from providers.convert import releases
from providers.store import models
from providers.store.access import OfferingView

# Reference codes (providers.reference.attributes) -> the domain's child attributes;
# the reference data names the matcher value of each code.
ATTRIBUTE_BY_CODE: dict[str, ChildAttribute] = {
    code: ChildAttribute(info.get("matcher")) for code, info in reference.attributes().items()
}

# How far ahead weekly releases are laid out (the domain's default horizon).
RELEASE_WEEKS = 52


@cache
def gemeenten() -> dict[str, reference.Gemeente]:
    return reference.gemeenten()


@cache
def regions() -> tuple[Region, ...]:
    return tuple(
        Region(code=r.code, gemeenten=tuple(r.gemeente_codes), name=r.name)
        for r in reference.jeugdregios().values()
    )


def attributes_of(codes: Sequence[str]) -> frozenset[ChildAttribute]:
    return frozenset(ATTRIBUTE_BY_CODE[c] for c in codes if c in ATTRIBUTE_BY_CODE)


def offering_of(view: OfferingView, today: dt.date) -> Offering:
    return Offering(
        id=str(view.id),
        provider=view.provider_ext_id,
        care_type=CareType(view.care_type),
        region=view.region_code,
        free_now=view.places_free,
        # The same release schedule as the data layer's converter, so the search and
        # the matching agree on when places free up.
        releases=releases(
            view.release_per_week, view.places_free, view.expected_wait_days, today, RELEASE_WEEKS
        ),
        location_gemeente=view.gemeente_code,
        service_area=frozenset(view.service_regions),
        age_min=view.age_min,
        age_max=view.age_max,
        expertise=frozenset({Expertise.LVB}) if view.lvb_expertise else frozenset(),
        contra_indications=attributes_of(view.contra_indications),
        intake_stop=view.intake_stop,
        price_cents=view.price_cents,
        intake_lead_days=view.intake_days,
        last_confirmed=view.confirmed_at.date(),
    )


@dataclass(frozen=True)
class Purchase:
    """Who bought what: contracts, accepted onderaannemers and budgets, for one care type."""

    contracts: tuple[Contract, ...]
    subcontracts: tuple[Subcontract, ...]
    budgets: tuple[Budget, ...]


def purchase_for(session: Session, care_type: str, region: str) -> Purchase:
    """What `region` (the child's purchasing region and its gemeenten) bought of `care_type`.

    Contracts and budgets of other regions never apply to a child of this region, so
    they are not read.
    """
    # Plain column selects: a search must not build thousands of ORM objects.
    prov, con = models.Provider, models.Contract
    sub, bud = models.SubcontractAcceptance, models.Budget
    providers_by_id = {pid: ext for pid, ext in session.execute(select(prov.id, prov.ext_id))}
    contracts = tuple(
        Contract(
            id=ext_id,
            provider=providers_by_id[provider_id],
            care_type=CareType(care_type),
            buyer=gemeente or region,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        for ext_id, provider_id, gemeente, region, valid_from, valid_until in session.execute(
            select(
                con.ext_id,
                con.provider_id,
                con.gemeente_code,
                con.region_code,
                con.valid_from,
                con.valid_until,
            ).where(con.care_type == care_type, con.region_code == region)
        )
    )
    mains = {c.provider for c in contracts}
    main_ids = [pid for pid, ext in providers_by_id.items() if ext in mains]
    subcontracts = tuple(
        Subcontract(
            main_provider=providers_by_id[main_id],
            sub_provider=providers_by_id[sub_id],
            accepts=True,
        )
        for main_id, sub_id in session.execute(
            select(sub.main_provider_id, sub.sub_provider_id).where(
                sub.main_provider_id.in_(main_ids)
            )
        )
    )
    budgets = []
    for (
        ext_id,
        level,
        region,
        provider_id,
        gemeente,
        perceel,
        types,
        ceiling,
        spent,
    ) in session.execute(
        select(
            bud.ext_id,
            bud.level,
            bud.region_code,
            bud.provider_id,
            bud.gemeente_code,
            bud.perceel,
            bud.care_types,
            bud.ceiling_cents,
            bud.spent_cents,
        )
    ):
        scoped_types = [t for t in (types or "").split(",") if t]
        if scoped_types and care_type not in scoped_types:
            continue
        budgets.append(
            Budget(
                id=ext_id,
                ceiling_cents=ceiling,
                spent_cents=spent,
                provider=providers_by_id.get(provider_id) if provider_id else None,
                perceel=perceel if level == "perceel" else None,
                gemeente=gemeente if level == "gemeente" else None,
                # Every store budget belongs to the region that set it; a gemeente
                # budget is already narrower than that.
                region=None if level == "gemeente" else region,
            )
        )
    return Purchase(contracts, subcontracts, tuple(budgets))
