"""Rapportage: the monthly uniforme uitvraag (momentopname), as HTML, CSV and XLSX."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from services import exports, uitvraag
from services.frames import flows_frame, to_frame
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.rendering import Sheet, download, render
from wijzer.settings import Settings
from wijzer.views import rapportage as view

ROLES = (Role.TAFEL, Role.INKOOP, Role.BEHEER)
router = APIRouter(prefix="/rapportage", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*ROLES))]
# The file has a row per child: not for inkoop.
EXPORT_ROLES = (Role.TAFEL, Role.BEHEER)
ExportUser = Annotated[SessionUser, Depends(require_roles(*EXPORT_ROLES))]
log = logging.getLogger("wijzer.rapportage")


def build(request: Request, user: SessionUser) -> view.ReportContext | None:
    """None for inkoop: the report holds rows per child, inkoop sees totals only."""
    if user.role is Role.INKOOP:
        return None
    settings: Settings = request.app.state.settings
    return view.report(request.app.state.sessions, user, today=settings.current_date())


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: User) -> Response:
    return render(request, "rapportage/index.html", build(request, user), user=user)


@router.get("/uitvraag.{fmt}")
def export(request: Request, user: ExportUser, db: DbSession, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(status_code=404, detail="Kies csv of xlsx.")
    ctx = build(request, user)
    if ctx is None:
        raise HTTPException(status_code=404, detail="Inkoop ziet alleen totalen.")
    rows = view.csv_rows(ctx)
    sheets: dict[str, Sheet] = {"uitvraag": (view.CSV_COLUMNS, rows)}
    if fmt == "xlsx":
        sheets["voorraad_en_stroom"] = exports.frame_sheet(flows_frame(ctx.flows))
        if ctx.groups is not None:
            sheets["uitkomst_per_groep"] = exports.frame_sheet(to_frame(ctx.groups))
    refs = [c.child_ref for c in ctx.children]
    sheets = exports.export(db, user, exports.ExportKind.UITVRAAG, fmt, sheets, refs=refs)
    db.commit()
    return download(f"uitvraag-{ctx.count_date.isoformat()}.{fmt}", fmt, sheets)


@router.get("/stroom.{fmt}")
def flow_export(request: Request, user: ExportUser, fmt: str) -> Response:
    """Stock and inflow/outflow per month (counts only)."""
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(status_code=404, detail="Kies csv of xlsx.")
    ctx = build(request, user)
    if ctx is None:
        raise HTTPException(status_code=404, detail="Inkoop ziet alleen totalen.")
    name = f"voorraad-en-stroom-{ctx.count_date.isoformat()}.{fmt}"
    return download(name, fmt, {"voorraad_en_stroom": exports.frame_sheet(flows_frame(ctx.flows))})


# The momentopname is taken by the data layer, which lets tafel (own region) and
# beheer (every region) take one.
SNAPSHOT_ROLES = (Role.TAFEL, Role.BEHEER)
SnapshotUser = Annotated[SessionUser, Depends(require_roles(*SNAPSHOT_ROLES))]


@router.post("/momentopname", response_class=HTMLResponse)
def take_snapshot(request: Request, user: SnapshotUser) -> Response:
    settings: Settings = request.app.state.settings
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions.begin() as db:
        info = uitvraag.snapshot(db, user, uitvraag.SnapshotRequest(settings.current_date()))
    log.info(
        "momentopname taken: user=%s region=%s date=%s waiting=%d",
        user.username,
        info.region_code,
        info.count_date.isoformat(),
        info.waiting,
    )
    return render(request, "rapportage/momentopname.html", view.snapshot_result(info), user=user)
