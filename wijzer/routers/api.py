"""The JSON API under /api/v1: each endpoint returns the context object its page renders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from wijzer.auth import Principal, Role, require_roles
from wijzer.db import DbSession
from wijzer.routers import zoeken
from wijzer.views import zoeken as zoeken_view

router = APIRouter(prefix="/api/v1", tags=["api"])


class Me(BaseModel):
    username: str
    role: str
    organisation_id: int | None
    organisation_name: str | None
    region_code: str | None
    provider_id: int | None


@router.get("/ik", response_model=Me, summary="Het account van deze sessie")
def me(user: Annotated[Principal, Depends(require_roles(*Role))]) -> Me:
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
)
def search(
    request: Request,
    user: Annotated[Principal, Depends(require_roles(*zoeken.ROLES))],
    db: DbSession,
    zorgvorm: str = "",
    leeftijd: str = "",
    gemeente: str = "",
    kenmerken: Annotated[list[str] | None, Query()] = None,
    route: zoeken_view.Route = zoeken_view.Route.MAIN_CONTRACTOR,
    regio: zoeken_view.Area = zoeken_view.Area.IN_REGION,
    uitspraak: str = "",
    deadline: str = "",
    ook_niet_passend: bool = False,
) -> Response:
    ctx = zoeken.build_context(request, user, db)
    return JSONResponse(ctx.model_dump(mode="json"), status_code=422 if ctx.errors else 200)
