"""Inkoop: who waits (aggregates) and scenarios with the matching, aggregates only.

Two routers: the HTML pages under /inkoop (out of the schema) and the JSON API
under /api/v1/inkoop (in the schema). A scenario runs as a background job on the
app's job runner, the same one the Tafel page uses; the stored job keeps only the
suppressed aggregates the data layer returned. Which jobs inkoop sees (its own
region's scenarios and advice, never a table's runs) is the data layer's rule.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    StringConstraints,
)
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from matcher.domain import CareType
from providers import reference
from services import exports
from services import what_if as data
from services.errors import AccessDenied
from services.frames import advice_totals_frame, scenario_totals_frame, to_frame
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import NO_NUL, json_whole_number
from wijzer.jobs import UNREADABLE, Job, JobKind, JobQuotaExceeded, JobRunner, JobStatus, Work
from wijzer.rendering import Sheet, accepted, download, render
from wijzer.settings import Settings
from wijzer.views import inkoop as view
from wijzer.views import inkoop_scenario as sview

ROLES = (Role.INKOOP, Role.BEHEER)
router = APIRouter(prefix="/inkoop", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*ROLES))]
NOT_FOUND = "Deze berekening bestaat niet (meer) of is niet van uw regio."
JOB_ID = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]+$", max_length=64)]


def _jobs(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


KINDS = (JobKind.INKOOP_SCENARIO, JobKind.INKOOP_ADVICE)


def own_scenario(request: Request, user: SessionUser, job_id: str) -> Job:
    """A scenario or advice job the user may see. Other jobs (a table's matching,
    with rows per child) get the same answer as "not found"."""
    job = _jobs(request).get(user, job_id, KINDS)
    if job is None:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return job


def submit(
    request: Request, user: SessionUser, kind: JobKind, name: str, params: BaseModel, work: Work
) -> Job:
    """Start a job, or answer 429 with what to do when the user's quota is full."""
    settings: Settings = request.app.state.settings
    try:
        return _jobs(request).submit(user, kind, name, params, work, today=settings.current_date())
    except JobQuotaExceeded as exc:
        raise HTTPException(status_code=429, detail=exc.user_message) from exc


UNKNOWN_REGION = "Deze regio bestaat niet. Kies een regio uit de lijst."
REGIO_HELP = (
    "Voor beheer: de regio waarvoor u rekent (zonder keuze: de eerste regio op code). "
    "Inkoop rekent altijd voor de eigen regio; een andere regio geeft 403."
)
Regio = Annotated[
    str | None,
    Query(
        max_length=60,
        pattern=NO_NUL,
        description=REGIO_HELP,
        json_schema_extra={"enum": list(data.region_codes())},
    ),
]


def _region(user: SessionUser, regio: str | None, *, api: bool = False) -> str | None:
    """The region beheer chose (None: inkoop's own or beheer's default); unknown: 422,
    in the API in the validation error's shape (the field and its message)."""
    if not regio:
        return None
    if regio not in data.region_codes():
        if api:
            raise RequestValidationError(
                [{"loc": ("query", "regio"), "msg": UNKNOWN_REGION, "type": "enum"}]
            )
        raise HTTPException(status_code=422, detail=UNKNOWN_REGION)
    return regio


def _options(
    db: Session, request: Request, user: SessionUser, regio: str | None = None
) -> data.RegionOptions:
    settings: Settings = request.app.state.settings
    try:
        return data.scenario_options(db, user, today=settings.current_date(), region=regio)
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=exc.user_message) from exc


def _job_region(user: SessionUser, opts: data.RegionOptions) -> str | None:
    """Kept with beheer's job: the region it chose. Inkoop's job needs none (its own)."""
    return opts.region if user.role is Role.BEHEER else None


def _choices(user: SessionUser) -> list[sview.Option]:
    if user.role is not Role.BEHEER:
        return []
    return sview.region_choices(data.region_codes())


def start_scenario(request: Request, user: SessionUser, params: sview.ScenarioParams) -> Job:
    changes = len(params.extra_places) + len(params.ceiling_lifts) + len(params.gemeenten_leave)
    name = f"Inkoopscenario met {changes} wijziging{'en' if changes != 1 else ''}"
    return submit(request, user, JobKind.INKOOP_SCENARIO, name, params, sview.work_scenario)


