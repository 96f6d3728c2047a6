"""Inlezen: upload CSV, XLSX or JSON files in the browser, see what will change, confirm.

The same validation and role check as ``python -m providers import``; beheer may
upload every table, an aanbieder its own offerings, a tafel its region's waiting
list (the data layer refuses every other row, naming file, sheet, row and column).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import UploadFile

from services.errors import ImportRejected, InvalidRequest, PreviewOutdated
from services.uploads import PendingUploads, UploadRequest, commit_upload, preview_upload
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import DB_INT_MAX
from wijzer.rendering import render
from wijzer.settings import Settings
from wijzer.views import beheer_upload as view

ROLES = (Role.AANBIEDER, Role.TAFEL, Role.BEHEER)
router = APIRouter(prefix="/inlezen", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*ROLES))]
log = logging.getLogger("wijzer.uploads")
ALLOWED_SUFFIXES = (".csv", ".xlsx", ".json")
MAX_FILES = 10
NO_FILE = "Kies een of meer bestanden (CSV, XLSX of JSON) om in te lezen."


def pending_of(request: Request) -> PendingUploads:
    """The app's waiting previews (made on first use, one store per app)."""
    state = request.app.state
    if not hasattr(state, "pending_uploads"):
        state.pending_uploads = PendingUploads(state.sessions)
    pending: PendingUploads = state.pending_uploads
    return pending


@router.get("", response_class=HTMLResponse)
def index(
    request: Request,
    user: User,
    db: DbSession,
    opgeslagen: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
) -> Response:
    ctx = view.upload_page(db, user, stored_batch=opgeslagen)
    return render(request, "beheer/inlezen.html", ctx, user=user)


def _form_page(request: Request, user: SessionUser, message: str) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as db:
        ctx = view.upload_page(db, user, error=message)
    return render(request, "beheer/inlezen.html", ctx, user=user, status_code=422)


@router.post("", response_class=HTMLResponse)
async def preview(request: Request, user: User) -> Response:
    form = await request.form(max_files=MAX_FILES)
    uploads = [f for f in form.getlist("bestanden") if isinstance(f, UploadFile)]
    files: list[tuple[str, bytes]] = []
    for f in uploads:
        name = (f.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        data = await f.read()
        if not name and not data:
            continue  # the empty part a browser sends when no file was chosen
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            message = (
                f"Het bestand {name or '(zonder naam)'} is geen CSV-, XLSX- of JSON-bestand. "
                "Kies een bestand dat eindigt op .csv, .xlsx of .json."
            )
            return _form_page(request, user, message)
        files.append((name, data))
    if not files:
        return _form_page(request, user, NO_FILE)
    names = [n for n, _ in files]
    settings: Settings = request.app.state.settings
    try:
        result = preview_upload(
            request.app.state.sessions,
            user,
            pending_of(request),
            UploadRequest(files=tuple(files), today=settings.current_date()),
        )
    except ImportRejected as exc:
        log.info(
            "upload refused: user=%s files=%s problems=%d",
            user.username,
            ",".join(names),
            len(exc.problems),
        )
        ctx = view.problems_page(names, list(exc.problems))
        return render(request, "beheer/inlezen_problemen.html", ctx, user=user, status_code=422)
    log.info(
        "upload preview: user=%s files=%s new=%d changed=%d",
        user.username,
        ",".join(names),
        result.changes.new,
        result.changes.changed,
    )
    ctx_preview = view.preview_page(names, result.token, result.digest, result.changes)
    return render(request, "beheer/inlezen_voorbeeld.html", ctx_preview, user=user)


@router.post("/bevestigen", response_class=HTMLResponse)
async def confirm(request: Request, user: User) -> Response:
    form = await request.form()
    token = form.get("token")
    digest = form.get("digest")
    if not isinstance(token, str) or not isinstance(digest, str):
        return _form_page(
            request, user, "Dit voorbeeld is niet compleet. Kies het bestand opnieuw."
        )
    settings: Settings = request.app.state.settings
    try:
        done = commit_upload(
            request.app.state.sessions,
            user,
            pending_of(request),
            token[:100],
            digest[:100],
            today=settings.current_date(),
        )
    except (InvalidRequest, PreviewOutdated) as exc:
        log.info("upload not stored: user=%s reason=%s", user.username, type(exc).__name__)
        return _form_page(request, user, exc.user_message)
    except ImportRejected as exc:
        # The rules or the stored data changed between the two steps.
        ctx = view.problems_page([], list(exc.problems))
        return render(request, "beheer/inlezen_problemen.html", ctx, user=user, status_code=422)
    log.info(
        "upload stored: user=%s batch=%s files=%s new=%d changed=%d",
        user.username,
        done.batch_id,
        ",".join(done.file_names),
        done.changes.new,
        done.changes.changed,
    )
    target = "/inlezen" + (f"?opgeslagen={done.batch_id}" if done.batch_id else "")
    return RedirectResponse(target, status_code=303)
