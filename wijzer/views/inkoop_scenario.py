"""Inkoop scenarios: the form, the background job and the result as charts and tables.

The matching itself runs in the use cases (`services.what_if`,
`services.purchase_advice`), which give back only suppressed aggregates; nothing
here ever holds a child's row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from services import purchase_advice as advice
from services import what_if as data
from services.matching import FloorSummary
from services.outcomes import GroupOutcomes
from services.principal import Principal
from wijzer.forms import FormErrors
from wijzer.jobs import UNREADABLE, Job, JobKind, JobStatus, WorkContext, decode
from wijzer.views import inkoop_charts as charts
from wijzer.views.inkoop_charts import Cell, Chart, Interval, Table, chart
from wijzer.views.inkoop_form import (
    MAX_EURO as MAX_EURO,
)
from wijzer.views.inkoop_form import (
    MAX_PLACES as MAX_PLACES,
)
from wijzer.views.inkoop_form import (
    NEW_SUFFIX as NEW_SUFFIX,
)
from wijzer.views.inkoop_form import (
    NOT_PLACEABLE as NOT_PLACEABLE,
)
from wijzer.views.inkoop_form import (
    PLACE_ROWS as PLACE_ROWS,
)
from wijzer.views.inkoop_form import (  # the form lives apart; its names stay here too
    CeilingRow as CeilingRow,
)
from wijzer.views.inkoop_form import (
    FormContext as FormContext,
)
from wijzer.views.inkoop_form import (
    Option as Option,
)
from wijzer.views.inkoop_form import (
    PlaceRow as PlaceRow,
)
from wijzer.views.inkoop_form import (
    ScenarioForm as ScenarioForm,
)
from wijzer.views.inkoop_form import (
    care_label as care_label,
)
from wijzer.views.inkoop_form import (
    check_scenario_form as check_scenario_form,
)
from wijzer.views.inkoop_form import (
    empty_form as empty_form,
)
from wijzer.views.inkoop_form import (
    form_context as form_context,
)
from wijzer.views.inkoop_form import (
    gemeente_name as gemeente_name,
)
from wijzer.views.inkoop_form import (
    place_issue as place_issue,
)
from wijzer.views.inkoop_form import (
    read_form as read_form,
)
from wijzer.views.inkoop_form import (
    region_choices as region_choices,
)
from wijzer.views.inkoop_form import (
    whole_number as whole_number,
)

Progress = Callable[[str, int], None]
HIDDEN = "verborgen"
NOTE = (
    "Aantallen onder 5 worden niet getoond. Soms is ook een groter aantal verborgen, "
    "zodat niemand een verborgen aantal kan terugrekenen uit het totaal."
)

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
    groups: GroupOutcomes = Field(default_factory=GroupOutcomes)
    floor: FloorSummary | None = None


class ScenarioParams(BaseModel):
    """What the user asked (no case data), kept with the job."""

    # (care type, region, places, price per traject in cents or None)
    extra_places: list[tuple[str, str, int, int | None]] = Field(default_factory=list)
    ceiling_lifts: list[tuple[str, int]] = Field(default_factory=list)
    gemeenten_leave: list[str] = Field(default_factory=list)
    floor_dimension: str | None = None
    floor_percent: int | None = None
    # the region beheer chose (inkoop: always its own, so None)
    region: str | None = None

    @staticmethod
    def of(req: data.ScenarioRequest, region: str | None = None) -> ScenarioParams:
        return ScenarioParams(
            region=region,
            extra_places=[
                (e.care_type, e.region, e.places, e.price_cents) for e in req.extra_places
            ],
            ceiling_lifts=[(c.budget, c.amount_cents) for c in req.ceiling_lifts],
            gemeenten_leave=list(req.gemeenten_leave),
            floor_dimension=req.floor_dimension,
            floor_percent=req.floor_percent,
        )

    def request(self) -> data.ScenarioRequest:
        return data.ScenarioRequest(
            tuple(data.ExtraPlaces(c, r, n, p) for c, r, n, p in self.extra_places),
            tuple(data.CeilingLift(b, a) for b, a in self.ceiling_lifts),
            tuple(self.gemeenten_leave),
            self.floor_dimension,
            self.floor_percent,
        )


class AdviceParams(BaseModel):
    budget_cents: int
    max_places: int
    region: str | None = None


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
    # Set when the region has nothing to buy more of (then there are no rules).
    no_advice: str = ""


class JobContext(BaseModel):
    id: str
    label: str
    status: str
    step: str
    percent: int
    done: bool
    interrupted: bool = False
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
        groups=o.groups,
        floor=o.floor,
    )


def run(
    sessions: sessionmaker[Session],
    user: Principal,
    params: ScenarioParams,
    *,
    today: dt.date,
    progress: Progress,
) -> ScenarioResult:
    with sessions.begin() as session:
        outcome = data.run_scenario(
            session, user, params.request(), today=today, region=params.region, progress=progress
        )
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
        no_advice=o.no_advice,
    )


def run_advice(
    sessions: sessionmaker[Session],
    user: Principal,
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
            region=params.region,
            progress=progress,
        )
    return advice_of(outcome)


def validate_advice(
    budget: str, places: str, region: str | None = None
) -> tuple[AdviceParams | None, FormErrors]:
    errors = FormErrors()
    euro = whole_number(budget)
    if euro is None or not 0 < euro <= MAX_EURO:
        errors.add("budget", "Vul het budget in hele euro's in, bijvoorbeeld 1000000 of 1.000.000.")
    n = whole_number(places or "10")
    if n is None or not 1 <= n <= 50:
        errors.add("max_plekken", "Vul een heel getal in van 1 tot 50.")
    if errors or euro is None or n is None:
        return None, errors
    return AdviceParams(budget_cents=euro * 100, max_places=n, region=region), errors


def work_scenario(ctx: WorkContext) -> ScenarioResult:
    """The job's work (run in a worker): the scenario, from its stored parameters."""
    params = ScenarioParams.model_validate_json(ctx.params)
    return run(ctx.sessions, ctx.principal, params, today=ctx.today, progress=ctx.progress)


def work_advice(ctx: WorkContext) -> AdviceResult:
    params = AdviceParams.model_validate_json(ctx.params)
    return run_advice(ctx.sessions, ctx.principal, params, today=ctx.today, progress=ctx.progress)


def params_of(job: Job) -> ScenarioParams | AdviceParams:
    if job.kind is JobKind.INKOOP_ADVICE:
        return decode(AdviceParams, job.params) or AdviceParams(budget_cents=0, max_places=1)
    return decode(ScenarioParams, job.params) or ScenarioParams()


def readable(job: Job) -> bool:
    model = AdviceParams if job.kind is JobKind.INKOOP_ADVICE else ScenarioParams
    return decode(model, job.params) is not None


def job_context(job: Job) -> JobContext:
    result = advice_result = None
    error = "Er ging iets mis bij het rekenen. Probeer het opnieuw." if job.error else ""
    if job.status is JobStatus.DONE:
        if job.kind is JobKind.INKOOP_ADVICE:
            advice_result = decode(AdviceResult, job.result)
        else:
            result = decode(ScenarioResult, job.result)
        if result is None and advice_result is None:
            error = UNREADABLE
    return JobContext(
        id=job.id,
        label=job.label,
        status=job.status.value,
        step=job.step,
        percent=job.percent,
        done=job.done,
        interrupted=job.status is JobStatus.INTERRUPTED,
        error=error,
        params=params_of(job),
        result=result,
        advice=advice_result,
    )
