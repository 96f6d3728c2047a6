"""Inkoop: who waits for which help, as aggregates with small cells suppressed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from wijzer.auth import Principal, Role, require_roles
from wijzer.db import DbSession
from wijzer.rendering import render
from wijzer.views import inkoop as view

ROLES = (Role.INKOOP, Role.BEHEER)
router = APIRouter(prefix="/inkoop", include_in_schema=False)
User = Annotated[Principal, Depends(require_roles(*ROLES))]


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: User, db: DbSession) -> HTMLResponse:
    return render(request, "inkoop/index.html", view.overview(db, user), user=user)
