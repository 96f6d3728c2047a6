"""One router per user group, each with its own prefix."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.routing import APIRoute

from wijzer.routers import (
    aanbieder,
    account,
    api,
    api_referrals,
    beheer,
    casus,
    home,
    inbox,
    inkoop,
    inlezen,
    login,
    open,
    organisaties,
    rapportage,
    tafel,
    zoeken,
)

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    login.router,
    zoeken.router,
    tafel.router,
    inkoop.router,
    inkoop.api_router,
    aanbieder.router,
    rapportage.router,
    api.router,
    open.router,
    inlezen.router,
    beheer.router,
    account.router,
    casus.router,
    inbox.router,
    api_referrals.router,
    organisaties.router,
)


def all_routes() -> Iterator[APIRoute]:
    """Every endpoint of the app, for the role matrix and CSRF tests and the docs."""
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route
