"""The JSON API under /api/v1: each endpoint returns the context object its page renders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from services import matching
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import DB_INT_MAX, DB_INT_MIN, NO_NUL, json_whole_number
from wijzer.rendering import accepted
from wijzer.routers import aanbieder, inkoop, rapportage, tafel, zoeken
from wijzer.views import aanbieder as aanbieder_view
from wijzer.views import inkoop as inkoop_view
from wijzer.views import rapportage as rapportage_view
from wijzer.views import tafel as tafel_view
from wijzer.views import zoeken as zoeken_view


class ErrorDetail(BaseModel):
    """Every error answer of the API: `message` is B1 Dutch for the person at the screen;
    `detail` is the same text (or, for 422, the list of problems per field)."""

    detail: str
    message: str


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message, "message": message}, status_code=status)


# A body that is not UTF-8 cannot be read (400); every endpoint needs a session (401)
# and a role that may use it (403, also for a missing CSRF token on a state-changing
# call). Documented so clients and the schema tests know every answer.
router = APIRouter(
    prefix="/api/v1",
    tags=["api"],
    responses={
        400: {"model": ErrorDetail, "description": "De invoer is geen leesbare tekst (UTF-8)"},
        401: {"model": ErrorDetail, "description": "Niet ingelogd"},
        403: {"model": ErrorDetail, "description": "Geen toegang met deze rol, of CSRF-token mist"},
    },
)


class Me(BaseModel):
    username: str
    role: str
    organisation_id: int | None
    organisation_name: str | None
    region_code: str | None
    provider_id: int | None


@router.get("/ik", response_model=Me, summary="Het account van deze sessie")
def me(user: Annotated[SessionUser, Depends(require_roles(*Role))]) -> Me:
    return Me(
        username=user.username,
        role=user.role.value,
        organisation_id=user.organisation_id,
        organisation_name=user.organisation_name,
        region_code=user.region_code,
        provider_id=user.provider_id,
    )


@router.get(
    "/zoeken",
    response_model=zoeken_view.SearchContext,
    summary="Zoeken naar hulp (dezelfde gegevens als de pagina /zoeken)",
    responses={422: {"description": "Fouten in de zoekvraag, per veld"}},
    openapi_extra={"parameters": zoeken_view.search_parameters()},
)
async def search(
    request: Request,
    user: Annotated[SessionUser, Depends(require_roles(*zoeken.ROLES))],
    route: zoeken_view.Route = zoeken_view.Route.MAIN_CONTRACTOR,
    regio: zoeken_view.Area = zoeken_view.Area.IN_REGION,
    ook_niet_passend: bool = False,
) -> Response:
    # The other parameters are read by the page's own parser (one set of Dutch
    # messages); the schema lists them with exactly the values it accepts. Unlike
    # the page, which shows an empty form, the API answers a question without the
    # required parameters with 422.
    def answer(request: Request) -> JSONResponse:
        ctx = zoeken.build_context(request, user, for_page=False)
        return JSONResponse(ctx.model_dump(mode="json"), status_code=422 if ctx.errors else 200)

    return await zoeken.in_search_lane(request, answer)


AanbiederUser = Annotated[SessionUser, Depends(require_roles(*aanbieder.ROLES))]


@router.get(
    "/aanbod",
    response_model=aanbieder_view.OfferingList,
    summary="Het aanbod dat u mag wijzigen",
)
def own_offerings(request: Request, user: AanbiederUser, db: DbSession) -> Response:
    ctx = aanbieder_view.list_own(
        db, user, stale_after_days=request.app.state.settings.stale_after_days
    )
    return JSONResponse(ctx.model_dump(mode="json"))


def _whole(lo: int, hi: int) -> Any:
    """A whole number from `lo` to `hi` in the schema. The model itself only keeps
    it within the database's range (strict: a JSON `false` or `"5"` is refused,
    not read as 0 or 5); the form's own check refuses the rest with a Dutch
    message per field, as on the page."""
    return Field(
        strict=True,
        ge=DB_INT_MIN,
        le=DB_INT_MAX,
        json_schema_extra={"minimum": lo, "maximum": hi},
    )


# After the Field: before it, pydantic writes `ge`/`le` into the schema, not minimum/maximum.
Whole = BeforeValidator(json_whole_number)


class OfferingUpdate(BaseModel):
    """New figures for one offering, with the version they were based on. The ranges
    are those of the provider's form; `age_min` may not be above `age_max`."""

    model_config = ConfigDict(extra="forbid")

    # At most 2**53 - 1, the largest integer every JSON client reads exactly.
    version: Annotated[int, Field(strict=True, ge=0, le=DB_INT_MAX), Whole]
    places_free: Annotated[int, _whole(0, aanbieder_view.MAX_PLACES), Whole]
    release_per_week: Annotated[
        float,
        Field(
            strict=True,
            allow_inf_nan=False,
            json_schema_extra={"minimum": 0, "maximum": aanbieder_view.MAX_RELEASE_PER_WEEK},
        ),
    ]
    expected_wait_days: Annotated[int, _whole(0, aanbieder_view.MAX_DAYS), Whole]
    intake_days: Annotated[int, _whole(0, aanbieder_view.MAX_DAYS), Whole]
    intake_stop: bool
    lvb_expertise: bool
    age_min: Annotated[int, _whole(0, aanbieder_view.MAX_AGE), Whole]
    age_max: Annotated[int, _whole(0, aanbieder_view.MAX_AGE), Whole]
    contra_indications: list[
        Annotated[
            str,
            Field(json_schema_extra={"enum": [c for c, _ in zoeken_view.attribute_options()]}),
        ]
    ] = []


