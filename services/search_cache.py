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
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from matcher.domain import Budget, Contract, Offering, Scenario, Subcontract
from matcher.domain.eligibility import ScenarioIndex, Slot
from matcher.domain.scenario_index import PurchaseLookups
from providers.convert import budget_of, contract_of, offering_of, perceel_of, regions
from providers.store import changes
from providers.store.access import OfferingView, Principal, search_offerings
from providers.store.purchase import (
    BudgetRow,
    ContractRow,
    PurchaseTables,
    data_version,
    purchase_tables,
)
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
    # Kept as long as the purchase (one data version and day): the offerings as this
    # region sees them, and the index's lookups that depend on nothing else.
    lookups: PurchaseLookups = field(default_factory=PurchaseLookups, compare=False)
    _seen: dict[str, tuple[Offering, Offering]] = field(default_factory=dict, compare=False)

    def offering(self, o: Offering) -> Offering:
        """The offering with the perceel it has under this region's contracts (as in
        the region's scenario); the same object every time for the same `o`, so the
        index's lookups per offering stay valid from one search to the next."""
        seen = self._seen.get(o.id)
        if seen is not None and seen[0] is o:
            return seen[1]
        perceel = self.perceel.get((o.provider, o.care_type.value), "")
        out = o if perceel == o.perceel else replace(o, perceel=perceel)
        self._seen[o.id] = (o, out)
        return out


def purchase_for(tables: PurchaseTables, care_type: str, region: str) -> Purchase:
    """What `region` (the child's purchasing region and its gemeenten) bought of `care_type`.

    Contracts and budgets of other regions never apply to a child of this region, so
    they are left out (a budget applies when its region, or its gemeente, is this
    region's: as `ScenarioIndex.budgets_for` reads them).
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
        b
        for b in (
            budget_of(r) for r in tables.budgets if not r.care_types or care_type in r.care_types
        )
        if _budget_region(b) == region
    )
    return Purchase(contracts, subcontracts, budgets, perceel_of(rows))


def _budget_region(b: Budget) -> str | None:
    """The one region whose children a budget can apply to: its own, or that of its
    gemeente (as the scenario's regions, `regions()`, place it)."""
    return b.region if b.region is not None else _region_of().get(b.gemeente or "")


@cache
def _region_of() -> dict[str, str]:
    return {g: r.code for r in regions() for g in r.gemeenten}


def by_region(tables: PurchaseTables) -> dict[str, PurchaseTables]:
    """The tables cut per region: its contracts and the budgets `purchase_for` could
    keep for it (all subcontracts), so a purchase reads a region's rows, not all."""
    contracts: dict[str | None, list[ContractRow]] = defaultdict(list)
    for c in tables.contracts:
        contracts[c.region].append(c)
    budgets: dict[str | None, list[BudgetRow]] = defaultdict(list)
    for row in tables.budgets:
        budgets[_budget_region(budget_of(row))].append(row)
    return {
        code: replace(tables, contracts=tuple(contracts[code]), budgets=tuple(budgets[code]))
        for code in {*contracts, *budgets}
        if code is not None  # a budget no region's children can draw on
    }


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
        self._tables: dict[str, PurchaseTables] | None = None
        self._forecasts: dict[tuple[str, int, bool], object] = {}
        # The loop's figures change with the aanmeldingen, not with the offerings.
        self._loop: tuple[tuple[object, ...], LoopFigures] | None = None
        self.hits = 0
        self.misses = 0

    def sync(self, session: Session, today: dt.date) -> Mapping[str, int] | None:
        """Drop everything when the data version or the day changed. Returns the
        database's change counters as read for that (None where it keeps none), for
        `loop_figures` in the same session: one read for both."""
        read = changes.counters(session)
        key = (today, *data_version(session, read))
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
        return read

    def offerings(
        self, session: Session, principal: Principal, care_type: str, today: dt.date
    ) -> CareTypeOfferings:
        # The dictionary of the version this search saw: `sync` replaces it when another
        # search sees a write, and what this one read before that must not land in the
        # new one (its own search still uses it)
        target = self._offerings
        found = target.get(care_type)
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
            if self._offerings is target:
                target[care_type] = built
        return built

    def purchase(self, session: Session, care_type: str, region: str) -> Purchase:
        target = self._purchases  # as in `offerings`
        found = target.get((care_type, region))
        if found is None:
            tables = self._tables
            if tables is None:
                tables = by_region(purchase_tables(session))
            empty = PurchaseTables((), (), ())
            found = purchase_for(tables.get(region, empty), care_type, region)
            with self._lock:
                if self._purchases is target:
                    self._tables = tables
                    target[(care_type, region)] = found
        return found

    def loop_figures(
        self, session: Session, today: dt.date, read: Mapping[str, int] | None = None
    ) -> LoopFigures:
        """The measured waits and answer counts of `today`, read again only when an
        aanmelding changed. The version is read in the same session as the figures and
        before them (`read`: the counters `sync` read), so figures are never kept
        under a version newer than they are."""
        key = (today, *aanmelding_version(session, read))
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


def prime_index(
    index: ScenarioIndex, cached: CareTypeOfferings, purchase: Purchase | None = None
) -> None:
    """Hand the index the per-offering values computed once for the care type, and
    with `purchase` the lookups kept for that purchase (its scenario must be built from
    `purchase` and `cached` only, as the search's is).

    ``slots`` and ``first_start`` are cached properties of the index: setting them
    in the instance dictionary is how a cached property is filled.
    """
    index.__dict__["slots"] = cached.slots
    index.__dict__["first_start"] = cached.first_start
    if purchase is not None:
        index.share_purchase_lookups(purchase.lookups)