def _page(
    request: Request,
    user: SessionUser,
    db: Session,
    form_ctx: sview.FormContext,
    status_code: int = 200,
) -> HTMLResponse:
    scenarios = [sview.job_context(j) for j in _jobs(request).listing(user, KINDS, limit=10)]
    return render(
        request,
        "inkoop/index.html",
        view.overview(db, user),
        user=user,
        status_code=status_code,
        extra={"scenario": form_ctx, "errors": form_ctx.errors, "scenarios": scenarios},
    )


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: User, db: DbSession, regio: Regio = None) -> HTMLResponse:
    opts = _options(db, request, user, _region(user, regio))
    db.commit()
    return _page(request, user, db, sview.form_context(opts, choices=_choices(user)))


@router.post("/scenario", response_class=HTMLResponse)
async def new_scenario(request: Request, user: User, db: DbSession) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    leave = [g for g in form.getlist("uitstappen") if isinstance(g, str)]
    opts = _options(db, request, user, _region(user, values.get("regio")))
    raw = sview.read_form(values, leave, opts)
    req, errors = sview.check_scenario_form(raw, opts)
    if req is None:
        db.commit()
        ctx = sview.form_context(opts, raw, errors, choices=_choices(user))
        return _page(request, user, db, ctx, status_code=422)
    params = sview.ScenarioParams.of(req, region=_job_region(user, opts))
    job = await run_in_threadpool(start_scenario, request, user, params)
    return RedirectResponse(f"/inkoop/scenario/{job.id}", status_code=303)


def start_advice(request: Request, user: SessionUser, params: sview.AdviceParams) -> Job:
    euro = f"{params.budget_cents // 100:,}".replace(",", ".")
    name = f"Inkoopadvies voor € {euro}"
    return submit(request, user, JobKind.INKOOP_ADVICE, name, params, sview.work_advice)


@router.post("/advies", response_class=HTMLResponse)
async def new_advice(request: Request, user: User, db: DbSession) -> Response:
    form = await request.form()
    budget, places = str(form.get("budget", "")), str(form.get("max_plekken", ""))
    opts = _options(db, request, user, _region(user, str(form.get("regio", "")) or None))
    db.commit()
    params, errors = sview.validate_advice(budget, places, _job_region(user, opts))
    if params is None:
        ctx = sview.form_context(opts, errors=errors, choices=_choices(user))
        ctx.advice_budget, ctx.advice_places = budget, places
        return _page(request, user, db, ctx, status_code=422)
    job = await run_in_threadpool(start_advice, request, user, params)
    return RedirectResponse(f"/inkoop/scenario/{job.id}", status_code=303)


@router.get("/scenario/{job_id}", response_class=HTMLResponse)
def scenario_page(request: Request, user: User, job_id: JOB_ID) -> Response:
    ctx = sview.job_context(own_scenario(request, user, job_id))
    return render(request, "inkoop/scenario.html", ctx, user=user)


@router.post("/scenario/{job_id}/herstart")
def restart(request: Request, user: User, job_id: JOB_ID) -> Response:
    """Start an interrupted or failed job again with the same parameters."""
    job = own_scenario(request, user, job_id)
    if job.status not in (JobStatus.INTERRUPTED, JobStatus.FAILED):
        raise HTTPException(status_code=409, detail="Deze berekening loopt nog of is al klaar.")
    if not sview.readable(job):
        raise HTTPException(status_code=409, detail=UNREADABLE)
    params = sview.params_of(job)
    work: Work = sview.work_advice if job.kind is JobKind.INKOOP_ADVICE else sview.work_scenario
    new = submit(request, user, job.kind, job.label, params, work)
    return RedirectResponse(f"/inkoop/scenario/{new.id}", status_code=303)