class Conflict(BaseModel):
    detail: str
    message: str
    current: aanbieder_view.OfferingRow


@router.put(
    "/aanbod/{offering_id}",
    response_model=aanbieder_view.OfferingRow,
    summary="Aanbod bijwerken (alleen als niemand het intussen wijzigde)",
    responses={
        409: {"model": Conflict, "description": "Iemand anders wijzigde het aanbod intussen"},
        422: {"description": "Fouten in de invoer, per veld"},
        404: {"description": "Aanbod bestaat niet of is niet van u"},
    },
)
def update_offering(
    request: Request,
    user: AanbiederUser,
    offering_id: Annotated[int, Path(ge=DB_INT_MIN, le=DB_INT_MAX)],
    body: OfferingUpdate,
) -> Response:
    form = aanbieder_view.OfferingForm(
        version=str(body.version),
        places_free=str(body.places_free),
        # Fixed-point text: the form's parser takes no exponent beyond 3 digits.
        release_per_week=f"{body.release_per_week:.6f}",
        expected_wait_days=str(body.expected_wait_days),
        intake_days=str(body.intake_days),
        intake_stop=body.intake_stop,
        lvb_expertise=body.lvb_expertise,
        age_min=str(body.age_min),
        age_max=str(body.age_max),
        contra_indications=body.contra_indications,
    )
    changes, version, errors = aanbieder_view.check_offering_form(form)
    if changes is None or version is None:
        message = "Niet alle gegevens kloppen. Bekijk de fouten per veld."
        return JSONResponse({"errors": errors.model_dump(), "message": message}, status_code=422)
    outcome = aanbieder.save(request.app.state.sessions, user, offering_id, version, changes)
    if outcome.saved is not None:
        return JSONResponse(outcome.saved.model_dump(mode="json"))
    assert outcome.current is not None
    conflict = Conflict(
        detail=aanbieder_view.CONFLICT_MESSAGE,
        message=aanbieder_view.CONFLICT_MESSAGE,
        current=outcome.current,
    )
    return JSONResponse(conflict.model_dump(mode="json"), status_code=409)


InkoopUser = Annotated[SessionUser, Depends(require_roles(*inkoop.ROLES))]
TafelUser = Annotated[SessionUser, Depends(require_roles(*tafel.ROLES))]


@router.get(
    "/inkoop/wachtenden",
    response_model=inkoop_view.InkoopContext,
    summary="Wachtenden per hulpvorm en per gemeente (aantallen onder 5 verborgen)",
)
def inkoop_overview(user: InkoopUser, db: DbSession) -> Response:
    return JSONResponse(inkoop_view.overview(db, user).model_dump(mode="json"))


JOB_ID_PATTERN = r"^[A-Za-z0-9_-]+$"


Ref = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL)]


class RunRequest(BaseModel):
    """Which children of the table's waiting list to match (pseudonymous refs); refs
    that are not on the list are left out."""

    model_config = ConfigDict(extra="forbid")

    # The count is checked by the route, with the same Dutch message as the page.
    refs: list[Ref] = Field(json_schema_extra={"minItems": 1, "maxItems": tafel.MAX_CHILDREN})
    name: Annotated[str, StringConstraints(max_length=120, pattern=NO_NUL)] | None = Field(
        default=None, description='De naam van de berekening; leeg: "Run <datum tijd>"'
    )


