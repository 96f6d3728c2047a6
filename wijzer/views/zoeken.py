"""Zoeken: which help can really start for this child before the deadline?

The verwijzer describes the child (no name or number: a search is not a case
record); the domain's eligibility rules decide per offering whether it fits and,
if not, why. The view computes one ``SearchContext`` for HTML and JSON alike.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from functools import cache

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import CareNeed, CareType, Child, Offering, Policy, Scenario
from matcher.domain.clocks import deadline_norm3
from matcher.domain.eligibility import (
    PairCheck,
    PairWarning,
    Reason,
    ScenarioIndex,
    check_pair,
)
from matcher.forecast import ForecastInputError, QueueEntry, simulate_starts, with_new_referral
from matcher.forecast.domain import state_from_offering
from matcher.forecast.simulate import summarise
from providers import reference
from providers.store import access
from wijzer import catalogue
from wijzer.auth import Principal
from wijzer.forms import FormErrors

MAX_AGE = 23
QUERY_CHILD = "zoekvraag"
# The start forecast is simulated for the first results only: they are the ones a
# verwijzer acts on, and a simulation costs milliseconds per offering (cached after that).
FORECAST_ROWS = 5
FORECAST_RUNS = 100
FORECAST_SEED = 1
# A budget that has room for this few placements or fewer gets a warning flag.
BUDGET_WARN_PLACEMENTS = 3


class Route(StrEnum):
    DIRECT = "direct"
    MAIN_CONTRACTOR = "hoofdaannemer"


class Area(StrEnum):
    IN_REGION = "binnen"
    ALSO_OUTSIDE = "buiten"


class StartStatus(StrEnum):
    ON_TIME = "op_tijd"
    MAYBE_LATE = "mogelijk_te_laat"
    LATE = "te_laat"
    UNKNOWN = "onbekend"


START_STATUS_TEXT = {
    StartStatus.ON_TIME: "Op tijd",
    StartStatus.MAYBE_LATE: "Mogelijk te laat",
    StartStatus.LATE: "Te laat",
    StartStatus.UNKNOWN: "Geen plek bekend",
}

REASON_TEXT: dict[Reason, str] = {
    Reason.NO_PROVIDER_OFFERS_CARE_TYPE: "Biedt deze hulp niet aan",
    Reason.ALTERNATIVE_NOT_ACCEPTED: "Andere hulp, niet afgesproken als passend",
    Reason.FAMILY_PREFERS_WAITLIST: "Het gezin wil op een andere wachtlijst blijven",
    Reason.CONTRA_INDICATION: "Neemt geen kinderen aan met: {contra}",
    Reason.NO_LVB_EXPERTISE: "Heeft geen LVB-expertise",
    Reason.UNSTABLE_SITUATION: "Begint pas als de situatie van het kind stabiel is",
    Reason.AGE_OUT_OF_RANGE: "Leeftijd past niet (van {age_min} tot en met {age_max} jaar)",
    Reason.NOT_PURCHASED: "Niet ingekocht voor deze gemeente",
    Reason.NOT_PURCHASED_NO_MAIN_CONTRACTOR: (
        "Niet ingekocht, en geen hoofdaannemer zet deze aanbieder in"
    ),
    Reason.MAIN_CONTRACTOR_DECLINES: "De hoofdaannemer zet deze aanbieder niet in",
    Reason.ONLY_OUT_OF_REGION: "Buiten de regio",
    Reason.INTAKE_STOP: "Opnamestop: neemt nu geen nieuwe kinderen aan",
    Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION: (
        "De aanbieder heeft dit kind geweigerd zonder contra-indicatie"
    ),
    Reason.BUDGET_CEILING_REACHED: "Budgetplafond bereikt",
    Reason.WAIT_EXCEEDS_DEADLINE: "Kan niet voor de deadline beginnen",
    Reason.NO_CAPACITY: "Geen plek vrij in het komende jaar",
    Reason.FAMILY_BUNDLE_INFEASIBLE: "Broers en zussen kunnen hier niet samen terecht",
}
ONLY_VIA_MAIN = "Alleen via hoofdaannemer {main}"


class Flag(BaseModel):
    code: str
    text: str
    level: str = Field(description="ok, warn or bad: how the flag is shown")


class StartForecastView(BaseModel):
    """The simulated real start at this offering for a referral made today
    (matcher.forecast): median and 80 % interval, and the chance of missing the deadline."""

    median: dt.date | None = Field(description="None: later than the simulated two years")
    low: dt.date | None = Field(description="10th percentile of the start date")
    high: dt.date | None = Field(description="90th percentile of the start date")
    p_after_deadline: float | None = Field(description="chance that help starts too late")
    runs: int
    seed: int


class ResultRow(BaseModel):
    offering_id: int
    provider: str
    care_type: str
    care_type_label: str
    gemeente_code: str
    location: str
    region_code: str
    distance_km: float | None = Field(description="hemelsbreed, between gemeente centres")
    places_free: int
    start_low: dt.date | None
    start_high: dt.date | None
    start_status: StartStatus
    start_status_text: str
    flags: list[Flag]
    reasons: list[str]
    intake_stop: bool
    last_confirmed: dt.date
    stale: bool
    forecast: StartForecastView | None = Field(
        default=None, description="only for the first FORECAST_ROWS results"
    )


class SearchForm(BaseModel):
    zorgvorm: str = ""
    leeftijd: str = ""
    gemeente: str = ""
    kenmerken: list[str] = Field(default_factory=list)
    route: Route = Route.MAIN_CONTRACTOR
    regio: Area = Area.IN_REGION
    uitspraak: str = ""
    deadline: str = ""
    ook_niet_passend: bool = False


class ReasonCount(BaseModel):
    reason: str
    count: int


class SearchContext(BaseModel):
    form: SearchForm
    errors: FormErrors = Field(default_factory=FormErrors)
    searched: bool = False
    today: dt.date
    deadline: dt.date | None = None
    deadline_basis: str = ""
    deadline_passed: bool = False
    stale_after_days: int
    results: list[ResultRow] = Field(default_factory=list)
    non_fitting: list[ResultRow] = Field(
        default_factory=list, description="only filled when ook_niet_passend is set"
    )
    non_fitting_count: int = 0
    non_fitting_reasons: list[ReasonCount] = Field(default_factory=list)
    out_of_region_count: int = Field(
        default=0, description="offerings outside the region, not checked further"
    )
    forecast_rows: int = FORECAST_ROWS


# ------------------------------------------------------------------ options


@cache
def care_type_options() -> tuple[tuple[str, str], ...]:
    known = {c.value for c in CareType}
    infos = [i for i in reference.care_types().values() if i.code in known]
    infos.sort(key=lambda i: (i.category, i.label))
    return tuple((i.code, f"{i.label} ({i.category})") for i in infos)


@cache
def care_type_labels() -> dict[str, str]:
    return {i.code: i.label for i in reference.care_types().values()}


@cache
def gemeente_options() -> tuple[tuple[str, str], ...]:
    items = sorted(catalogue.gemeenten().values(), key=lambda g: g.name)
    return tuple((g.code, g.name) for g in items)


@cache
def attribute_options() -> tuple[tuple[str, str], ...]:
    return tuple(
        (code, info.label)
        for code, info in reference.attributes().items()
        if code in catalogue.ATTRIBUTE_BY_CODE
    )


# ------------------------------------------------------------------ parsing


def parse_form(params: Mapping[str, str], multi: Mapping[str, Sequence[str]]) -> SearchForm:
    def flag(name: str) -> bool:
        return params.get(name, "") in ("1", "on", "true", "ja")

    route = params.get("route", Route.MAIN_CONTRACTOR.value)
    area = params.get("regio", Area.IN_REGION.value)
    return SearchForm(
        zorgvorm=params.get("zorgvorm", "").strip(),
        leeftijd=params.get("leeftijd", "").strip(),
        gemeente=params.get("gemeente", "").strip(),
        kenmerken=[k for k in multi.get("kenmerken", []) if k],
        route=Route(route) if route in Route._value2member_map_ else Route.MAIN_CONTRACTOR,
        regio=Area(area) if area in Area._value2member_map_ else Area.IN_REGION,
        uitspraak=params.get("uitspraak", "").strip(),
        deadline=params.get("deadline", "").strip(),
        ook_niet_passend=flag("ook_niet_passend"),
    )


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class ValidQuery(BaseModel):
    care_type: str
    age: int
    gemeente: str
    attributes: list[str]
    ruling: dt.date | None
    deadline: dt.date | None


def validate(form: SearchForm, today: dt.date) -> tuple[ValidQuery | None, FormErrors]:
    """All problems at once, in form order, in B1 Dutch."""
    errors = FormErrors()
    if form.zorgvorm not in care_type_labels() or form.zorgvorm not in CareType._value2member_map_:
        errors.add("zorgvorm", "Kies welke hulp het kind nodig heeft.")
    age: int | None = None
    if not form.leeftijd:
        errors.add("leeftijd", "Vul de leeftijd van het kind in.")
    elif not form.leeftijd.isdigit() or not 0 <= int(form.leeftijd) <= MAX_AGE:
        errors.add("leeftijd", f"Vul een leeftijd in van 0 tot en met {MAX_AGE} jaar.")
    else:
        age = int(form.leeftijd)
    if form.gemeente not in catalogue.gemeenten():
        errors.add("gemeente", "Kies de gemeente die de hulp betaalt.")
    unknown = [k for k in form.kenmerken if k not in catalogue.ATTRIBUTE_BY_CODE]
    if unknown:
        errors.add("kenmerken", "Een van de kenmerken kennen we niet. Kies uit de lijst.")
    ruling = _date(form.uitspraak) if form.uitspraak else None
    if form.uitspraak and ruling is None:
        errors.add("uitspraak", "Vul de datum van de uitspraak in als dag-maand-jaar.")
    elif ruling is not None and ruling > today:
        errors.add("uitspraak", "De datum van de uitspraak kan niet in de toekomst liggen.")
    deadline = _date(form.deadline) if form.deadline else None
    if form.deadline and deadline is None:
        errors.add("deadline", "Vul de eerdere deadline in als dag-maand-jaar.")
    if errors or age is None:
        return None, errors
    return (
        ValidQuery(
            care_type=form.zorgvorm,
            age=age,
            gemeente=form.gemeente,
            attributes=form.kenmerken,
            ruling=ruling,
            deadline=deadline,
        ),
        errors,
    )


# ------------------------------------------------------------------ search


def _status(low: dt.date | None, high: dt.date | None, deadline: dt.date) -> StartStatus:
    if low is None or high is None:
        return StartStatus.UNKNOWN
    if high <= deadline:
        return StartStatus.ON_TIME
    if low > deadline:
        return StartStatus.LATE
    return StartStatus.MAYBE_LATE


def _reason_texts(
    check: PairCheck, view: access.OfferingView, labels: Mapping[str, str]
) -> list[str]:
    contra = ", ".join(
        labels.get(code, code)
        for code, attr in catalogue.ATTRIBUTE_BY_CODE.items()
        if attr in check.contra_indications
    )
    return [
        REASON_TEXT[r].format(contra=contra, age_min=view.age_min, age_max=view.age_max)
        for r in check.reasons
    ]


def search(
    session: Session,
    user: Principal,
    form: SearchForm,
    *,
    today: dt.date,
    stale_after_days: int,
    cache: catalogue.SearchCache | None = None,
    forecast_rows: int = FORECAST_ROWS,
) -> SearchContext:
    ctx = SearchContext(form=form, today=today, stale_after_days=stale_after_days)
    query, ctx.errors = validate(form, today)
    if query is None:
        return ctx
    ctx.searched = True
    gemeenten = catalogue.gemeenten()
    home = gemeenten[query.gemeente]
    child = Child(
        ref=QUERY_CHILD,
        gemeente=home.code,
        region=home.region_code,
        needs=(CareNeed(id=QUERY_CHILD, care_type=CareType(query.care_type)),),
        age_years=query.age,
        ruling_date=query.ruling,
        urgent_deadline=query.deadline,
        attributes=catalogue.attributes_of(query.attributes),
    )
    if cache is None:
        cache = catalogue.SearchCache(stale_after_days)
    cache.sync(session, today)
    catalog = cache.offerings(session, user.store(), query.care_type, today)
    pairs = list(zip(catalog.views, catalog.offerings, strict=True))
    if form.regio is Area.IN_REGION:
        # Offerings outside the region cannot fit; they are counted, not listed, so a
        # verwijzer is not flooded with "buiten de regio" rows (and the search stays fast).
        area = {home.code, home.region_code}
        inside = [
            (v, o)
            for v, o in pairs
            if v.region_code == home.region_code or not area.isdisjoint(v.service_regions)
        ]
        ctx.out_of_region_count = len(pairs) - len(inside)
        pairs = inside
    views = [v for v, _ in pairs]
    purchase = cache.purchase(session, query.care_type, home.region_code)
    scenario = Scenario(
        evaluation_date=today,
        children=(child,),
        offerings=tuple(o for _, o in pairs),
        contracts=purchase.contracts,
        subcontracts=purchase.subcontracts,
        regions=catalogue.regions(),
        budgets=purchase.budgets,
        # Late options stay in the list, marked against the deadline: when nothing
        # starts in time the verwijzer still needs the least-late option.
        policy=replace(
            Policy(), allow_out_of_region=form.regio is Area.ALSO_OUTSIDE, allow_late=True
        ),
        name="zoekvraag",
    )
    index = ScenarioIndex(scenario)
    catalogue.prime_index(index, catalog)
    deadline = deadline_norm3(child)
    if deadline is None:
        from dateutil.relativedelta import relativedelta

        deadline = today + relativedelta(months=3)
        ctx.deadline_basis = "Geen uitspraakdatum ingevuld: we rekenen met 3 maanden vanaf vandaag."
    elif query.deadline is not None and deadline == query.deadline:
        ctx.deadline_basis = "De eerdere deadline die u invulde."
    else:
        ctx.deadline_basis = "3 maanden na de uitspraak (norm van de inspectie)."
    ctx.deadline = deadline
    ctx.deadline_passed = deadline < today

    attr_labels = dict(attribute_options())
    provider_names = {v.provider_ext_id: v.provider_name for v in views}
    labels = care_type_labels()
    reason_counts: Counter[str] = Counter()
    for view, offering in zip(views, scenario.offerings, strict=True):
        check = check_pair(scenario, child, child.needs[0], offering, index)
        reasons = _reason_texts(check, view, attr_labels)
        if check.eligible and check.via_main_contractor and form.route is Route.DIRECT:
            main = provider_names.get(check.via_main_contractor, check.via_main_contractor)
            reasons = [ONLY_VIA_MAIN.format(main=main)]
        low = check.earliest_start
        high = None
        if low is not None:
            stated = today + dt.timedelta(days=view.expected_wait_days + view.intake_days)
            high = max(low, stated)
        status = _status(low, high, deadline)
        flags = _flags(check, view, offering, child, index, provider_names)
        location = gemeenten.get(view.gemeente_code)
        row = ResultRow(
            offering_id=view.id,
            provider=view.provider_name,
            care_type=view.care_type,
            care_type_label=labels.get(view.care_type, view.care_type),
            gemeente_code=view.gemeente_code,
            location=location.name if location else view.gemeente_code,
            region_code=view.region_code,
            distance_km=round(reference.distance_km(home, location), 1) if location else None,
            places_free=view.places_free,
            start_low=low,
            start_high=high,
            start_status=status,
            start_status_text=START_STATUS_TEXT[status],
            flags=flags,
            reasons=reasons,
            intake_stop=view.intake_stop,
            last_confirmed=view.confirmed_at.date(),
            stale=view.stale,
        )
        if reasons:
            reason_counts.update(reasons)
            if form.ook_niet_passend:
                ctx.non_fitting.append(row)
        else:
            ctx.results.append(row)
    order = {StartStatus.ON_TIME: 0, StartStatus.MAYBE_LATE: 1, StartStatus.LATE: 2}
    ctx.results.sort(
        key=lambda r: (
            order.get(r.start_status, 3),
            r.start_low or dt.date.max,
            r.distance_km if r.distance_km is not None else 1e9,
            r.provider,
        )
    )
    offering_by_id = {o.id: o for o in scenario.offerings}
    version_of = {v.id: v.version for v in views}
    urgent = child.urgent_deadline is not None or child.acute_unsafety
    ctx.forecast_rows = forecast_rows
    for row in ctx.results[:forecast_rows]:
        row.forecast = _forecast(
            cache,
            offering_by_id[str(row.offering_id)],
            version_of[row.offering_id],
            today,
            urgent,
            deadline,
        )
    ctx.non_fitting.sort(key=lambda r: (r.distance_km or 1e9, r.provider))
    ctx.non_fitting_count = sum(1 for _ in views) - len(ctx.results)
    ctx.non_fitting_reasons = [
        ReasonCount(reason=r, count=n)
        for r, n in sorted(reason_counts.items(), key=lambda x: -x[1])
    ]
    return ctx


def _forecast(
    cache: catalogue.SearchCache,
    offering: Offering,
    version: int,
    today: dt.date,
    urgent: bool,
    deadline: dt.date,
) -> StartForecastView | None:
    """Forecast for a child referred today: cached per offering (and data version),
    so only the deadline is applied per search."""
    try:
        base = state_from_offering(offering, as_of=today)
    except ForecastInputError:
        return None
    entry = QueueEntry(ref=QUERY_CHILD, urgent=urgent, deadline=deadline)
    state = with_new_referral(base, entry)
    # The same per-offering seed as matcher.forecast.forecast_child, so the figures
    # here match a forecast made there with FORECAST_SEED.
    seed = (FORECAST_SEED * 1_000_003 + zlib.crc32(offering.id.encode())) % (2**63)

    def simulate() -> np.ndarray | None:
        try:
            return simulate_starts(state, runs=FORECAST_RUNS, seed=seed)
        except ForecastInputError:
            return None

    starts = cache.forecast((offering.id, version, urgent), simulate)
    if starts is None:
        return None
    position = [e.ref for e in state.queue].index(QUERY_CHILD)
    f = summarise(state, starts, seed=seed, runs=FORECAST_RUNS)[position]
    return StartForecastView(
        median=f.median_date,
        low=f.low_date,
        high=f.high_date,
        p_after_deadline=f.p_after_deadline,
        runs=f.runs,
        seed=f.seed,
    )


def warm_cache(
    sessions: sessionmaker[Session],
    cache: catalogue.SearchCache,
    principal: access.Principal,
    *,
    today: dt.date,
    forecast: bool = True,
) -> int:
    """Fill the search cache for every care type, and the forecast of a regular
    (not urgent) referral at every offering, so the first searches of the day do not
    pay for them. Returns the number of offerings seen. Runs in a background thread."""
    seen = 0
    with sessions() as session:
        cache.sync(session, today)
        for care_type in CareType:
            catalog = cache.offerings(session, principal, care_type.value, today)
            for view, offering in zip(catalog.views, catalog.offerings, strict=True):
                seen += 1
                if forecast:
                    # The deadline only enters the summary, not the simulation.
                    _forecast(cache, offering, view.version, today, False, today)
    return seen


def _flags(
    check: PairCheck,
    view: access.OfferingView,
    offering: Offering,
    child: Child,
    index: ScenarioIndex,
    provider_names: Mapping[str, str],
) -> list[Flag]:
    flags: list[Flag] = []
    if view.intake_stop:
        flags.append(Flag(code="opnamestop", text="Opnamestop", level="bad"))
    if Reason.BUDGET_CEILING_REACHED in check.reasons:
        flags.append(Flag(code="budgetplafond", text="Budgetplafond bereikt", level="bad"))
    elif offering.price_cents > 0:
        room = [
            b.remaining_cents // offering.price_cents
            for b in index.budgets_for(child, offering, check.via_main_contractor)
        ]
        if room and min(room) <= BUDGET_WARN_PLACEMENTS:
            n = min(room)
            flags.append(
                Flag(
                    code="budget_bijna_op",
                    text=f"Budget bijna op: nog ruimte voor {n} plaatsing{'en' if n != 1 else ''}",
                    level="warn",
                )
            )
    if check.via_main_contractor:
        main = provider_names.get(check.via_main_contractor, check.via_main_contractor)
        flags.append(Flag(code="hoofdaannemer", text=f"Via hoofdaannemer {main}", level="warn"))
    if PairWarning.OUT_OF_REGION in check.warnings:
        flags.append(Flag(code="buiten_regio", text="Buiten de regio", level="warn"))
    if PairWarning.TURNS_18_DURING_CARE in check.warnings:
        flags.append(Flag(code="wordt_18", text="Wordt 18 tijdens de hulp", level="warn"))
    return flags
