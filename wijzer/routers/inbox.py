"""Aanmeldingen (aanbieder) and meldingen (everyone): the inboxes of the referral loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services import meldingen
from services import referrals as use_case
from services.errors import AccessDenied, NotFound, StatusConflict
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import DB_INT_MAX, DB_INT_MIN, FormErrors
from wijzer.mail import send_meldingen
from wijzer.rendering import render
from wijzer.settings import Settings
from wijzer.views import casus as view

router = APIRouter(include_in_schema=False)
Provider = Annotated[SessionUser, Depends(require_roles(Role.AANBIEDER, Role.BEHEER))]
Anyone = Annotated[SessionUser, Depends(require_roles(*Role))]
Id = Annotated[int, Path(ge=DB_INT_MIN, le=DB_INT_MAX)]


def _today(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/aanmeldingen", response_class=HTMLResponse)
def inbox(request: Request, user: Provider, db: DbSession) -> Response:
    settings = _today(request)
    lines = use_case.provider_inbox(db, user, today=settings.current_date())
    db.commit()
    return render(
        request,
        "casus/inbox.html",
        {"lines": lines, "answer_days": settings.referral_answer_days},
        user=user,
    )


def _page(
    request: Request,
    user: SessionUser,
    db: DbSession,
    aanmelding_id: int,
    errors: FormErrors,
    values: dict[str, str],
    status: int = 200,
) -> Response:
    today = _today(request).current_date()
    try:
        line = use_case.provider_aanmelding(db, user, aanmelding_id, today=today)
    except (NotFound, AccessDenied) as exc:
        raise HTTPException(status_code=404, detail=exc.user_message) from exc
    db.commit()
    return render(
        request,
        "casus/aanmelding.html",
        {"a": line, "errors": errors, "typed": values, "today": today},
        user=user,
        status_code=status,
        extra={"reasons": use_case.decline_reasons()},
    )


@router.get("/aanmeldingen/{aanmelding_id}", response_class=HTMLResponse)
def detail(request: Request, user: Provider, db: DbSession, aanmelding_id: Id) -> Response:
    return _page(request, user, db, aanmelding_id, FormErrors(), {})


@router.post("/aanmeldingen/{aanmelding_id}", response_class=HTMLResponse)
async def answer(request: Request, user: Provider, db: DbSession, aanmelding_id: Id) -> Response:
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str) and k != "csrf_token"}
    today = _today(request).current_date()
    parsed, errors = view.check_answer_form(aanmelding_id, values, today)
    if parsed is not None:
        try:
            use_case.answer(db, user, parsed)
            db.commit()
            send_meldingen(request)
            return RedirectResponse(f"/aanmeldingen/{aanmelding_id}", status_code=303)
        except (NotFound, AccessDenied) as exc:
            raise HTTPException(status_code=404, detail=exc.user_message) from exc
        except use_case.ReferralError as exc:
            db.rollback()
            errors.add(exc.field, exc.user_message)
        except StatusConflict as exc:
            db.rollback()
            errors.add("antwoord", exc.user_message)
    return _page(request, user, db, aanmelding_id, errors, values, 422)


@router.get("/meldingen", response_class=HTMLResponse)
def notices(request: Request, user: Anyone, db: DbSession) -> Response:
    items = meldingen.read_inbox(db, user)
    db.commit()
    return render(request, "casus/meldingen.html", {"notices": items}, user=user)


@router.get("/wachttijden", response_class=HTMLResponse)
def measured_waits(request: Request, user: Anyone, db: DbSession) -> Response:
    settings = _today(request)
    lines = use_case.wait_overview(
        db, user, today=settings.current_date(), margin=settings.wait_margin_days
    )
    return render(
        request,
        "casus/wachttijden.html",
        {
            "lines": lines,
            "margin": settings.wait_margin_days,
            "shown": sum(1 for x in lines if x.median_days is not None),
            "min_starts": use_case.MIN_STARTS,
        },
        user=user,
    )
