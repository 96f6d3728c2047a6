"""Casussen (verwijzer, tafel): the own cases, a new case, a case page, aanmelden."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services import referrals as use_case
from services.errors import AccessDenied, NotFound
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import DB_INT_MAX, DB_INT_MIN, FormErrors, has_nul, parse_int
from wijzer.mail import send_meldingen
from wijzer.rendering import render
from wijzer.settings import Settings
from wijzer.views import casus as view
from wijzer.views.zoeken import attribute_options, gemeente_options

ROLES = (Role.VERWIJZER, Role.TAFEL, Role.BEHEER)
router = APIRouter(prefix="/casussen", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*ROLES))]
Owner = Annotated[SessionUser, Depends(require_roles(Role.VERWIJZER, Role.BEHEER))]
Id = Annotated[int, Path(ge=DB_INT_MIN, le=DB_INT_MAX)]
Ref = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
REF_RE = re.compile(r"[A-Za-z0-9-]{1,40}")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("", response_class=HTMLResponse)
def index(
    request: Request,
    user: User,
    db: DbSession,
    nieuw: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    today = _settings(request).current_date()
    rows = use_case.case_list(db, user, today=today)
    db.commit()
    return render(
        request,
        "casus/index.html",
        {"rows": rows, "today": today, "new_ref": nieuw},
        user=user,
    )


def _new_page(
    request: Request,
    user: SessionUser,
    form: view.CaseForm,
    errors: FormErrors,
    status: int,
    providers: list[tuple[str, str]],
) -> Response:
    return render(
        request,
        "casus/nieuw.html",
        {"form": form, "errors": errors},
        user=user,
        status_code=status,
        extra={
            "gemeenten": gemeente_options(),
            "measures": view.measure_options(),
            "needs": view.need_options(),
            "attributes": attribute_options(),
            "providers": providers,
        },
    )


@router.get("/nieuw", response_class=HTMLResponse)
def new(request: Request, user: Owner, db: DbSession) -> Response:
    providers = use_case.provider_options(db)
    return _new_page(request, user, view.CaseForm(), FormErrors(), 200, providers)


@router.post("/nieuw", response_class=HTMLResponse)
async def create(request: Request, user: Owner, db: DbSession) -> Response:
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    multi = {k: [v for v in data.getlist(k) if isinstance(v, str)] for k in ("hulp", "kenmerken")}
    form = view.parse_case_form(values, multi)
    today = _settings(request).current_date()
    providers = use_case.provider_options(db)
    case, errors = view.check_case_form(form, today, dict(providers))
    if case is None:
        return _new_page(request, user, form, errors, 422, providers)
    try:
        ref = use_case.register_case(db, user, case, today=today)
    except use_case.ReferralError as exc:
        db.rollback()
        errors.add(exc.field, exc.user_message)
        return _new_page(request, user, form, errors, 422, providers)
    db.commit()
    return RedirectResponse(f"/casussen/{ref}", status_code=303)


@router.get("/aanmelden/{offering_id}", response_class=HTMLResponse)
def request_form(
    request: Request,
    user: User,
    db: DbSession,
    offering_id: Id,
    zoekopdracht: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    settings = _settings(request)
    try:
        page = use_case.request_page(
            db,
            user,
            offering_id,
            today=settings.current_date(),
            answer_days=settings.referral_answer_days,
        )
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.user_message) from exc
    db.commit()
    measured = use_case.wait_overview(
        db,
        user,
        today=settings.current_date(),
        margin=settings.wait_margin_days,
        offering_ids={offering_id},
    )
    return render(
        request,
        "casus/aanmelden.html",
        {"page": page, "context": zoekopdracht, "errors": FormErrors(), "wait": measured[0]},
        user=user,
    )


@router.post("/aanmelden/{offering_id}", response_class=HTMLResponse)
async def request_place(request: Request, user: User, db: DbSession, offering_id: Id) -> Response:
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    choice = values.get("hulpvraag", "")
    context = values.get("zoekopdracht", "")[:400]
    ref, _, need = choice.partition(":")
    need_id = parse_int(need, 1, DB_INT_MAX) if ref else None
    settings = _settings(request)
    today = settings.current_date()
    errors = FormErrors()
    if need_id is None or has_nul(context) or has_nul(ref):
        errors.add("hulpvraag", "Kies voor welke hulpvraag u aanmeldt.")
    else:
        try:
            use_case.request_place(
                db,
                user,
                use_case.PlaceRequest(
                    ref=ref,
                    need_id=need_id,
                    offering_id=offering_id,
                    context=context,
                    today=today,
                    answer_days=settings.referral_answer_days,
                ),
            )
            db.commit()
            send_meldingen(request)
            return RedirectResponse(f"/casussen/{ref}", status_code=303)
        except use_case.ReferralError as exc:
            db.rollback()
            errors.add("hulpvraag", exc.user_message)
        except NotFound as exc:
            db.rollback()
            errors.add("hulpvraag", exc.user_message)
    try:
        page = use_case.request_page(
            db, user, offering_id, today=today, answer_days=settings.referral_answer_days
        )
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.user_message) from exc
    db.commit()
    return render(
        request,
        "casus/aanmelden.html",
        {"page": page, "context": context, "errors": errors},
        user=user,
        status_code=422,
    )


@router.post("/aanmeldingen/{aanmelding_id}/beeindigen", response_class=HTMLResponse)
async def withdraw(request: Request, user: User, db: DbSession, aanmelding_id: Id) -> Response:
    data = await request.form()
    ref = data.get("casus")
    today = _settings(request).current_date()
    try:
        use_case.withdraw(db, user, aanmelding_id, today=today)
    except (NotFound, AccessDenied) as exc:
        raise HTTPException(status_code=404, detail=exc.user_message) from exc
    except use_case.ReferralError as exc:
        raise HTTPException(status_code=409, detail=exc.user_message) from exc
    db.commit()
    send_meldingen(request)
    ok = isinstance(ref, str) and REF_RE.fullmatch(ref) is not None
    return RedirectResponse(f"/casussen/{ref}" if ok else "/casussen", status_code=303)


@router.get("/{ref}", response_class=HTMLResponse)
def detail(request: Request, user: User, db: DbSession, ref: Ref) -> Response:
    today = _settings(request).current_date()
    try:
        page = use_case.case_page(db, user, ref, today=today)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.user_message) from exc
    db.commit()
    # The search opens filled in for this need, so the results show at once.
    base = [
        ("leeftijd", str(page.age)),
        ("gemeente", page.gemeente_code),
        ("uitspraak", page.ruling_date.isoformat()),
        *[("kenmerken", a) for a in page.attribute_codes],
    ]
    if page.urgent_deadline is not None:
        base.append(("deadline", page.urgent_deadline.isoformat()))
    search = {n.id: "/zoeken?" + urlencode([("zorgvorm", n.care_type), *base]) for n in page.needs}
    return render(
        request, "casus/detail.html", {"page": page, "search": search, "today": today}, user=user
    )