@router.get("/scenario/{job_id}/totalen.{fmt}")
def export(request: Request, user: User, db: DbSession, job_id: JOB_ID, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(status_code=404, detail="Kies csv of xlsx.")
    ctx = sview.job_context(own_scenario(request, user, job_id))
    sheets: dict[str, Sheet] = {}
    if ctx.result is not None:
        sheets["totalen"] = exports.frame_sheet(scenario_totals_frame(ctx.result))
        sheets["uitkomst_per_groep"] = exports.frame_sheet(to_frame(ctx.result.groups))
    elif ctx.advice is not None:
        sheets["totalen"] = exports.frame_sheet(advice_totals_frame(ctx.advice))
    else:
        raise HTTPException(status_code=409, detail="Deze berekening is nog niet klaar.")
    # Aggregates only: the export is logged without refs.
    sheets = exports.export(db, user, exports.ExportKind.INKOOP_SCENARIO, fmt, sheets)
    db.commit()
    return download(f"inkoopscenario-{job_id}.{fmt}", fmt, sheets)


# ------------------------------------------------------------------------- JSON API


class ErrorDetail(BaseModel):
    detail: str


api_router = APIRouter(
    prefix="/api/v1/inkoop",
    tags=["api"],
    responses={
        400: {"model": ErrorDetail, "description": "De invoer is geen leesbare tekst (UTF-8)"},
        401: {"model": ErrorDetail, "description": "Niet ingelogd"},
        403: {"model": ErrorDetail, "description": "Geen toegang met deze rol, of CSRF-token mist"},
    },
)

BUSY = "Al te veel berekeningen die wachten of bezig zijn"
Code = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NO_NUL)]


# A JSON integer may be written 5.0; booleans and text stay refused (strict).
Whole = BeforeValidator(json_whole_number)


def _one_of(values: list[str]) -> Any:
    enum: list[JsonValue] = list(values)
    return Field(json_schema_extra={"enum": enum})


CareTypeCode = Annotated[Code, _one_of(sorted(c.value for c in CareType))]
RegionCode = Annotated[Code, _one_of(sorted(reference.jeugdregios()))]
GemeenteCode = Annotated[Code, _one_of(sorted(reference.gemeenten()))]


class ExtraPlacesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    care_type: CareTypeCode
    region: RegionCode
    places: Annotated[int, Whole] = Field(strict=True, ge=1, le=sview.MAX_PLACES)
    # the bounds sit on the number itself (before the JSON-number check, so that the
    # schema states them as minimum and maximum) for a price that is given
    price_euro: Annotated[int, Strict(), Ge(1), Le(sview.MAX_EURO), Whole] | None = Field(
        default=None,
        description="Prijs per traject; alleen voor een hulpvorm die de regio nog niet inkoopt",
    )


class CeilingLiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget: Code
    amount_euro: Annotated[int, Whole] = Field(strict=True, ge=1, le=sview.MAX_EURO)


def _some(field: str) -> dict[str, Any]:
    return {"required": [field], "properties": {field: {"minItems": 1}}}


