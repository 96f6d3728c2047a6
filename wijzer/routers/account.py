"""Every signed-in user can change their own password; the other sessions of the
account end, the one in use stays."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from services import accounts
from services.errors import AccessDenied
from services.principal import Role
from wijzer.auth import SESSION_ID_KEY, SessionUser, require_roles
from wijzer.rendering import render
from wijzer.security import rotate_csrf_token
from wijzer.views import beheer as view

router = APIRouter(prefix="/account", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*Role))]
log = logging.getLogger("wijzer.security")


@router.get("/wachtwoord", response_class=HTMLResponse)
def password_form(request: Request, user: User) -> Response:
    return render(request, "beheer/wachtwoord.html", view.PasswordContext(), user=user)


@router.post("/wachtwoord", response_class=HTMLResponse)
async def change_password(request: Request, user: User) -> Response:
    data = await request.form()
    current, new, again = (str(data.get(k, ""))[:1000] for k in ("huidig", "nieuw", "nogmaals"))
    errors = view.check_password_form(current, new, again)
    if not errors:
        sessions: sessionmaker[Session] = request.app.state.sessions
        token = request.session.get(SESSION_ID_KEY)
        try:
            with sessions.begin() as db:
                accounts.change_own_password(
                    db, user, current, new, keep_token=token if isinstance(token, str) else None
                )
        except accounts.AccountError as exc:
            field = "huidig" if "huidige wachtwoord klopt" in exc.user_message else "nieuw"
            errors.add(field, exc.user_message)
        except AccessDenied:
            # An account kept outside the database (a test or demo directory) has no
            # stored password to change.
            errors.add("huidig", "Uw wachtwoord kan hier niet worden gewijzigd.")
    if errors:
        ctx = view.PasswordContext(errors=errors)
        return render(request, "beheer/wachtwoord.html", ctx, user=user, status_code=422)
    log.info("password changed: user=%s", user.username)
    rotate_csrf_token(request)
    return render(request, "beheer/wachtwoord.html", view.PasswordContext(done=True), user=user)
