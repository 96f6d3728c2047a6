"""Use case: the verwijzer's search: which help can really start for this child before
the deadline?

The verwijzer describes the child (no name or number: a search is not a case
record); the domain's eligibility rules decide per offering whether it fits and,
if not, why.  The result holds, per offering, the store's view, the domain's check,
the expected start and, for the first results, the simulated start forecast; the
page (`wijzer.views.zoeken`) puts it into words.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from matcher.domain import CareNeed, CareType, Child, Offering, Policy, Scenario
from matcher.domain.clocks import (
    NormVerdict,
    Verdict,
    deadline_norm3,
    norm3_deadline_for,
    start_verdict,
)
from matcher.domain.eligibility import PairCheck, Reason, ScenarioIndex, check_pair
from matcher.forecast import ForecastInputError, QueueEntry, simulate_starts, with_new_referral
from matcher.forecast.domain import MeasuredFlow, state_from_offering
from matcher.forecast.simulate import EntryStarts
from providers import reference
from providers.convert import ATTRIBUTE_BY_CODE as ATTRIBUTE_BY_CODE
from providers.convert import attributes_of, regions
from providers.store import waits
from providers.store.access import OfferingView, Principal
from services.errors import InvalidRequest
from services.search_cache import LoopFigures, SearchCache, prime_index

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

MAX_AGE = 23
QUERY_CHILD = "zoekvraag"
# The start forecast is simulated for the first results only: they are the ones a
# verwijzer acts on, and a simulation costs milliseconds per offering (cached after that).
FORECAST_ROWS = 5
FORECAST_RUNS = 100
FORECAST_SEED = 1


# The verdict follows the forecast: "binnen de norm" only when the chance of a late
# start is below UNSURE_FROM, "te laat" only above UNSURE_UNTIL; in between it is unsure.
UNSURE_FROM = 0.2
UNSURE_UNTIL = 0.8


class DeadlineBasis(StrEnum):
    """What the deadline a search measured against rests on."""

    NO_RULING = "geen_uitspraak"  # 3 months from today
    URGENT = "eerder"  # the earlier deadline given
    NORM = "norm"  # 3 months after the ruling


@dataclass(frozen=True)
class SearchRequest:
    """A child described without name or number."""

    care_type: str
    age: int
    gemeente: str
    attributes: tuple[str, ...] = ()
    ruling: dt.date | None = None
    deadline: dt.date | None = None
    direct_only: bool = False  # only providers contracted directly (no main contractor)
    also_outside_region: bool = False
    forecast_rows: int = FORECAST_ROWS

    def problems(self) -> dict[str, str]:
        """B1 Dutch message per field; empty when the request can be searched."""
        issues: dict[str, str] = {}
        if self.care_type not in CareType._value2member_map_:
            issues["zorgvorm"] = "Kies welke hulp het kind nodig heeft."
        if not 0 <= self.age <= MAX_AGE:
            issues["leeftijd"] = f"Vul een leeftijd in van 0 tot en met {MAX_AGE} jaar."
        if self.gemeente not in reference.gemeenten():
            issues["gemeente"] = "Kies de gemeente die de hulp betaalt."
        if any(a not in ATTRIBUTE_BY_CODE for a in self.attributes):
            issues["kenmerken"] = "Een van de kenmerken kennen we niet. Kies uit de lijst."
        return issues


@dataclass(frozen=True)
class StartForecast:
    """The simulated real start at an offering for a referral made today
    (matcher.forecast): median and 80 % interval, and the chance of missing the deadline."""

    median: dt.date | None
    low: dt.date | None
    high: dt.date | None
    p_after_deadline: float | None
    runs: int
    seed: int
    # which flow the simulation used: SOURCE_MEASURED or SOURCE_STATED
    source: str = ""


@dataclass(frozen=True)
class Candidate:
    """One offering checked for the child."""

    view: OfferingView
    offering: Offering
    check: PairCheck
    fits: bool  # eligible, and by the route asked for
    only_via_main: bool  # eligible only through a main contractor, and direct was asked
    start_low: dt.date | None
    start_high: dt.date | None
    verdict: NormVerdict  # the planned start against the deadline (see `judge`)
    uncertain: bool  # the forecast leaves it open whether help starts in time
    distance_km: float | None
    budget_room: int | None  # placements the tightest budget still pays for
    forecast: StartForecast | None = None


@dataclass(frozen=True)
class Unfit:
    """An offering that does not fit the child, and why (every one is counted)."""

    view: OfferingView
    offering: Offering
    check: PairCheck
    only_via_main: bool
    distance_km: float | None


@dataclass(frozen=True)
class SearchResult:
    request: SearchRequest
    today: dt.date
    deadline: dt.date
    deadline_basis: DeadlineBasis
    fitting: tuple[Candidate, ...]  # best first
    # nearest first: every offering that does not fit, or the nearest `non_fitting_limit`
    non_fitting: tuple[Candidate, ...]
    out_of_region_count: int  # offerings outside the region, not checked further
    provider_names: dict[str, str]  # provider id -> name, of the offerings checked
    # every offering that does not fit (nearest first), also those not in `non_fitting`
    unfit: tuple[Unfit, ...] = ()

    @property
    def deadline_passed(self) -> bool:
        return self.deadline < self.today


def judge(
    low: dt.date | None,
    high: dt.date | None,
    forecast: StartForecast | None,
    deadline: dt.date,
    today: dt.date,
) -> tuple[NormVerdict, bool]:
    """One verdict per result, never at odds with its forecast; and whether it is unsure.

    The planned start is the forecast's median when there is a forecast, otherwise the late
    end of the expected start (the stated wait or the first free place, whichever
    comes last).  The verdict is that start against the deadline (`start_verdict`).
    It is unsure when the chance of a late start lies between 20 % and 80 % (with a
    forecast), or when the expected start range holds the deadline (without one); a
    deadline that has passed is never unsure: every start is late.
    """
    p_late = forecast.p_after_deadline if forecast is not None else None
    # a forecast without a median starts later than it simulates: no start known
    planned = forecast.median if forecast is not None else high
    verdict = start_verdict(deadline, planned, today)
    if verdict.verdict is Verdict.PAST_DEADLINE:
        return verdict, False
    if p_late is not None:
        return verdict, UNSURE_FROM <= p_late <= UNSURE_UNTIL
    unsure = low is not None and high is not None and low <= deadline < high
    return verdict, unsure


def start_rank(low: dt.date | None, high: dt.date | None, deadline: dt.date) -> int:
    """Sort order before the forecast: whole range in time, part of it, late, unknown."""
    if low is None or high is None:
        return 3
    if high <= deadline:
        return 0
    return 1 if low <= deadline else 2


def query_child(req: SearchRequest) -> Child:
    home = reference.gemeenten()[req.gemeente]
    return Child(
        ref=QUERY_CHILD,
        gemeente=home.code,
        region=home.region_code,
        needs=(CareNeed(id=QUERY_CHILD, care_type=CareType(req.care_type)),),
        age_years=req.age,
        ruling_date=req.ruling,
        urgent_deadline=req.deadline,
        attributes=attributes_of(req.attributes),
    )


# Where the forecast's flow (lead time, leaving the queue, inflow) came from.
SOURCE_MEASURED = "gemeten"
SOURCE_STATED = "opgegeven door de aanbieder"


def measured_flows(
    session: Session, *, today: dt.date, figures: LoopFigures | None = None
) -> dict[int, MeasuredFlow]:
    """Per offering with a shown measured wait (six starts in six months): the loop's
    figures as plain values for the forecast (the matcher reads no database).
    `figures`: the loop's figures when already read (the search cache keeps them)."""
    if figures is None:
        figures = LoopFigures.read(session, today)
    counts = figures.counts
    out: dict[int, MeasuredFlow] = {}
    for oid, m in figures.waits.items():
        if m.median_days is None or m.p80_days is None:
            continue
        c = counts.get(oid, waits.AnswerCounts(0, 0, 0))
        out[oid] = MeasuredFlow(
            starts=m.count,
            wait_median_days=m.median_days,
            wait_p80_days=float(m.p80_days),
            lead_median_days=m.lead_median_days or 0.0,
            requests=c.requests,
            answers=c.answers,
            declines=c.declines,
            weeks=waits.MONTHS * 52 / 12,
        )
    return out


