"""Where an organisation's meldingen go by e-mail: beheer sets it for every
organisation, an aanbieder for its own.  Both go through one use case
(`services.notify.set_organisation_address`); the data layer checks the role again
and writes the audit entry."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from providers import reference
from services import notify
from services.errors import NotFound
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.forms import DB_INT_MAX, FormErrors
from wijzer.rendering import render
from wijzer.views.beheer import KIND_LABELS

router = APIRouter(include_in_schema=False)
Beheer = Annotated[SessionUser, Depends(require_roles(Role.BEHEER))]
Aanbieder = Annotated[SessionUser, Depends(require_roles(Role.AANBIEDER))]
OrganisationId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
Saved = Annotated[int | None, Query(ge=1, le=DB_INT_MAX)]
log = logging.getLogger("wijzer.beheer")


def _rows(db: Session, user: SessionUser) -> list[dict[str, Any]]:
    regions = reference.jeugdregios()
    return [
        {
            "id": o.id,
            "name": o.name,
            "kind": KIND_LABELS.get(o.kind, "Onbekend"),
            "region": regions[o.region_code].name if o.region_code in regions else "",
            "email": o.email or "",
        }
        for o in notify.organisation_addresses(db, user)
    ]


def _page(
    request: Request,
    user: SessionUser,
    *,
    own: bool,
    saved: int | None = None,
    errors: FormErrors | None = None,
    typed: tuple[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as db:
        rows = _rows(db, user)
    if typed is not None:  # show what was typed, beside its error
        for r in rows:
            if r["id"] == typed[0]:
                r["email"] = typed[1]
    ctx = {
        "own": own,
        "rows": rows,
        "saved": next((r["name"] for r in rows if r["id"] == saved), None),
        "errors": errors or FormErrors(),
        "action": "/aanbieder/organisatie/email" if own else "/beheer/organisaties/{id}/email",
    }
    return render(request, "beheer/organisaties.html", ctx, user=user, status_code=status_code)


def _save(
    request: Request, user: SessionUser, organisation_id: int, raw: str, *, own: bool
) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    try:
        with sessions.begin() as db:
            notify.set_organisation_address(db, user, organisation_id, raw)
    except notify.AddressError as exc:
        errors = FormErrors()
        errors.add(f"email-{organisation_id}", exc.message)
        return _page(
            request, user, own=own, errors=errors, typed=(organisation_id, raw), status_code=422
        )
    except NotFound as exc:
        raise HTTPException(status_code=404, detail="Deze organisatie bestaat niet.") from exc
    log.info("melding address set: by=%s organisation=%d", user.username, organisation_id)
    back = "/aanbieder/organisatie" if own else "/beheer/organisaties"
    return RedirectResponse(f"{back}?opgeslagen={organisation_id}", status_code=303)


async def _typed(request: Request) -> str:
    data = await request.form()
    value = data.get("email", "")
    return value[:1000] if isinstance(value, str) else ""


@router.get("/beheer/organisaties", response_class=HTMLResponse)
def organisations(request: Request, user: Beheer, opgeslagen: Saved = None) -> Response:
    return _page(request, user, own=False, saved=opgeslagen)


@router.post("/beheer/organisaties/{organisation_id}/email", response_class=HTMLResponse)
async def set_address(request: Request, user: Beheer, organisation_id: OrganisationId) -> Response:
    return _save(request, user, organisation_id, await _typed(request), own=False)


@router.get("/aanbieder/organisatie", response_class=HTMLResponse)
def own_organisation(request: Request, user: Aanbieder, opgeslagen: Saved = None) -> Response:
    return _page(request, user, own=True, saved=opgeslagen)


@router.post("/aanbieder/organisatie/email", response_class=HTMLResponse)
async def set_own_address(request: Request, user: Aanbieder) -> Response:
    if user.organisation_id is None:
        raise HTTPException(status_code=404, detail="Deze organisatie bestaat niet.")
    return _save(request, user, user.organisation_id, await _typed(request), own=True)
