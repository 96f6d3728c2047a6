"""Beheer: audit log, accounts and roles, and the start page with the momentopname.

Every read and write goes through the data layer, which checks the role again
(`providers.store.audit_log`, `providers.store.accounts`).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from services import accounts
from services.audit import export_audit
from services.exports import frame_sheet
from services.frames import audit_frame
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import DB_INT_MAX
from wijzer.rendering import download, render
from wijzer.views import beheer as view

router = APIRouter(prefix="/beheer", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(Role.BEHEER))]
AccountId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
log = logging.getLogger("wijzer.beheer")


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: User) -> Response:
    return render(request, "beheer/index.html", {}, user=user)


@router.get("/logboek", response_class=HTMLResponse)
def audit_log(request: Request, user: User, db: DbSession) -> Response:
    ctx = view.audit_page(db, user, dict(request.query_params))
    return render(request, "beheer/logboek.html", ctx, user=user)


@router.get("/logboek.csv")
def audit_log_csv(request: Request, user: User, db: DbSession) -> Response:
    _, f, errors = view.audit_filter(dict(request.query_params))
    if errors:
        raise HTTPException(status_code=422, detail=errors.items[0].message)
    rows = export_audit(db, user, f)
    db.commit()
    log.info("audit log exported: user=%s rows=%d", user.username, len(rows))
    return download("logboek.csv", "csv", {"logboek": frame_sheet(audit_frame(rows))})


@router.get("/gebruikers", response_class=HTMLResponse)
def users(request: Request, user: User, db: DbSession) -> Response:
    return render(request, "beheer/gebruikers.html", view.accounts_page(db, user), user=user)


def _users_page(
    request: Request, user: SessionUser, status_code: int = 200, **kw: object
) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as db:
        ctx = view.accounts_page(db, user, **kw)
    return render(request, "beheer/gebruikers.html", ctx, user=user, status_code=status_code)


@router.post("/gebruikers", response_class=HTMLResponse)
async def create_user(request: Request, user: User) -> Response:
    data = await request.form()
    form = view.AccountForm(
        **{k: str(data.get(k, ""))[:200] for k in view.AccountForm.model_fields}
    )
    role, org, errors = view.check_account_form(form)
    if errors or role is None or org is None:
        return _users_page(request, user, 422, form=form, errors=errors)
    sessions: sessionmaker[Session] = request.app.state.sessions
    try:
        with sessions.begin() as db:
            password = accounts.admin_create_account(db, user, form.gebruikersnaam, role, org)
    except accounts.AccountError as exc:
        errors.add(
            "gebruikersnaam" if "gebruikersnaam" in exc.user_message.lower() else "organisatie",
            exc.user_message,
        )
        return _users_page(request, user, 422, form=form, errors=errors)
    name = form.gebruikersnaam.strip().lower()
    log.info("account created: by=%s account=%s role=%s", user.username, name, role.value)
    return _users_page(request, user, new_password_for=name, new_password=password)


@router.post("/gebruikers/{account_id}/uitzetten", response_class=HTMLResponse)
def deactivate(request: Request, user: User, account_id: AccountId) -> Response:
    return _set_active(request, user, account_id, active=False)


@router.post("/gebruikers/{account_id}/aanzetten", response_class=HTMLResponse)
def activate(request: Request, user: User, account_id: AccountId) -> Response:
    return _set_active(request, user, account_id, active=True)


def _set_active(request: Request, user: SessionUser, account_id: int, *, active: bool) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    try:
        with sessions.begin() as db:
            name = accounts.set_account_active(db, user, account_id, active)
    except accounts.AccountError as exc:
        return _users_page(request, user, 422, done=exc.user_message)
    log.info("account %s: by=%s account=%s", "on" if active else "off", user.username, name)
    done = f"Account {name} staat aan." if active else f"Account {name} staat uit en is uitgelogd."
    return _users_page(request, user, done=done)


@router.post("/gebruikers/{account_id}/wachtwoord", response_class=HTMLResponse)
def reset(request: Request, user: User, account_id: AccountId) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    try:
        with sessions.begin() as db:
            name, password = accounts.reset_password(db, user, account_id)
    except accounts.AccountError as exc:
        return _users_page(request, user, 422, done=exc.user_message)
    log.info("password reset: by=%s account=%s", user.username, name)
    return _users_page(request, user, new_password_for=name, new_password=password)


@router.post("/organisaties", response_class=HTMLResponse)
async def create_organisation(request: Request, user: User) -> Response:
    data = await request.form()
    form = view.OrganisationForm(
        **{k: str(data.get(k, ""))[:200] for k in view.OrganisationForm.model_fields}
    )
    kind, region, provider, errors = view.check_organisation_form(form)
    if errors or kind is None:
        return _users_page(request, user, 422, org_form=form, org_errors=errors)
    sessions: sessionmaker[Session] = request.app.state.sessions
    try:
        with sessions.begin() as db:
            accounts.admin_create_organisation(
                db, user, form.org_naam, kind, region_code=region, provider_id=provider
            )
    except accounts.AccountError as exc:
        errors.add("org_naam", exc.user_message)
        return _users_page(request, user, 422, org_form=form, org_errors=errors)
    log.info("organisation created: by=%s kind=%s", user.username, kind.value)
    name = form.org_naam.strip()
    return _users_page(
        request, user, done=f"Organisatie {name} is gemaakt. Kies haar bij een nieuw account."
    )