def stated_wait_days(view: OfferingView, measured: waits.MeasuredWait | None) -> int:
    """The end of the expected start range: the measured wait (80th percentile of
    aanmelding to real start) once it is shown, else the provider's own wait plus its
    intake time.  A self-reported figure thus gives way to what really happened."""
    if measured is not None and measured.p80_days is not None:
        return measured.p80_days
    return view.expected_wait_days + view.intake_days


def _deadline(child: Child, req: SearchRequest, today: dt.date) -> tuple[dt.date, DeadlineBasis]:
    deadline = deadline_norm3(child)
    if deadline is None:
        return norm3_deadline_for(today), DeadlineBasis.NO_RULING
    if req.deadline is not None and deadline == req.deadline:
        return deadline, DeadlineBasis.URGENT
    return deadline, DeadlineBasis.NORM


def search(
    session: Session,
    user: Principal,
    req: SearchRequest,
    *,
    today: dt.date,
    cache: SearchCache,
    non_fitting_limit: int | None = None,
) -> SearchResult:
    """Every offering of the care type checked for the child, fitting ones first.
    `non_fitting_limit`: the offerings that do not fit get a full result (start,
    verdict, budget room) only for the nearest so many; `unfit` holds every one."""
    issues = req.problems()
    if issues:
        raise InvalidRequest(issues)
    home = reference.gemeenten()[req.gemeente]
    child = query_child(req)
    counted = cache.sync(session, today)
    catalog = cache.offerings(session, user, req.care_type, today)
    pairs = list(zip(catalog.views, catalog.offerings, strict=True))
    out_of_region = 0
    if not req.also_outside_region:
        # Offerings outside the region cannot fit; they are counted, not listed, so a
        # verwijzer is not flooded with "buiten de regio" rows (and the search stays fast).
        area = {home.code, home.region_code}
        inside = [
            (v, o)
            for v, o in pairs
            if v.region_code == home.region_code or not area.isdisjoint(v.service_regions)
        ]
        out_of_region = len(pairs) - len(inside)
        pairs = inside
    purchase = cache.purchase(session, req.care_type, home.region_code)
    scenario = Scenario(
        evaluation_date=today,
        children=(child,),
        offerings=tuple(purchase.offering(o) for _, o in pairs),
        contracts=purchase.contracts,
        subcontracts=purchase.subcontracts,
        regions=regions(),
        budgets=purchase.budgets,
        # Late options stay in the list, marked against the deadline: when nothing
        # starts in time the verwijzer still needs the least-late option.
        policy=replace(Policy(), allow_out_of_region=req.also_outside_region, allow_late=True),
        name="zoekvraag",
    )
    index = ScenarioIndex(scenario)
    prime_index(index, catalog, purchase)
    deadline, basis = _deadline(child, req, today)
    fitting: list[Candidate] = []
    unfit: list[Unfit] = []
    loop = cache.loop_figures(session, today, counted)
    measured = loop.waits

    def candidate(
        view: OfferingView,
        offering: Offering,
        check: PairCheck,
        *,
        fits: bool,
        only_via_main: bool,
        distance_km: float | None,
    ) -> Candidate:
        low = check.earliest_start
        high = None
        if low is not None:
            stated = today + dt.timedelta(days=stated_wait_days(view, measured.get(view.id)))
            high = max(low, stated)
        room: int | None = None
        if Reason.BUDGET_CEILING_REACHED not in check.reasons and offering.price_cents > 0:
            rooms = [
                b.remaining_cents // offering.price_cents
                for b in index.budgets_for(child, offering, check.via_main_contractor)
            ]
            room = min(rooms) if rooms else None
        verdict, uncertain = judge(low, high, None, deadline, today)
        return Candidate(
            view=view,
            offering=offering,
            check=check,
            start_low=low,
            start_high=high,
            verdict=verdict,
            uncertain=uncertain,
            budget_room=room,
            fits=fits,
            only_via_main=only_via_main,
            distance_km=distance_km,
        )

    for (view, _), offering in zip(pairs, scenario.offerings, strict=True):
        check = check_pair(scenario, child, child.needs[0], offering, index)
        only_via_main = bool(check.eligible and check.via_main_contractor and req.direct_only)
        distance = reference.distance_between(home.code, view.gemeente_code)
        if check.eligible and not only_via_main:
            fitting.append(
                candidate(
                    view, offering, check, fits=True, only_via_main=False, distance_km=distance
                )
            )
        else:
            unfit.append(Unfit(view, offering, check, only_via_main, distance))
    fitting.sort(
        key=lambda c: (
            start_rank(c.start_low, c.start_high, deadline),
            c.start_low or dt.date.max,
            c.distance_km if c.distance_km is not None else 1e9,
            c.view.provider_name,
        )
    )
    urgent = child.urgent_deadline is not None or child.acute_unsafety
    flows = measured_flows(session, today=today, figures=loop) if req.forecast_rows else {}
    for i, c in enumerate(fitting[: req.forecast_rows]):
        f = forecast(
            cache, c.offering, c.view.version, today, urgent, deadline, flows.get(c.view.id)
        )
        verdict, uncertain = judge(c.start_low, c.start_high, f, deadline, today)
        fitting[i] = replace(c, forecast=f, verdict=verdict, uncertain=uncertain)
    unfit.sort(
        key=lambda u: (u.distance_km if u.distance_km is not None else 1e9, u.view.provider_name)
    )
    listed = unfit if non_fitting_limit is None else unfit[:non_fitting_limit]
    other = [
        candidate(
            u.view,
            u.offering,
            u.check,
            fits=False,
            only_via_main=u.only_via_main,
            distance_km=u.distance_km,
        )
        for u in listed
    ]
    return SearchResult(
        request=req,
        today=today,
        deadline=deadline,
        deadline_basis=basis,
        fitting=tuple(fitting),
        non_fitting=tuple(other),
        out_of_region_count=out_of_region,
        provider_names={v.provider_ext_id: v.provider_name for v, _ in pairs},
        unfit=tuple(unfit),
    )


