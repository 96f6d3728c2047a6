"""Zoeken: the verwijzer's search form and its result page.

The search itself is the use case ``services.search``; this view reads and checks
the form, calls it, and puts its result into words: one ``SearchContext`` for HTML
and JSON alike.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import cache
from typing import NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from matcher.domain import CareType
from matcher.domain.caretypes import care_type_label
from matcher.domain.clocks import Verdict
from matcher.domain.eligibility import PairWarning, Reason
from matcher.domain.model import ChildAttribute
from matcher.domain.reasons import Group, reason_text, warning_text
from providers import reference
from services import search as use_case
from services.errors import InvalidRequest
from services.norm import verdict_text
from services.search import ATTRIBUTE_BY_CODE, FORECAST_ROWS, MAX_AGE
from services.search_cache import SearchCache
from wijzer.auth import SessionUser
from wijzer.forms import FormErrors, parse_int

# Offerings that do not fit listed on the page, nearest first: beyond the region a care
# type can have hundreds, a wall of rows (on a phone, tens of thousands of pixels)
# where the counts per reason already say why. A link shows them all.
NON_FITTING_SHOWN = 25
# A budget that has room for this few placements or fewer gets a warning flag.
BUDGET_WARN_PLACEMENTS = 3


class Route(StrEnum):
    DIRECT = "direct"
    MAIN_CONTRACTOR = "hoofdaannemer"


class Area(StrEnum):
    IN_REGION = "binnen"
    ALSO_OUTSIDE = "buiten"


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
    source: str = Field(
        default="",
        description='where the flow came from, in words: "gemeten" (the referral loop) '
        'or "opgegeven door de aanbieder"',
    )


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
    verdict: str = Field(description="machine code of the norm verdict; verdict_text says it")
    verdict_text: str = Field(description="the planned start against the deadline, in words")
    verdict_level: str = Field(description="ok, warn or bad: how the verdict is shown")
    days_late: int = Field(description="days the planned start lies after the deadline")
    uncertain: bool = Field(description="the forecast leaves open whether help starts in time")
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
    alle_niet_passend: bool = False  # every offering that does not fit, not only the nearest


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
        default_factory=list,
        description="only filled when ook_niet_passend is set; on the page the "
        "NON_FITTING_SHOWN nearest unless alle_niet_passend is set, in the API all",
    )
    non_fitting_count: int = 0
    non_fitting_reasons: list[ReasonCount] = Field(default_factory=list)
    out_of_region_count: int = Field(
        default=0, description="offerings outside the region, not checked further"
    )
    forecast_rows: int = FORECAST_ROWS

    @property
    def non_fitting_cut(self) -> bool:
        """Only the nearest of the offerings that do not fit are listed."""
        return bool(self.non_fitting) and len(self.non_fitting) < self.non_fitting_count

    @property
    def nothing_offered(self) -> bool:
        """No offering of the care type at all, in the region or outside it: there is
        nothing that does not fit to show either."""
        return not self.results and not self.non_fitting_count and not self.out_of_region_count


# ------------------------------------------------------------------ options


@cache
def care_type_options() -> tuple[tuple[str, str], ...]:
    known = {c.value for c in CareType}
    infos = [i for i in reference.care_types().values() if i.code in known]
    labels = care_type_labels()
    infos.sort(key=lambda i: (i.category, labels[i.code]))
    return tuple((i.code, f"{labels[i.code]} ({i.category})") for i in infos)


@cache
def care_type_labels() -> dict[str, str]:
    """Every care type's label, as a heading (the one label: `care_type_label`)."""
    return {code: care_type_label(code, capital=True) for code in reference.care_types()}


@cache
def gemeente_options() -> tuple[tuple[str, str], ...]:
    items = sorted(reference.gemeenten().values(), key=lambda g: g.name)
    return tuple((g.code, g.name) for g in items)


@cache
def attribute_options() -> tuple[tuple[str, str], ...]:
    return tuple(
        (code, info.label)
        for code, info in reference.attributes().items()
        if code in ATTRIBUTE_BY_CODE
    )


# ------------------------------------------------------------------ parsing