class ScenarioIn(BaseModel):
    """The changes to compute; at least one. Which care types, regions, budgets and
    gemeenten fit depends on the user's region: GET /api/v1/inkoop/scenario-opties
    lists them, and any other answers 422."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [_some("extra_places"), _some("ceiling_lifts"), _some("gemeenten_leave")]
        },
    )

    extra_places: list[ExtraPlacesIn] = Field(default_factory=list, max_length=20)
    ceiling_lifts: list[CeilingLiftIn] = Field(default_factory=list, max_length=50)
    gemeenten_leave: list[GemeenteCode] = Field(default_factory=list, max_length=50)


class PlaceableOut(BaseModel):
    """A care type and region where extra places can go (a purchased offering there)."""

    care_type: str
    region: str


class OptionsOut(BaseModel):
    region: str
    care_types: list[sview.Option] = Field(description="Hulpvormen die de regio inkoopt")
    new_care_types: list[sview.Option] = Field(
        description="Hulpvormen die de regio nog niet inkoopt: als nieuwe inkoop, met price_euro"
    )
    regions: list[sview.Option]
    gemeenten: list[sview.Option]
    budgets: list[sview.CeilingRow]
    placeable: list[PlaceableOut] = []
    choosable_regions: list[str] = Field(
        default_factory=list,
        description="Regio's die u met de parameter regio kunt kiezen (inkoop: de eigen)",
    )


@api_router.get(
    "/scenario-opties",
    response_model=OptionsOut,
    summary="Wat een inkoopscenario kan veranderen: hulpvormen, regio's, budgetten, gemeenten",
)
def api_options(request: Request, user: User, db: DbSession, regio: Regio = None) -> OptionsOut:
    opts = _options(db, request, user, _region(user, regio, api=True))
    db.commit()
    ctx = sview.form_context(opts)
    return OptionsOut(
        region=ctx.region,
        care_types=ctx.care_types,
        new_care_types=ctx.new_care_types,
        regions=ctx.regions,
        gemeenten=ctx.gemeenten,
        budgets=ctx.form.ceilings,
        placeable=[PlaceableOut(care_type=c, region=r) for c, r in opts.placeable],
        choosable_regions=[o.value for o in _choices(user)] or [opts.region],
    )


@api_router.post(
    "/scenarios",
    response_model=sview.JobContext,
    status_code=202,
    summary="Start een inkoopscenario als achtergrondtaak (uitkomst: alleen totalen)",
    responses={
        422: {"description": "Fouten in het scenario, per veld (loc, msg, type)"},
        429: {"model": ErrorDetail, "description": BUSY},
    },
)
def api_start(
    request: Request, user: User, db: DbSession, body: ScenarioIn, regio: Regio = None
) -> Response:
    req = data.ScenarioRequest(
        tuple(
            data.ExtraPlaces(
                e.care_type,
                e.region,
                e.places,
                None if e.price_euro is None else e.price_euro * 100,
            )
            for e in body.extra_places
        ),
        tuple(data.CeilingLift(c.budget, c.amount_euro * 100) for c in body.ceiling_lifts),
        tuple(sorted(set(body.gemeenten_leave))),
    )
    opts = _options(db, request, user, _region(user, regio, api=True))
    issues: dict[str, str] = {}
    if req.empty:
        issues["scenario"] = "Kies minstens één wijziging."
    api_field = {"zorgvorm": "care_type", "regio": "region", "prijs": "price_euro"}
    for i, e in enumerate(req.extra_places):
        problem = sview.place_issue(e.care_type, e.region, e.price_cents, opts)
        if problem is not None:
            issues[f"extra_places.{i}.{api_field[problem[0]]}"] = problem[1]
    budgets = {b for b, _ in opts.budgets}
    for i, c in enumerate(req.ceiling_lifts):
        if c.budget not in budgets:
            issues[f"ceiling_lifts.{i}.budget"] = "Dit budget bestaat niet in uw regio."
    if any(g not in opts.gemeenten for g in req.gemeenten_leave):
        issues["gemeenten_leave"] = "Deze gemeente doet niet mee aan de inkoop van uw regio."
    db.commit()
    if issues:
        detail = [
            {
                "loc": ["body", *(int(p) if p.isdigit() else p for p in name.split("."))],
                "msg": message,
                "type": "value_error",
            }
            for name, message in issues.items()
        ]
        return JSONResponse({"detail": detail}, status_code=422)
    job = start_scenario(request, user, sview.ScenarioParams.of(req, _job_region(user, opts)))
    return accepted(sview.job_context(job), f"/api/v1/inkoop/scenarios/{job.id}")


class AdviceIn(BaseModel):
    """A budget in whole euros and the most places to buy per care type."""

    model_config = ConfigDict(extra="forbid")

    budget_euro: Annotated[int, Whole] = Field(strict=True, ge=1, le=sview.MAX_EURO)
    max_places: Annotated[int, Whole] = Field(default=10, strict=True, ge=1, le=50)


@api_router.post(
    "/advies",
    response_model=sview.JobContext,
    status_code=202,
    summary="Start een inkoopadvies (meeste kinderen binnen de norm per euro) als achtergrondtaak",
    responses={
        422: {"description": "Fouten in de invoer (loc, msg, type)"},
        429: {"model": ErrorDetail, "description": BUSY},
    },
)
def api_advice(
    request: Request, user: User, db: DbSession, body: AdviceIn, regio: Regio = None
) -> Response:
    opts = _options(db, request, user, _region(user, regio, api=True))
    db.commit()
    params = sview.AdviceParams(
        budget_cents=body.budget_euro * 100,
        max_places=body.max_places,
        region=_job_region(user, opts),
    )
    job = start_advice(request, user, params)
    return accepted(sview.job_context(job), f"/api/v1/inkoop/scenarios/{job.id}")


@api_router.get(
    "/scenarios/{job_id}",
    response_model=sview.JobContext,
    summary="Voortgang en uitkomst van een inkoopscenario (alleen totalen)",
    responses={404: {"model": ErrorDetail, "description": "Geen scenario van uw regio"}},
)
def api_scenario(request: Request, user: User, job_id: JOB_ID) -> Response:
    ctx = sview.job_context(own_scenario(request, user, job_id))
    return JSONResponse(ctx.model_dump(mode="json"))
