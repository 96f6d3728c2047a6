"""Logging in and out."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from services.login import end_session, start_session
from wijzer.auth import (
    SESSION_ID_KEY,
    SESSION_LOGIN_AT_KEY,
    SESSION_USER_KEY,
    AccountDirectory,
    LoginRateLimiter,
    OptionalUser,
    limiter_keys,
)
from wijzer.forms import FormErrors
from wijzer.rendering import render
from wijzer.security import rotate_csrf_token

# Security events (ASVS V16.3.1): who tried to log in, from where, and the outcome;
# never the password.
log = logging.getLogger("wijzer.login")

router = APIRouter(include_in_schema=False)

WRONG_LOGIN = "De gebruikersnaam of het wachtwoord klopt niet."


class LoginContext(BaseModel):
    username: str = ""
    next_url: str = "/"
    errors: FormErrors = FormErrors()


def safe_next(value: str | None) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/inloggen", response_class=HTMLResponse)
def login_form(request: Request, user: OptionalUser, volgende: str | None = None) -> Response:
    ctx = LoginContext(next_url=safe_next(volgende))
    return render(request, "auth/login.html", ctx, user=user)


@router.post("/inloggen", response_class=HTMLResponse)
def login(
    request: Request,
    gebruikersnaam: Annotated[str, Form(max_length=200)] = "",
    wachtwoord: Annotated[str, Form(max_length=1000)] = "",
    volgende: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ctx = LoginContext(username=gebruikersnaam, next_url=safe_next(volgende))
    if not gebruikersnaam.strip():
        ctx.errors.add("gebruikersnaam", "Vul uw gebruikersnaam in.")
    if not wachtwoord:
        ctx.errors.add("wachtwoord", "Vul uw wachtwoord in.")
    if ctx.errors:
        return render(request, "auth/login.html", ctx, status_code=422, user=None)

    limiter: LoginRateLimiter = request.app.state.login_limiter
    keys = limiter_keys(gebruikersnaam, request.client.host if request.client else None)
    wait = limiter.retry_after(keys)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        ctx.errors.add(
            "gebruikersnaam",
            f"Er is te vaak een verkeerd wachtwoord gebruikt. Probeer het over {minutes} "
            "minuten opnieuw.",
        )
        log.warning(
            "login refused by rate limit user=%r from=%s", gebruikersnaam[:80], _client(request)
        )
        response = render(request, "auth/login.html", ctx, status_code=429, user=None)
        response.headers["Retry-After"] = str(wait)
        return response

    directory: AccountDirectory = request.app.state.accounts
    principal = directory.authenticate(gebruikersnaam.strip(), wachtwoord)
    if principal is None:
        limiter.record_failure(keys)
        log.warning("login failed user=%r from=%s", gebruikersnaam[:80], _client(request))
        ctx.errors.add("gebruikersnaam", WRONG_LOGIN)
        return render(request, "auth/login.html", ctx, status_code=401, user=None)

    limiter.reset(keys[0])
    log.info("login ok user=%r from=%s", principal.username, _client(request))
    # A fresh session on login: nothing from before login carries over (session fixation).
    request.session.clear()
    with request.app.state.sessions.begin() as db:
        token = start_session(db, principal.username, request.app.state.settings.session_max_age_s)
    request.session[SESSION_ID_KEY] = token
    request.session[SESSION_USER_KEY] = principal.username
    request.session[SESSION_LOGIN_AT_KEY] = int(time.time())
    rotate_csrf_token(request)
    return RedirectResponse(ctx.next_url, status_code=303)


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.post("/uitloggen")
def logout(request: Request) -> Response:
    token = request.session.get(SESSION_ID_KEY)
    if isinstance(token, str):
        # Ended on the server: a copy of the cookie no longer signs anyone in.
        with request.app.state.sessions.begin() as db:
            end_session(db, token)
    log.info("logout user=%r", request.session.get(SESSION_USER_KEY))
    request.session.clear()
    return RedirectResponse("/inloggen?uitgelogd=1", status_code=303)