@router.post(
    "/tafel/runs",
    response_model=tafel_view.RunContext,
    status_code=202,
    summary="Start een matching als achtergrondtaak",
    responses={
        422: {"description": "Geen of te veel kinderen gekozen"},
        429: {"model": ErrorDetail, "description": inkoop.BUSY},
    },
)
def start_table_run(request: Request, user: TafelUser, body: RunRequest) -> Response:
    if not body.refs or len(body.refs) > tafel.MAX_CHILDREN:
        return error(422, f"Kies 1 tot {tafel.MAX_CHILDREN} kinderen om te matchen.")
    params = matching.RunParams(refs=body.refs)
    job = tafel.start_run(request, user, params, body.name)
    return accepted(tafel_view.run_context(job), f"/api/v1/tafel/runs/{job.id}")


@router.get(
    "/tafel/runs/{job_id}",
    response_model=tafel_view.RunContext,
    summary="Voortgang en uitkomst van een matching",
    responses={404: {"description": "Bestaat niet of is niet van uw regio"}},
)
def table_run(
    request: Request,
    user: TafelUser,
    job_id: Annotated[str, Path(pattern=JOB_ID_PATTERN, max_length=64)],
) -> Response:
    job = tafel.own_job(request, user, job_id)
    return JSONResponse(tafel_view.run_context(job).model_dump(mode="json"))


class Choice(BaseModel):
    """A placed row of the earlier run: the child (pseudonymous ref) and its need."""

    model_config = ConfigDict(extra="forbid")

    child_ref: Ref
    need_id: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NO_NUL)]


class RerunRequest(BaseModel):
    """Pin (keep) or forbid placements of the earlier run, then match again."""

    model_config = ConfigDict(extra="forbid")

    vastzetten: list[Choice] = Field(default_factory=list, max_length=600)
    uitsluiten: list[Choice] = Field(default_factory=list, max_length=600)


@router.post(
    "/tafel/runs/{job_id}/opnieuw",
    response_model=tafel_view.RunContext,
    status_code=202,
    summary="Opnieuw matchen met vastgezette of uitgesloten plaatsingen",
    responses={
        404: {"description": "Bestaat niet of is niet van uw regio"},
        409: {"model": ErrorDetail, "description": "De eerdere berekening is nog niet klaar"},
        429: {"model": ErrorDetail, "description": inkoop.BUSY},
    },
)
def rerun_table_run(
    request: Request,
    user: TafelUser,
    job_id: Annotated[str, Path(pattern=JOB_ID_PATTERN, max_length=64)],
    body: RerunRequest,
) -> Response:
    parent = tafel_view.run_context(tafel.own_job(request, user, job_id))
    if parent.outcome is None:
        return error(409, "Deze berekening is nog niet klaar.")
    params, _ = matching.rerun_params(
        parent.id,
        parent.params,
        parent.outcome,
        [f"{c.child_ref}|{c.need_id}" for c in body.vastzetten],
        [f"{c.child_ref}|{c.need_id}" for c in body.uitsluiten],
    )
    job = tafel.start_run(request, user, params, f"{parent.name} (opnieuw)")
    return accepted(tafel_view.run_context(job), f"/api/v1/tafel/runs/{job.id}")


@router.get(
    "/tafel/vergelijk",
    response_model=tafel_view.CompareContext,
    summary="Twee matchings naast elkaar",
    responses={404: {"description": "Bestaat niet of is niet van uw regio"}},
)
def compare_table_runs(
    request: Request,
    user: TafelUser,
    a: Annotated[str, Query(pattern=JOB_ID_PATTERN, max_length=64)],
    b: Annotated[str, Query(pattern=JOB_ID_PATTERN, max_length=64)],
) -> Response:
    ctx = tafel_view.compare(
        tafel_view.run_context(tafel.own_job(request, user, a)),
        tafel_view.run_context(tafel.own_job(request, user, b)),
    )
    return JSONResponse(ctx.model_dump(mode="json"))


RapportageUser = Annotated[SessionUser, Depends(require_roles(*rapportage.EXPORT_ROLES))]


@router.get(
    "/rapportage/uitvraag",
    response_model=rapportage_view.ReportContext,
    summary="De uniforme uitvraag: momentopname, per gemeente en GI, voorraad en stroom per maand",
)
def uitvraag(request: Request, user: RapportageUser) -> Response:
    ctx = rapportage.build(request, user)
    assert ctx is not None  # inkoop does not pass the role check
    return JSONResponse(ctx.model_dump(mode="json"))