def search_parameters() -> list[dict[str, object]]:
    """The search's query parameters read by `parse_form`, for the API schema, with
    exactly the values `check_search_form` accepts. Not in a schema: a ruling date
    may not lie after today (422 with a Dutch message)."""
    codes = [code for code, _ in care_type_options()]
    empty_or_date = {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}]
    }

    def query(name: str, schema: Mapping[str, object], required: bool = False) -> dict[str, object]:
        return {"name": name, "in": "query", "required": required, "schema": schema}

    return [
        query("zorgvorm", {"type": "string", "enum": codes}, required=True),
        query("leeftijd", {"type": "integer", "minimum": 0, "maximum": MAX_AGE}, required=True),
        query(
            "gemeente",
            {"type": "string", "enum": [code for code, _ in gemeente_options()]},
            required=True,
        ),
        query(
            "kenmerken",
            {
                "type": "array",
                "items": {"type": "string", "enum": [c for c, _ in attribute_options()]},
            },
        ),
        query("uitspraak", empty_or_date),
        query("deadline", empty_or_date),
    ]


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
        alle_niet_passend=flag("alle_niet_passend"),
    )


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def check_search_form(
    form: SearchForm, today: dt.date, *, forecast_rows: int = FORECAST_ROWS
) -> tuple[use_case.SearchRequest | None, FormErrors]:
    """All problems at once, in form order, in B1 Dutch."""
    errors = FormErrors()
    if form.zorgvorm not in care_type_labels() or form.zorgvorm not in CareType._value2member_map_:
        errors.add("zorgvorm", "Kies welke hulp het kind nodig heeft.")
    age: int | None = None
    if not form.leeftijd:
        errors.add("leeftijd", "Vul de leeftijd van het kind in.")
    else:
        age = parse_int(form.leeftijd, 0, MAX_AGE)
        if age is None:
            errors.add("leeftijd", f"Vul een leeftijd in van 0 tot en met {MAX_AGE} jaar.")
    if form.gemeente not in reference.gemeenten():
        errors.add("gemeente", "Kies de gemeente die de hulp betaalt.")
    unknown = [k for k in form.kenmerken if k not in ATTRIBUTE_BY_CODE]
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
        use_case.SearchRequest(
            care_type=form.zorgvorm,
            age=age,
            gemeente=form.gemeente,
            attributes=tuple(form.kenmerken),
            ruling=ruling,
            deadline=deadline,
            direct_only=form.route is Route.DIRECT,
            also_outside_region=form.regio is Area.ALSO_OUTSIDE,
            forecast_rows=forecast_rows,
        ),
        errors,
    )


# ------------------------------------------------------------------ search

DEADLINE_BASIS_TEXT = {
    use_case.DeadlineBasis.NO_RULING: (
        "Geen uitspraakdatum ingevuld: we rekenen met 3 maanden vanaf vandaag."
    ),
    use_case.DeadlineBasis.URGENT: "De eerdere deadline die u invulde.",
    use_case.DeadlineBasis.NORM: "3 maanden na de uitspraak (norm van de inspectie).",
}


class _ReasonKind(NamedTuple):
    """Everything the words of why an offering does not fit depend on: offerings of one
    kind get the same words. (A named tuple: one is made and hashed for each of some 300
    offerings per search.)"""

    main: str | None  # only through this hoofdaannemer, and direct was asked
    reasons: tuple[Reason, ...] = ()
    contra: tuple[ChildAttribute, ...] = ()
    age_min: int | None = None
    age_max: int | None = None

    def texts(self, names: Mapping[str, str]) -> list[str]:
        if self.main is not None:
            name = names.get(self.main, self.main)
            return [warning_text(PairWarning.VIA_MAIN_CONTRACTOR, main=name)]
        return [
            reason_text(r, contra=self.contra, age_min=self.age_min, age_max=self.age_max)
            for r in self.reasons
        ]


def _reason_kind(c: use_case.Candidate | use_case.Unfit) -> _ReasonKind:
    if c.only_via_main:
        return _ReasonKind(main=c.check.via_main_contractor or "")
    check, view = c.check, c.view
    return _ReasonKind(None, check.reasons, check.contra_indications, view.age_min, view.age_max)


def _reason_texts(c: use_case.Candidate | use_case.Unfit, names: Mapping[str, str]) -> list[str]:
    return _reason_kind(c).texts(names)


def count_reasons(unfit: Sequence[use_case.Unfit], names: Mapping[str, str]) -> list[ReasonCount]:
    """How many offerings give each reason in words, most first; equal counts in the
    catalogue's order (by offering id).

    Offerings are counted per kind (`_ReasonKind`) and each kind is put into words once
    (some 300 offerings, a few kinds)."""
    kinds: Counter[_ReasonKind] = Counter(_reason_kind(u) for u in sorted(unfit, key=_offering_id))
    counts: Counter[str] = Counter()
    for kind, n in kinds.items():
        for text in kind.texts(names):
            counts[text] += n
    return [ReasonCount(reason=r, count=n) for r, n in sorted(counts.items(), key=lambda x: -x[1])]


def _offering_id(u: use_case.Unfit) -> int:
    return u.view.id


def _verdict_level(c: use_case.Candidate) -> str:
    if c.uncertain:
        return "warn"
    if c.verdict.verdict is Verdict.WITHIN_NORM:
        return "ok"
    return "warn" if c.verdict.verdict in (Verdict.NO_START, Verdict.NO_DEADLINE) else "bad"


def _verdict_text(c: use_case.Candidate) -> str:
    return "Onzeker: misschien te laat" if c.uncertain else verdict_text(c.verdict)


