"""The search's per-app cache of offerings and purchases, built by the data layer's
one converter (`providers.convert.offering_of`), so the search and the matching
see the same offering under the same id.

A search reads the same offerings, contracts and budgets again and again; they only
change on a write (an aanbieder update, a budget update, an import). The cache keeps
them per care type, built once per data version and day, so a search does no ORM
work and no release-schedule arithmetic. The version is read from the database on
every search (one counter that the database raises with every write to those tables,
`providers.store.purchase.data_version`), so a write made by another server process is
seen at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from matcher.domain import Budget, Contract, Offering, Scenario, Subcontract
from matcher.domain.eligibility import ScenarioIndex, Slot
from providers.convert import budget_of, contract_of, offering_of, perceel_of, regions
from providers.store.access import OfferingView, Principal, search_offerings
from providers.store.purchase import PurchaseTables, data_version, purchase_tables
from providers.store.waits import (
    AnswerCounts,
    MeasuredWait,
    aanmelding_version,
    answer_counts,
    measured_waits,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")

# How far ahead weekly releases are laid out (the domain's default horizon).
RELEASE_WEEKS = 52


@dataclass(frozen=True)
class Purchase:
    """What one region bought of one care type: contracts, accepted onderaannemers,
    budgets, and the perceel of each (provider, care type) under its contracts."""

    contracts: tuple[Contract, ...]
    subcontracts: tuple[Subcontract, ...]
    budgets: tuple[Budget, ...]
    perceel: dict[tuple[str, str], str]

    def offering(self, o: Offering) -> Offering:
        """The offering with the perceel it has under this region's contracts (as in
        the region's scenario)."""
        perceel = self.perceel.get((o.provider, o.care_type.value), "")
        return o if perceel == o.perceel else replace(o, perceel=perceel)


def purchase_for(tables: PurchaseTables, care_type: str, region: str) -> Purchase:
    """What `region` (the child's purchasing region and its gemeenten) bought of `care_type`.

    Contracts and budgets of other regions never apply to a child of this region, so
    they are left out.
    """
    rows = [c for c in tables.contracts if c.region == region]
    contracts = tuple(contract_of(c) for c in rows if c.care_type == care_type)
    mains = {c.provider for c in contracts}
    subcontracts = tuple(
        Subcontract(main_provider=main, sub_provider=sub, accepts=True)
        for main, sub in tables.subcontracts
        if main in mains
    )
    budgets = tuple(
        budget_of(b) for b in tables.budgets if not b.care_types or care_type in b.care_types
    )
    return Purchase(contracts, subcontracts, budgets, perceel_of(rows))


@dataclass(frozen=True)
class LoopFigures:
    """What the loop measured per offering in the last months: the wait from
    aanmelding to start, and the aanmeldingen made, answered and declined."""

    waits: dict[int, MeasuredWait]
    counts: dict[int, AnswerCounts]

    @classmethod
    def read(cls, session: Session, today: dt.date) -> LoopFigures:
        return cls(
            waits=measured_waits(session, today=today),
            counts=answer_counts(session, today=today),
        )


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
        # The loop's figures change with the aanmeldingen, not with the offerings.
        self._loop: tuple[tuple[object, ...], LoopFigures] | None = None
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
        offerings = tuple(offering_of(v, today, horizon_weeks=RELEASE_WEEKS) for v in views)
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
            found = purchase_for(tables, care_type, region)
            with self._lock:
                self._purchases[(care_type, region)] = found
        return found

    def loop_figures(self, session: Session, today: dt.date) -> LoopFigures:
        """The measured waits and answer counts of `today`, read again only when an
        aanmelding changed. The version is read in the same session as the figures, so
        figures are never kept under a version newer than they are."""
        key = (today, *aanmelding_version(session))
        found = self._loop
        if found is not None and found[0] == key:
            return found[1]
        figures = LoopFigures.read(session, today)
        with self._lock:
            self._loop = (key, figures)
        return figures

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
