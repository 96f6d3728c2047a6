"""Start page: where each role can go."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from wijzer.auth import OptionalUser
from wijzer.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def start(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "home.html", {}, user=user)


@router.get("/toegankelijkheid", response_class=HTMLResponse)
def accessibility(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "toegankelijkheid.html", {}, user=user)