def _flags(c: use_case.Candidate, names: Mapping[str, str]) -> list[Flag]:
    flags: list[Flag] = []
    if c.view.intake_stop:
        flags.append(Flag(code="opnamestop", text=Group.INTAKE_STOP.label, level="bad"))
    if Reason.BUDGET_CEILING_REACHED in c.check.reasons:
        flags.append(Flag(code="budgetplafond", text=Group.BUDGET_CEILING.label, level="bad"))
    elif c.budget_room is not None and c.budget_room <= BUDGET_WARN_PLACEMENTS:
        n = c.budget_room
        flags.append(
            Flag(
                code="budget_bijna_op",
                text=f"Budget bijna op: nog ruimte voor {n} plaatsing{'en' if n != 1 else ''}",
                level="warn",
            )
        )
    if c.check.via_main_contractor:
        main = names.get(c.check.via_main_contractor, c.check.via_main_contractor)
        flags.append(Flag(code="hoofdaannemer", text=f"Via hoofdaannemer {main}", level="warn"))
    if PairWarning.OUT_OF_REGION in c.check.warnings:
        text = warning_text(PairWarning.OUT_OF_REGION)
        flags.append(Flag(code="buiten_regio", text=text, level="warn"))
    if PairWarning.TURNS_18_DURING_CARE in c.check.warnings:
        text = warning_text(PairWarning.TURNS_18_DURING_CARE)
        flags.append(Flag(code="wordt_18", text=text, level="warn"))
    return flags


def _row(c: use_case.Candidate, names: Mapping[str, str], reasons: Sequence[str] = ()) -> ResultRow:
    """One result as the page and the API show it. `reasons`: why it does not fit, in
    words (`_reason_texts`; none for an offering that fits)."""
    view = c.view
    location = reference.gemeenten().get(view.gemeente_code)
    labels = care_type_labels()
    f = c.forecast
    return ResultRow(
        offering_id=view.id,
        provider=view.provider_name,
        care_type=view.care_type,
        care_type_label=labels.get(view.care_type, view.care_type),
        gemeente_code=view.gemeente_code,
        location=location.name if location else view.gemeente_code,
        region_code=view.region_code,
        distance_km=c.distance_km,
        places_free=view.places_free,
        start_low=c.start_low,
        start_high=c.start_high,
        verdict=c.verdict.verdict.value,
        verdict_text=_verdict_text(c),
        verdict_level=_verdict_level(c),
        days_late=c.verdict.days_late,
        uncertain=c.uncertain,
        flags=_flags(c, names),
        reasons=list(reasons),
        intake_stop=view.intake_stop,
        last_confirmed=view.confirmed_at.date(),
        stale=view.stale,
        forecast=None
        if f is None
        else StartForecastView(
            median=f.median,
            low=f.low,
            high=f.high,
            p_after_deadline=f.p_after_deadline,
            runs=f.runs,
            seed=f.seed,
            source=f.source,
        ),
    )


def search(
    session: Session,
    user: SessionUser,
    form: SearchForm,
    *,
    today: dt.date,
    stale_after_days: int,
    cache: SearchCache | None = None,
    forecast_rows: int = FORECAST_ROWS,
    limit_non_fitting: bool = True,
) -> SearchContext:
    """The search for the page and the API. `limit_non_fitting`: list only the nearest
    `NON_FITTING_SHOWN` offerings that do not fit (the page), unless the form asks for
    all of them; the counts per reason always cover all."""
    ctx = SearchContext(form=form, today=today, stale_after_days=stale_after_days)
    req, ctx.errors = check_search_form(form, today, forecast_rows=forecast_rows)
    if req is None:
        return ctx
    limit: int | None = None
    if not form.ook_niet_passend:
        limit = 0
    elif limit_non_fitting and not form.alle_niet_passend:
        limit = NON_FITTING_SHOWN
    try:
        result = use_case.search(
            session,
            user,
            req,
            today=today,
            cache=cache or SearchCache(stale_after_days),
            non_fitting_limit=limit,
        )
    except InvalidRequest as exc:
        for name, message in exc.issues.items():
            ctx.errors.add(name, message)
        return ctx
    ctx.searched = True
    ctx.deadline = result.deadline
    ctx.deadline_basis = DEADLINE_BASIS_TEXT[result.deadline_basis]
    ctx.deadline_passed = result.deadline_passed
    ctx.out_of_region_count = result.out_of_region_count
    ctx.forecast_rows = forecast_rows
    names = result.provider_names
    ctx.results = [_row(c, names) for c in result.fitting]
    # nearest first, as many as `limit` asked for
    ctx.non_fitting = [_row(c, names, _reason_texts(c, names)) for c in result.non_fitting]
    ctx.non_fitting_count = len(result.unfit)
    ctx.non_fitting_reasons = count_reasons(result.unfit, names)
    return ctx
