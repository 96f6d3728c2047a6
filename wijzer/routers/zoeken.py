"""Zoeken (verwijzer): search help that can really start before the child's deadline."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from wijzer.auth import Role, SessionUser, require_roles
from wijzer.rendering import render
from wijzer.settings import Settings
from wijzer.views import zoeken as view

T = TypeVar("T")
ROLES = (Role.VERWIJZER, Role.TAFEL, Role.BEHEER)
router = APIRouter(prefix="/zoeken", include_in_schema=False)
_ALLOWED = require_roles(*ROLES)


async def in_search_lane(request: Request, work: Callable[[Request], T]) -> T:
    """Run a search (`work`: role check, database, page) in this process's search lane:
    `WIJZER_SEARCH_CONCURRENCY` threads, default two, taken in turn.

    A search is processor work under one interpreter lock. Run side by side in many
    threads, every search finishes later and the switching costs time of its own;
    each thread hand-off (a dependency, then the route) costs more. So the whole search
    runs in one hand-off, in turn, and the event loop stays free for other requests.
    Under 20 users without a pause this gave 145 instead of 108 searches a second
    (`benchmarks/RESULTS.md`, s26). Two at a time rather than one: a search also waits
    for the database and for the event loop to send its page, and the second uses
    those waits (s35, p95 on average: PostgreSQL 92 against 103 ms, SQLite 75 against
    79 ms)."""
    state = request.app.state
    lane = getattr(state, "search_lane", None)
    if lane is None:  # made in the event loop, which is where the limiter belongs
        lane = state.search_lane = anyio.CapacityLimiter(state.settings.search_concurrency)
    return await anyio.to_thread.run_sync(work, request, limiter=lane)


def build_context(
    request: Request, user: SessionUser, *, for_page: bool = True
) -> view.SearchContext:
    """The one context object of the search, for the page and the API alike. For the
    page (`for_page`), no parameters give an empty form and the offerings that do not
    fit are listed nearest first up to `view.NON_FITTING_SHOWN`; the API checks the
    parameters and lists them all."""
    settings: Settings = request.app.state.settings
    params = request.query_params
    form = view.parse_form(params, {"kenmerken": params.getlist("kenmerken")})
    today = settings.current_date()
    if not params and for_page:
        return view.SearchContext(
            form=form, today=today, stale_after_days=settings.stale_after_days
        )
    with request.app.state.sessions() as db:
        return view.search(
            db,
            user,
            form,
            today=today,
            stale_after_days=settings.stale_after_days,
            cache=request.app.state.search_cache,
            forecast_rows=settings.search_forecast_rows,
            limit_non_fitting=for_page,
        )


@router.get("", response_class=HTMLResponse)
async def page(request: Request) -> HTMLResponse:
    return await in_search_lane(request, _page)


def _page(request: Request) -> HTMLResponse:
    user = _ALLOWED(request)
    ctx = build_context(request, user)
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
