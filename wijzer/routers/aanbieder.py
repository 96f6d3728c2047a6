"""Mijn aanbod: the pages of this user group."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from wijzer.auth import Principal, Role, require_roles
from wijzer.rendering import render

ROLES = (Role.AANBIEDER, Role.BEHEER)
router = APIRouter(prefix="/aanbieder", include_in_schema=False)
User = Annotated[Principal, Depends(require_roles(*ROLES))]


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: User) -> HTMLResponse:
    return render(request, "not_ready.html", {"title": "Mijn aanbod"}, user=user)