def forecast(
    cache: SearchCache,
    offering: Offering,
    version: int,
    today: dt.date,
    urgent: bool,
    deadline: dt.date,
    measured: MeasuredFlow | None = None,
) -> StartForecast | None:
    """Forecast for a child referred today: cached per offering (and data version),
    so only the deadline is applied per search.  With `measured` the flow is the
    loop's, not the provider's own figures, and the result says so (`source`)."""
    # The same per-offering seed as matcher.forecast.forecast_child, so the figures
    # here match a forecast made there with FORECAST_SEED.
    seed = (FORECAST_SEED * 1_000_003 + zlib.crc32(offering.id.encode())) % (2**63)

    def simulate() -> EntryStarts | None:
        try:
            base = state_from_offering(offering, as_of=today, measured=measured)
            # the deadline is given per search (`EntryStarts.forecast`)
            entry = QueueEntry(ref=QUERY_CHILD, urgent=urgent, deadline=None)
            state = with_new_referral(base, entry)
            starts = simulate_starts(state, runs=FORECAST_RUNS, seed=seed)
        except ForecastInputError:
            return None
        position = [e.ref for e in state.queue].index(QUERY_CHILD)
        return EntryStarts.of(state, starts, position, seed=seed, runs=FORECAST_RUNS)

    # A new start or answer changes the measured flow without changing the offering's
    # version: the figures are part of the key. The day is not: the cache forgets
    # every forecast when the day changes (`SearchCache.sync`).
    key = offering.id if measured is None else f"{offering.id}|{measured!r}"
    found = cache.forecast((key, version, urgent), simulate)
    if found is None:
        return None
    f = found.forecast(deadline)
    return StartForecast(
        median=f.median_date,
        low=f.low_date,
        high=f.high_date,
        p_after_deadline=f.p_after_deadline,
        runs=f.runs,
        seed=f.seed,
        source=SOURCE_STATED if measured is None else SOURCE_MEASURED,
    )


def warm_cache(
    sessions: sessionmaker[Session],
    cache: SearchCache,
    principal: Principal,
    *,
    today: dt.date,
    care_types: Sequence[CareType] = tuple(CareType),
    with_forecast: bool = True,
) -> int:
    """Fill the search cache for every care type, and the forecast of a regular
    (not urgent) referral at every offering, so the first searches of the day do not
    pay for them. Returns the number of offerings seen. Runs in a background thread."""
    seen = 0
    with sessions() as session:
        counted = cache.sync(session, today)
        loop = cache.loop_figures(session, today, counted)
        flows = measured_flows(session, today=today, figures=loop) if with_forecast else {}
        for care_type in care_types:
            catalog = cache.offerings(session, principal, care_type.value, today)
            for view, offering in zip(catalog.views, catalog.offerings, strict=True):
                seen += 1
                if with_forecast:
                    # The deadline only enters the summary, not the simulation.
                    forecast(cache, offering, view.version, today, False, today, flows.get(view.id))
    return seen
