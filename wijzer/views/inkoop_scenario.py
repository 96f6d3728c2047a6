"""Inkoop scenarios: the form, the background job and the result as charts and tables.

The matching itself runs in the use cases (`services.what_if`,
`services.purchase_advice`), which give back only suppressed aggregates; nothing
here ever holds a child's row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.caretypes import care_type_label
from providers import reference
from services import purchase_advice as advice
from services import what_if as data
from wijzer.auth import SessionUser
from wijzer.forms import DB_INT_MAX, FormErrors, parse_int
from wijzer.jobs import Job, JobStatus
from wijzer.views import inkoop_charts as charts
from wijzer.views.inkoop_charts import Cell, Chart, Interval, Table, chart

Progress = Callable[[str, int], None]
PLACE_ROWS = 3
MAX_PLACES = 500
MAX_EURO = 100_000_000
HIDDEN = "verborgen"
NOT_PLACEABLE = (
    "Voor deze hulpvorm is in deze regio geen ingekocht aanbod zonder opnamestop. "
    "Kies een andere hulpvorm of regio."
)
NOTE = (
    "Aantallen onder 5 worden niet getoond. Soms is ook een groter aantal verborgen, "
    "zodat niemand een verborgen aantal kan terugrekenen uit het totaal."
)

# --------------------------------------------------------------------- form


class PlaceRow(BaseModel):
    index: int
    care_type: str = ""
    region: str = ""
    places: str = ""


class CeilingRow(BaseModel):
    index: int
    budget: str
    name: str = ""
    left_euro: int
    amount: str = ""


class ScenarioForm(BaseModel):
    places: list[PlaceRow]
    ceilings: list[CeilingRow]
    leave: list[str] = Field(default_factory=list)


class Option(BaseModel):
    value: str
    label: str


class FormContext(BaseModel):
    region: str
    care_types: list[Option]
    regions: list[Option]
    gemeenten: list[Option]
    form: ScenarioForm
    errors: FormErrors = Field(default_factory=FormErrors)
    advice_budget: str = ""
    advice_places: str = "10"

    @property
    def care_type_pairs(self) -> list[tuple[str, str]]:
        return [(o.value, o.label) for o in self.care_types]

    @property
    def region_pairs(self) -> list[tuple[str, str]]:
        return [(o.value, o.label) for o in self.regions]


def gemeente_name(code: str) -> str:
    g = reference.gemeenten().get(code)
    return g.name if g else code


def care_label(code: str) -> str:
    return care_type_label(code, capital=True)


def _region_label(code: str, *, own: bool) -> str:
    name = data.region_name(code)
    return f"{name} (eigen regio)" if own else name


def empty_form(opts: data.RegionOptions) -> ScenarioForm:
    return ScenarioForm(
        places=[PlaceRow(index=i, region=opts.region) for i in range(1, PLACE_ROWS + 1)],
        ceilings=[
            CeilingRow(index=i, budget=b, name=opts.budget_names.get(b, ""), left_euro=left // 100)
            for i, (b, left) in enumerate(opts.budgets, start=1)
        ],
    )


def form_context(
    opts: data.RegionOptions, form: ScenarioForm | None = None, errors: FormErrors | None = None
) -> FormContext:
    return FormContext(
        region=opts.region,
        care_types=[
            Option(value=c, label=care_label(c)) for c in sorted(opts.care_types, key=care_label)
        ],
        # the own region first: it is what a browser sends when nothing is chosen
        regions=[
            Option(value=r, label=_region_label(r, own=r == opts.region))
            for r in sorted(opts.regions, key=lambda r: (r != opts.region, r))
        ],
        gemeenten=[
            Option(value=g, label=gemeente_name(g))
            for g in sorted(opts.gemeenten, key=gemeente_name)
        ],
        form=form or empty_form(opts),
        errors=errors or FormErrors(),
    )


def _whole(text: str) -> int | None:
    # Any whole number, also 50.000; each caller checks its own range.
    return parse_int(text.replace(" ", ""), 0, DB_INT_MAX, thousands=True)


def read_form(
    values: Mapping[str, str], leave: list[str], opts: data.RegionOptions
) -> ScenarioForm:
    """The raw form as typed (kept for showing it again with errors)."""
    form = empty_form(opts)
    for row in form.places:
        row.care_type = values.get(f"zorgvorm_{row.index}", "")
        row.region = values.get(f"regio_{row.index}", row.region)
        row.places = values.get(f"plekken_{row.index}", "")
    for c in form.ceilings:
        c.amount = values.get(f"plafond_{c.index}", "")
    form.leave = leave
    return form


def check_scenario_form(
    form: ScenarioForm, opts: data.RegionOptions
) -> tuple[data.ScenarioRequest | None, FormErrors]:
    errors = FormErrors()
    extra: list[data.ExtraPlaces] = []
    for row in form.places:
        if not row.places.strip() and not row.care_type:
            continue
        n = _whole(row.places) if row.places.strip() else None
        if n is None or n > MAX_PLACES:
            errors.add(
                f"plekken_{row.index}",
                f"Vul bij extra plekken een heel getal in van 1 tot {MAX_PLACES}.",
            )
            continue
        if not row.care_type:
            errors.add(f"zorgvorm_{row.index}", "Kies de hulpvorm voor de extra plekken.")
            continue
        if row.care_type not in opts.care_types:
            errors.add(f"zorgvorm_{row.index}", "Kies een hulpvorm uit de lijst.")
            continue
        if row.region not in opts.regions:
            errors.add(f"regio_{row.index}", "Kies een regio uit de lijst.")
            continue
        if (row.care_type, row.region) not in opts.placeable:
            errors.add(f"zorgvorm_{row.index}", NOT_PLACEABLE)
            continue
        if n > 0:
            extra.append(data.ExtraPlaces(row.care_type, row.region, n))
    lifts: list[data.CeilingLift] = []
    for c in form.ceilings:
        if not c.amount.strip():
            continue
        euro = _whole(c.amount)
        if euro is None or euro > MAX_EURO:
            errors.add(
                f"plafond_{c.index}",
                "Vul het bedrag in hele euro's in, bijvoorbeeld 50000 of 50.000.",
            )
            continue
        if euro > 0:
            lifts.append(data.CeilingLift(c.budget, euro * 100))
    members = set(opts.gemeenten)
    if any(g not in members for g in form.leave):
        errors.add("gemeenten", "Kies alleen gemeenten uit de lijst.")
    elif len(set(form.leave)) >= len(members) and members:
        errors.add("gemeenten", "Er moet minstens één gemeente in de gezamenlijke inkoop blijven.")
    req = data.ScenarioRequest(tuple(extra), tuple(lifts), tuple(sorted(set(form.leave))))
    if not errors and req.empty:
        errors.add(
            "plekken_1",
            "Kies minstens één wijziging: extra plekken, een hoger plafond of een gemeente "
            "die uitstapt.",
        )
    return (None if errors else req), errors


# --------------------------------------------------------------------- result


class ForecastLine(BaseModel):
    care_type: str
    label: str
    baseline: Interval | None
    scenario: Interval | None


class ScenarioResult(BaseModel):
    region: str
    region_name: str = ""
    evaluation_date: dt.date
    applied: list[str]
    needs: int | None
    within: Cell
    blocked: Cell
    placed_late: Cell = Field(
        default=Cell(baseline=None, scenario=None, difference=None),
        description="of blocked: placed, but help starts after the legal deadline",
    )
    unclassified: int | None = Field(
        0, description="needs not classified yet: counted, never matched (hidden when small)"
    )
    tables: list[Table]
    forecast: list[ForecastLine] = Field(default_factory=list)
    forecast_chart: Chart | None = None
    note: str = NOTE


class ScenarioParams(BaseModel):
    """What the user asked (no case data), kept with the job."""

    extra_places: list[tuple[str, str, int]] = Field(default_factory=list)
    ceiling_lifts: list[tuple[str, int]] = Field(default_factory=list)
    gemeenten_leave: list[str] = Field(default_factory=list)

    @staticmethod
    def of(req: data.ScenarioRequest) -> ScenarioParams:
        return ScenarioParams(
            extra_places=[(e.care_type, e.region, e.places) for e in req.extra_places],
            ceiling_lifts=[(c.budget, c.amount_cents) for c in req.ceiling_lifts],
            gemeenten_leave=list(req.gemeenten_leave),
        )

    def request(self) -> data.ScenarioRequest:
        return data.ScenarioRequest(
            tuple(data.ExtraPlaces(c, r, n) for c, r, n in self.extra_places),
            tuple(data.CeilingLift(b, a) for b, a in self.ceiling_lifts),
            tuple(self.gemeenten_leave),
        )


class AdviceParams(BaseModel):
    budget_cents: int
    max_places: int


class PurchaseRow(BaseModel):
    care_type: str
    label: str
    places: int
    spent_cents: int
    children: int | None
    cents_per_child: int | None


class RuleRow(BaseModel):
    rule: str
    label: str
    spent_cents: int
    within_norm: int | None
    gained: int | None
    per_million_euro: float | None
    purchases: list[PurchaseRow]


class AdviceResult(BaseModel):
    region: str
    evaluation_date: dt.date
    budget_cents: int
    max_places: int
    baseline_within_norm: int | None
    rules: list[RuleRow]
    proven_optimal: bool
    chart: Chart
    note: str = NOTE


class JobContext(BaseModel):
    id: str
    label: str
    status: str
    step: str
    percent: int
    done: bool
    error: str
    params: ScenarioParams | AdviceParams
    result: ScenarioResult | None
    advice: AdviceResult | None = None


def _forecast(o: data.ScenarioOutcome) -> tuple[list[ForecastLine], Chart]:
    lines = [
        ForecastLine(
            care_type=f.care_type,
            label=care_label(f.care_type),
            baseline=charts.interval(f.baseline),
            scenario=charts.interval(f.scenario),
        )
        for f in o.forecast
    ]
    # Longest wait now first: that is where a purchase matters most.
    lines.sort(key=lambda f: (-(f.baseline.median if f.baseline else 0), f.label))
    bars = [
        (f.label, f.baseline.median, f.scenario.median)
        for f in lines
        if f.baseline is not None and f.scenario is not None
    ]
    return lines, chart(
        "wachttijd", "Verwachte wachttijd in dagen (mediaan), nu en in het scenario", bars
    )


def result_of(o: data.ScenarioOutcome) -> ScenarioResult:
    care = charts.group_table(o.by_care_type, "Per hulpvorm", "zorgvorm", care_label)
    forecast, forecast_chart = _forecast(o)
    return ScenarioResult(
        region=o.region,
        region_name=data.region_name(o.region),
        evaluation_date=o.evaluation_date,
        applied=list(o.applied),
        needs=o.needs,
        within=charts.cell(o.within_norm),
        blocked=charts.cell(o.blocked),
        placed_late=charts.cell(o.placed_late),
        unclassified=o.unclassified,
        tables=[
            charts.reason_table(o.blocked_by_reason),
            care,
            charts.group_table(o.by_gemeente, "Per gemeente", "gemeente", gemeente_name),
        ],
        forecast=forecast,
        forecast_chart=forecast_chart,
    )


def run(
    sessions: sessionmaker[Session],
    user: SessionUser,
    params: ScenarioParams,
    *,
    today: dt.date,
    progress: Progress,
) -> ScenarioResult:
    with sessions.begin() as session:
        outcome = data.run_scenario(session, user, params.request(), today=today, progress=progress)
    return result_of(outcome)


RULE_LABELS = {
    "advies": "Advies (meeste kinderen binnen de norm)",
    "langste_wachtlijst": "Langste wachtlijst eerst",
}


def advice_of(o: advice.AdviceOutcome) -> AdviceResult:
    rules = [
        RuleRow(
            rule=r.rule,
            label=RULE_LABELS[r.rule],
            spent_cents=r.spent_cents,
            within_norm=r.within_norm,
            gained=r.gained,
            per_million_euro=None if r.per_million_euro is None else round(r.per_million_euro, 1),
            purchases=[
                PurchaseRow(
                    care_type=p.care_type,
                    label=care_label(p.care_type),
                    places=p.places,
                    spent_cents=p.spent_cents,
                    children=p.children,
                    cents_per_child=p.cents_per_child,
                )
                for p in r.purchases
            ],
        )
        for r in o.rules
    ]
    bars = [
        (r.label, o.baseline_within_norm, r.within_norm)
        for r in rules
        if o.baseline_within_norm is not None and r.within_norm is not None
    ]
    return AdviceResult(
        region=o.region,
        evaluation_date=o.evaluation_date,
        budget_cents=o.budget_cents,
        max_places=o.max_places,
        baseline_within_norm=o.baseline_within_norm,
        rules=rules,
        proven_optimal=o.proven_optimal,
        chart=chart(
            "advies",
            "Binnen de norm: nu en na de inkoop, per regel",
            [(label, b, a) for label, b, a in bars if b is not None and a is not None],
        ).model_copy(update={"after_label": "Na inkoop"}),
    )


def run_advice(
    sessions: sessionmaker[Session],
    user: SessionUser,
    params: AdviceParams,
    *,
    today: dt.date,
    progress: Progress,
) -> AdviceResult:
    with sessions.begin() as session:
        outcome = advice.purchase_advice(
            session,
            user,
            params.budget_cents,
            today=today,
            max_places=params.max_places,
            progress=progress,
        )
    return advice_of(outcome)


def validate_advice(budget: str, places: str) -> tuple[AdviceParams | None, FormErrors]:
    errors = FormErrors()
    euro = _whole(budget)
    if euro is None or not 0 < euro <= MAX_EURO:
        errors.add("budget", "Vul het budget in hele euro's in, bijvoorbeeld 1000000 of 1.000.000.")
    n = _whole(places or "10")
    if n is None or not 1 <= n <= 50:
        errors.add("max_plekken", "Vul een heel getal in van 1 tot 50.")
    if errors or euro is None or n is None:
        return None, errors
    return AdviceParams(budget_cents=euro * 100, max_places=n), errors


def job_context(job: Job) -> JobContext:
    assert isinstance(job.params, ScenarioParams | AdviceParams)
    result = job.result if isinstance(job.result, ScenarioResult) else None
    advice = job.result if isinstance(job.result, AdviceResult) else None
    return JobContext(
        id=job.id,
        label=job.label,
        status=job.status.value,
        step=job.step,
        percent=job.percent,
        done=job.status in (JobStatus.DONE, JobStatus.FAILED),
        error="Er ging iets mis bij het rekenen. Probeer het opnieuw." if job.error else "",
        params=job.params,
        result=result,
        advice=advice,
    )


# --------------------------------------------------------------------- export

EXPORT_COLUMNS = (
    "tabel",
    "groep",
    "binnen de norm nu",
    "binnen de norm scenario",
    "verschil binnen de norm",
    "geblokkeerd nu",
    "geblokkeerd scenario",
    "verschil geblokkeerd",
)


def _v(n: int | None) -> int | str:
    return HIDDEN if n is None else n


ADVICE_COLUMNS = (
    "regel",
    "hulpvorm",
    "plekken",
    "kosten (euro)",
    "kinderen binnen de norm door deze inkoop",
    "euro per kind",
)


def advice_rows(a: AdviceResult) -> list[list[int | str]]:
    out: list[list[int | str]] = []
    for r in a.rules:
        for p in r.purchases:
            out.append(
                [
                    r.label,
                    p.label,
                    p.places,
                    p.spent_cents // 100,
                    _v(p.children),
                    HIDDEN if p.cents_per_child is None else p.cents_per_child // 100,
                ]
            )
        out.append([r.label, "Totaal", "", r.spent_cents // 100, _v(r.gained), ""])
    return out


SUMMARY = "Samenvatting"
UNCLASSIFIED_ROW = "Hulpvraag nog niet bepaald (apart van geblokkeerd: krijgt nog geen plek)"


def export_rows(r: ScenarioResult) -> list[list[int | str]]:
    """Aggregates only, the same cells as the page; hidden cells say so."""
    empty: list[int | str] = ["", "", ""]

    def shown(c: Cell) -> list[int | str]:
        return [_v(c.baseline), _v(c.scenario), _v(c.difference)]

    out: list[list[int | str]] = [
        [SUMMARY, "Alle hulpvragen", *shown(r.within), *shown(r.blocked)],
        [
            SUMMARY,
            "Waarvan een plek, maar te laat (start na de deadline)",
            *empty,
            *shown(r.placed_late),
        ],
        # not within the norm and not blocked either: its own row, in the blocked columns
        # so that the within-norm columns keep adding up
        [SUMMARY, UNCLASSIFIED_ROW, *empty, _v(r.unclassified), _v(r.unclassified), 0],
    ]
    for t in r.tables:
        for row in [*t.rows, t.total]:
            cells: list[int | str] = [t.title, row.label]
            for col, c in (("within", row.within), ("blocked", row.blocked)):
                if c is None:
                    shown_here = not (t.kind == "reden" and col == "within")
                    cells += [HIDDEN] * 3 if row.hidden and shown_here else ["", "", ""]
                else:
                    cells += [_v(c.baseline), _v(c.scenario), _v(c.difference)]
            out.append(cells)
    return out
