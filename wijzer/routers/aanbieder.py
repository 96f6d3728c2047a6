"""Aanbieder: a provider updates its own offerings; concurrent edits never get lost."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from services import aanbieder as use_case
from services.errors import AccessDenied, ConflictError, NotFound
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import DB_INT_MAX, DB_INT_MIN
from wijzer.mail import place_freed
from wijzer.rendering import render
from wijzer.settings import Settings
from wijzer.views import aanbieder as view
from wijzer.views.zoeken import attribute_options

ROLES = (Role.AANBIEDER, Role.BEHEER)
router = APIRouter(prefix="/aanbieder", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*ROLES))]
NOT_YOURS = "Dit aanbod bestaat niet of is niet van uw organisatie."
# Ids from a URL stay within the database's integer range (a larger one cannot exist).
OfferingId = Annotated[int, Path(ge=DB_INT_MIN, le=DB_INT_MAX)]


class SaveOutcome:
    """The result of one save: the new row, or the conflict with what is stored now."""

    def __init__(
        self, saved: view.OfferingRow | None = None, current: view.OfferingRow | None = None
    ) -> None:
        self.saved = saved
        self.current = current


def save(
    sessions: sessionmaker[Session],
    user: SessionUser,
    offering_id: int,
    version: int,
    changes: dict[str, object],
) -> SaveOutcome:
    """Write in its own transaction; a conflict rolls back and reports the stored state."""
    try:
        with sessions.begin() as session:
            saved = use_case.update_offering(session, user, offering_id, version, changes)
            return SaveOutcome(saved=view.row_of(saved))
    except ConflictError as exc:
        current = view.row_of(exc.current) if exc.current is not None else None
        return SaveOutcome(current=current)
    except (NotFound, AccessDenied) as exc:
        raise HTTPException(status_code=404, detail=NOT_YOURS) from exc


@router.get("", response_class=HTMLResponse)
def index(
    request: Request,
    user: User,
    db: DbSession,
    opgeslagen: Annotated[int | None, Query(ge=DB_INT_MIN, le=DB_INT_MAX)] = None,
    bevestigd: Annotated[int | None, Query(ge=0, le=DB_INT_MAX)] = None,
) -> Response:
    settings: Settings = request.app.state.settings
    ctx = view.list_own(
        db,
        user,
        stale_after_days=settings.stale_after_days,
        saved_id=opgeslagen,
        confirmed_count=bevestigd,
    )
    return render(request, "aanbieder/index.html", ctx, user=user)


ConfirmUser = Annotated[SessionUser, Depends(require_roles(Role.AANBIEDER))]


@router.post("/alles-klopt")
def confirm_all(request: Request, user: ConfirmUser) -> Response:
    """Alles klopt nog: every own offering is confirmed as it stands, in one action."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions.begin() as session:
        n = use_case.confirm_all(session, user)
    return RedirectResponse(f"/aanbieder?bevestigd={n}", status_code=303)


def _edit_page(
    request: Request, user: SessionUser, ctx: view.EditContext, status_code: int = 200
) -> Response:
    return render(
        request,
        "aanbieder/edit.html",
        ctx,
        user=user,
        status_code=status_code,
        extra={"attributes": attribute_options(), "release_rows": view.form_rows(ctx.form)},
    )


@router.get("/aanbod/{offering_id}", response_class=HTMLResponse)
def edit(request: Request, user: User, db: DbSession, offering_id: OfferingId) -> Response:
    row = view.own_offering(db, user, offering_id)
    if row is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    return _edit_page(request, user, view.EditContext(offering=row, form=view.form_of(row)))


@router.post("/aanbod/{offering_id}", response_class=HTMLResponse)
async def update(request: Request, user: User, offering_id: OfferingId) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as db:
        row = view.own_offering(db, user, offering_id)
    if row is None:
        raise HTTPException(status_code=404, detail=NOT_YOURS)
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    multi = [v for v in data.getlist("contra_indications") if isinstance(v, str)]
    form = view.parse_form(values, multi)
    settings: Settings = request.app.state.settings
    changes, version, errors = view.check_offering_form(form, today=settings.current_date())
    if changes is None or version is None:
        ctx = view.EditContext(offering=row, form=form, errors=errors)
        return _edit_page(request, user, ctx, status_code=422)
    outcome = save(sessions, user, offering_id, version, changes)
    if outcome.saved is not None:
        if row.places_free == 0 and outcome.saved.places_free > 0:
            place_freed(request, offering_id)
        return RedirectResponse(f"/aanbieder?opgeslagen={offering_id}", status_code=303)
    current = outcome.current or row
    # Keep what the user typed, but on top of the version now stored: saving again is
    # then a deliberate choice made after seeing the other change.
    form.version = str(current.version)
    ctx = view.EditContext(
        offering=current, form=form, conflict=True, conflict_message=view.CONFLICT_MESSAGE
    )
    return _edit_page(request, user, ctx, status_code=409)
