"""Offerings, contracts and budgets from the data store as matcher domain objects.

The search asks the domain's eligibility rules (matcher.domain.eligibility)
whether each offering fits; it needs the store rows in domain form. This
adapter covers exactly what the search reads. When the data layer offers a
converter to ``matcher.Scenario`` this module should call it instead.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.domain import (
    Budget,
    CareType,
    ChildAttribute,
    Contract,
    Expertise,
    Offering,
    Region,
    Scenario,
    Subcontract,
)
from matcher.domain.eligibility import ScenarioIndex, Slot
from providers import reference
from providers.convert import releases
from providers.store import models
from providers.store.access import OfferingView, Principal, search_offerings

T = TypeVar("T")

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


@dataclass(frozen=True)
class PurchaseTables:
    """The rows behind every purchase question, read once per data version."""

    provider_ext: dict[int, str]
    # (ext_id, provider_id, care_type, gemeente, region, valid_from, valid_until)
    contracts: tuple[tuple[str, int, str, str | None, str, dt.date, dt.date | None], ...]
    subcontracts: tuple[tuple[int, int], ...]
    # (ext_id, level, region, provider_id, gemeente, perceel, care_types, ceiling, spent)
    budgets: tuple[tuple[str, str, str, int | None, str | None, str | None, str, int, int], ...]


def purchase_tables(session: Session) -> PurchaseTables:
    # Plain column selects: a search must not build thousands of ORM objects.
    prov, con = models.Provider, models.Contract
    sub, bud = models.SubcontractAcceptance, models.Budget
    return PurchaseTables(
        provider_ext={pid: ext for pid, ext in session.execute(select(prov.id, prov.ext_id))},
        contracts=tuple(
            tuple(r)  # type: ignore[misc]
            for r in session.execute(
                select(
                    con.ext_id,
                    con.provider_id,
                    con.care_type,
                    con.gemeente_code,
                    con.region_code,
                    con.valid_from,
                    con.valid_until,
                )
            )
        ),
        subcontracts=tuple(
            tuple(r)  # type: ignore[misc]
            for r in session.execute(select(sub.main_provider_id, sub.sub_provider_id))
        ),
        budgets=tuple(
            tuple(r)  # type: ignore[misc]
            for r in session.execute(
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
            )
        ),
    )


def purchase_for(
    session: Session, care_type: str, region: str, tables: PurchaseTables | None = None
) -> Purchase:
    """What `region` (the child's purchasing region and its gemeenten) bought of `care_type`.

    Contracts and budgets of other regions never apply to a child of this region, so
    they are left out.
    """
    tables = tables or purchase_tables(session)
    providers_by_id = tables.provider_ext
    contracts = tuple(
        Contract(
            id=ext_id,
            provider=providers_by_id[provider_id],
            care_type=CareType(care_type),
            buyer=gemeente or con_region,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        for ext_id, provider_id, con_care, gemeente, con_region, valid_from, valid_until in (
            tables.contracts
        )
        if con_care == care_type and con_region == region
    )
    mains = {c.provider for c in contracts}
    subcontracts = tuple(
        Subcontract(
            main_provider=providers_by_id[main_id],
            sub_provider=providers_by_id[sub_id],
            accepts=True,
        )
        for main_id, sub_id in tables.subcontracts
        if providers_by_id[main_id] in mains
    )
    budgets = []
    for (
        ext_id,
        level,
        bud_region,
        provider_id,
        gemeente,
        perceel,
        types,
        ceiling,
        spent,
    ) in tables.budgets:
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
                region=None if level == "gemeente" else bud_region,
            )
        )
    return Purchase(contracts, subcontracts, tuple(budgets))


# ------------------------------------------------------------------ per-app cache
#
# A search reads the same offerings, contracts and budgets again and again; they only
# change on a write (an aanbieder update, a budget update, an import). The cache below
# keeps them per care type, built once per data version and day, so a search does no
# ORM work and no release-schedule arithmetic. The version is read from the database
# on every search (a few aggregates), so a write made by another server process is
# seen at once.


def data_version(session: Session) -> tuple[object, ...]:
    """Changes whenever anything the search reads changes (including imports)."""
    off, bud = models.Offering, models.Budget
    row = session.execute(
        select(
            select(func.count(off.id)).scalar_subquery(),
            select(func.coalesce(func.sum(off.version), 0)).scalar_subquery(),
            select(func.max(off.updated_at)).scalar_subquery(),
            select(func.count(bud.id)).scalar_subquery(),
            select(func.coalesce(func.sum(bud.version), 0)).scalar_subquery(),
            select(func.max(models.ImportBatch.id)).scalar_subquery(),
            select(func.count(models.Contract.id)).scalar_subquery(),
            select(func.count()).select_from(models.SubcontractAcceptance).scalar_subquery(),
            select(func.count(models.Provider.id)).scalar_subquery(),
        )
    ).one()
    return tuple(row)


@dataclass(frozen=True)
class CareTypeOfferings:
    """All offerings of one care type on one day, as store views and domain objects.

    `slots` and `first_start` are the domain index's per-offering values
    (``ScenarioIndex.slots`` / ``.first_start``); they depend on the offering and the
    day only (no child in a search holds a place), so they are computed once here.
    """

    views: tuple[OfferingView, ...]
    offerings: tuple[Offering, ...]
    slots: dict[str, tuple[Slot, ...]]
    first_start: dict[str, dt.date | None]


class SearchCache:
    """Search data per app (``app.state.search_cache``), emptied when the data changes."""

    def __init__(self, stale_after_days: int) -> None:
        self.stale_after_days = stale_after_days
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._offerings: dict[str, CareTypeOfferings] = {}
        self._purchases: dict[tuple[str, str], Purchase] = {}
        self._tables: PurchaseTables | None = None
        self._forecasts: dict[tuple[str, int, bool], object] = {}
        self.hits = 0
        self.misses = 0

    def sync(self, session: Session, today: dt.date) -> None:
        """Drop everything when the data version or the day changed."""
        key = (today, *data_version(session))
        with self._lock:
            if key != self._key:
                # Forecasts are keyed by offering version and day, so a write to one
                # offering does not throw away the forecasts of the others.
                if self._key is None or self._key[0] != today or len(self._forecasts) > 50_000:
                    self._forecasts = {}
                self._key = key
                self._offerings = {}
                self._purchases = {}
                self._tables = None

    def offerings(
        self, session: Session, principal: Principal, care_type: str, today: dt.date
    ) -> CareTypeOfferings:
        found = self._offerings.get(care_type)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        views = tuple(
            search_offerings(
                session,
                principal,
                care_types=[care_type],
                now=dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC),
                max_age_days=self.stale_after_days,
            )
        )
        offerings = tuple(offering_of(v, today) for v in views)
        index = ScenarioIndex(
            Scenario(
                evaluation_date=today,
                children=(),
                offerings=offerings,
                regions=regions(),
                name="zoekvraag",
            )
        )
        built = CareTypeOfferings(views, offerings, dict(index.slots), dict(index.first_start))
        with self._lock:
            self._offerings[care_type] = built
        return built

    def purchase(self, session: Session, care_type: str, region: str) -> Purchase:
        found = self._purchases.get((care_type, region))
        if found is None:
            tables = self._tables
            if tables is None:
                tables = self._tables = purchase_tables(session)
            found = purchase_for(session, care_type, region, tables)
            with self._lock:
                self._purchases[(care_type, region)] = found
        return found

    def forecast(self, key: tuple[str, int, bool], compute: Callable[[], T]) -> T:
        """A per-offering value (offering id, its version, ...) such as a forecast."""
        found = self._forecasts.get(key)
        if found is None:
            found = compute()
            with self._lock:
                self._forecasts[key] = found
        return found  # type: ignore[return-value]


def prime_index(index: ScenarioIndex, cached: CareTypeOfferings) -> None:
    """Hand the index the per-offering values computed once for the care type.

    ``slots`` and ``first_start`` are cached properties of the index: setting them
    in the instance dictionary is how a cached property is filled.
    """
    index.__dict__["slots"] = cached.slots
    index.__dict__["first_start"] = cached.first_start
