"""Zoeken (verwijzer): search help that can really start before the child's deadline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.rendering import render
from wijzer.settings import Settings
from wijzer.views import zoeken as view

ROLES = (Role.VERWIJZER, Role.TAFEL, Role.BEHEER)
router = APIRouter(prefix="/zoeken", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*ROLES))]


def build_context(
    request: Request, user: SessionUser, db: DbSession, *, empty_form: bool = True
) -> view.SearchContext:
    """The one context object of the search, for the page and the API alike. Without
    parameters the page shows an empty form (`empty_form`); the API checks them."""
    settings: Settings = request.app.state.settings
    params = request.query_params
    form = view.parse_form(params, {"kenmerken": params.getlist("kenmerken")})
    today = settings.current_date()
    if not params and empty_form:
        return view.SearchContext(
            form=form, today=today, stale_after_days=settings.stale_after_days
        )
    return view.search(
        db,
        user,
        form,
        today=today,
        stale_after_days=settings.stale_after_days,
        cache=request.app.state.search_cache,
        forecast_rows=settings.search_forecast_rows,
    )


@router.get("", response_class=HTMLResponse)
def page(request: Request, user: User, db: DbSession) -> HTMLResponse:
    ctx = build_context(request, user, db)
    return render(
        request,
        "zoeken/index.html",
        ctx,
        user=user,
        status_code=422 if ctx.errors else 200,
        extra={
            "care_types": view.care_type_options(),
            "gemeenten": view.gemeente_options(),
            "attributes": view.attribute_options(),
            "query_string": str(request.query_params),
        },
    )
