"""Tafel (zorgbemiddeling): waiting list, matching runs, pin/forbid, compare, export.

Runs are stored jobs; which runs a table sees (its own region's matchings, never
inkoop's jobs) is the data layer's rule (`providers.store.jobs`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from services import exports, matching, proposal, referrals, waiting_list
from services.errors import NotFound
from wijzer.auth import Role, SessionUser, require_roles
from wijzer.deps import DbSession
from wijzer.forms import FormErrors, parse_int
from wijzer.jobs import UNREADABLE, Job, JobKind, JobQuotaExceeded, JobRunner, JobStatus, decode
from wijzer.mail import send_meldingen
from wijzer.rendering import download, render
from wijzer.settings import Settings
from wijzer.views import tafel as view

ROLES = (Role.TAFEL, Role.BEHEER)
router = APIRouter(prefix="/tafel", include_in_schema=False)
User = Annotated[SessionUser, Depends(require_roles(*ROLES))]
NOT_FOUND = "Deze berekening bestaat niet (meer) of is niet van uw regio."
MAX_CHILDREN = 600
MAX_LISTED = 50
# as many aanmeldingen at once as the API's proposal takes
MAX_PROPOSAL = 50
KINDS = (JobKind.TAFEL_RUN,)


def jobs_of(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


def own_job(request: Request, user: SessionUser, job_id: str) -> Job:
    # Another kind of job (an inkoop scenario) is "not found" here, like an unknown id.
    job = jobs_of(request).get(user, job_id, KINDS)
    if job is None:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return job


def start_run(
    request: Request, user: SessionUser, params: matching.RunParams, name: str | None = None
) -> Job:
    """Start a run, or answer 429 with what to do when the user's quota is full."""
    settings: Settings = request.app.state.settings
    try:
        return jobs_of(request).submit(
            user,
            JobKind.TAFEL_RUN,
            view.run_name(name),
            params,
            view.work_run,
            today=settings.current_date(),
            options={"explain_budget_s": settings.explain_budget_s},
        )
    except JobQuotaExceeded as exc:
        raise HTTPException(status_code=429, detail=exc.user_message) from exc


def runs_of(request: Request, user: SessionUser) -> list[Job]:
    return jobs_of(request).listing(user, KINDS, limit=MAX_LISTED)


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: User, db: DbSession) -> Response:
    settings: Settings = request.app.state.settings
    wanted, errors = view.list_request(request.query_params)
    ctx = view.waiting(
        db,
        user,
        today=settings.current_date(),
        runs=runs_of(request, user),
        request=wanted,
        errors=errors,
    )
    return render(request, "tafel/index.html", ctx, user=user, status_code=422 if errors else 200)


@router.get("/kind/{ref}", response_class=HTMLResponse)
def child_page(request: Request, user: User, db: DbSession, ref: str) -> Response:
    settings: Settings = request.app.state.settings
    try:
        ctx = view.child(db, user, ref[:64], today=settings.current_date())
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.user_message) from exc
    return render(request, "tafel/child.html", ctx, user=user)


@router.post("/runs", response_class=HTMLResponse)
async def new_run(request: Request, user: User) -> Response:
    form = await request.form()
    refs = [r for r in form.getlist("kind") if isinstance(r, str) and r]
    if not refs or len(refs) > MAX_CHILDREN:
        sessions: sessionmaker[Session] = request.app.state.sessions
        settings: Settings = request.app.state.settings
        with sessions() as db:
            ctx = view.waiting(db, user, today=settings.current_date(), runs=runs_of(request, user))
        errors = FormErrors()
        errors.add("kinderen", f"Kies 1 tot {MAX_CHILDREN} kinderen om te matchen.")
        return render(
            request, "tafel/index.html", ctx, user=user, status_code=422, extra={"errors": errors}
        )
    # Pins and forbids chosen on a child's page (any eligible offering, placed or not).
    pins = waiting_list.choices_from_keys(
        [str(v) for k, v in form.multi_items() if k.startswith("vastzetten_aanbod") and v], refs
    )
    forbids = waiting_list.choices_from_keys(
        [str(v) for v in form.getlist("uitsluiten_aanbod")], refs
    )
    name = form.get("naam")
    params = matching.RunParams(refs=refs, pins=pins, forbids=forbids)
    # Storing the job is a database write: off the event loop, as in the sync routes.
    job = await run_in_threadpool(
        start_run, request, user, params, name if isinstance(name, str) else None
    )
    return RedirectResponse(f"/tafel/runs/{job.id}", status_code=303)


@router.get("/runs/{job_id}", response_class=HTMLResponse)
def run_page(request: Request, user: User, job_id: str) -> Response:
    ctx = view.run_context(own_job(request, user, job_id))
    return render(request, "tafel/run.html", ctx, user=user, extra=_run_extra(request, ctx))


def _run_extra(request: Request, ctx: view.RunContext) -> dict[str, object]:
    """The run table's sort, the choices waiting for the next run, the row anchors."""
    key, descending = view.run_sort(request.query_params)
    pending = view.pending(request.session, ctx.id)
    return {
        "floor_choices": matching.FLOOR_CHOICES,
        "rows": view.sorted_rows(ctx.outcome.rows, key, descending) if ctx.outcome else [],
        "sort": key,
        "descending": descending,
        "choices": view.row_choices(pending, ctx.outcome) if ctx.outcome else {},
        "pending": pending,
        "anchor": view.anchor,
    }


def _done(
    request: Request, user: SessionUser, job_id: str
) -> tuple[view.RunContext, matching.RunOutcome]:
    ctx = view.run_context(own_job(request, user, job_id))
    if ctx.outcome is None:
        raise HTTPException(status_code=409, detail="Deze berekening is nog niet klaar.")
    return ctx, ctx.outcome


@router.post("/runs/{job_id}/keuze")
async def choose(request: Request, user: User, job_id: str) -> Response:
    """Pin or forbid one row for the next run from this page, or undo that; back to
    the row."""
    _, outcome = await run_in_threadpool(_done, request, user, job_id)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        pending, row = view.choose(view.pending(request.session, job_id), outcome, fields)
    except view.ChoiceError as exc:
        raise HTTPException(status_code=422, detail=exc.user_message) from exc
    view.save_pending(request.session, pending)
    return RedirectResponse(f"/tafel/runs/{job_id}#{view.anchor(row.need_id)}", status_code=303)


@router.post("/runs/{job_id}/aanmelden", response_class=HTMLResponse)
async def propose(request: Request, user: User, job_id: str) -> Response:
    """Aanmeldingen for the chosen placed children, each at its proposed offering."""
    ctx, outcome = await run_in_threadpool(_done, request, user, job_id)
    form = await request.form()
    placed = [r for r in outcome.rows if r.placed]
    if form.get("alles"):
        rows = placed
    else:
        keys = {str(k) for k in form.getlist("aanmelden")}
        rows = [r for r in placed if f"{r.child_ref}|{r.need_id}" in keys]
    if not rows or len(rows) > MAX_PROPOSAL:
        raise HTTPException(
            status_code=422,
            detail=f"Kies 1 tot {MAX_PROPOSAL} kinderen met een plek om aan te melden.",
        )
    lines = await run_in_threadpool(_send, request, user, rows)
    if any(line.sent for line in lines):
        await run_in_threadpool(send_meldingen, request)
    return render(request, "tafel/aanmelden.html", ctx, user=user, extra={"lines": lines})


def _send(
    request: Request, user: SessionUser, rows: list[matching.NeedRow]
) -> list[proposal.ProposalLine]:
    settings: Settings = request.app.state.settings
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as db:
        try:
            lines = proposal.send_proposal(
                db,
                user,
                rows,
                today=settings.current_date(),
                answer_days=settings.referral_answer_days,
            )
        except (NotFound, referrals.ReferralError) as exc:
            db.rollback()
            raise HTTPException(
                status_code=409,
                detail=f"Er is geen aanmelding verstuurd. {exc.user_message}",
            ) from exc
        db.commit()
    return lines


@router.post("/runs/{job_id}/opnieuw", response_class=HTMLResponse)
async def rerun(request: Request, user: User, job_id: str) -> Response:
    parent = view.run_context(own_job(request, user, job_id))
    if parent.outcome is None:
        raise HTTPException(status_code=409, detail="Deze berekening is nog niet klaar.")
    form = await request.form()
    params, _ = matching.rerun_params(
        parent.id,
        parent.params,
        parent.outcome,
        [str(k) for k in form.getlist("vastzetten")],
        [str(k) for k in form.getlist("uitsluiten")],
    )
    dimension = str(form.get("ondergrens_groep") or "")
    if dimension not in dict(matching.FLOOR_CHOICES):
        params = params.model_copy(update={"floor_dimension": None, "floor_percent": None})
    else:
        percent = parse_int(str(form.get("ondergrens_procent") or ""), 1, 100)
        if percent is None:
            raise HTTPException(
                status_code=422,
                detail="Vul bij de ondergrens een heel getal van 1 tot en met 100 in.",
            )
        params = params.model_copy(update={"floor_dimension": dimension, "floor_percent": percent})
    params = view.with_pending(params, view.pending(request.session, parent.id))
    job = await run_in_threadpool(start_run, request, user, params, f"{parent.name} (opnieuw)")
    view.save_pending(request.session, view.Pending(run=parent.id))
    return RedirectResponse(f"/tafel/runs/{job.id}", status_code=303)


@router.post("/runs/{job_id}/herstart")
def restart(request: Request, user: User, job_id: str) -> Response:
    """Start an interrupted or failed run again with the same children and choices."""
    job = own_job(request, user, job_id)
    if job.status not in (JobStatus.INTERRUPTED, JobStatus.FAILED):
        raise HTTPException(status_code=409, detail="Deze berekening loopt nog of is al klaar.")
    params = decode(matching.RunParams, job.params)
    if params is None:
        raise HTTPException(status_code=409, detail=UNREADABLE)
    new = start_run(request, user, params, job.label)
    return RedirectResponse(f"/tafel/runs/{new.id}", status_code=303)


@router.get("/vergelijk", response_class=HTMLResponse)
def compare(request: Request, user: User, a: str, b: str) -> Response:
    ctx = view.compare(
        view.run_context(own_job(request, user, a)), view.run_context(own_job(request, user, b))
    )
    return render(request, "tafel/compare.html", ctx, user=user)


@router.get("/runs/{job_id}/besluitenlijst.{fmt}")
def export(request: Request, user: User, db: DbSession, job_id: str, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(status_code=404, detail="Kies csv of xlsx.")
    ctx = view.run_context(own_job(request, user, job_id))
    if ctx.outcome is None:
        raise HTTPException(status_code=409, detail="Deze berekening is nog niet klaar.")
    sheets = exports.export(
        db,
        user,
        exports.ExportKind.DECISION_LIST,
        fmt,
        view.export_sheets(ctx.outcome),
        refs=sorted({r.child_ref for r in ctx.outcome.rows}),
    )
    db.commit()
    name = f"besluitenlijst-{job_id}.{fmt}"
    return download(name, fmt, sheets)


@router.get("/runs/{job_id}/uitkomst-per-groep.{fmt}")
def group_export(request: Request, user: User, job_id: str, fmt: str) -> Response:
    """Outcomes per group of a run (counts only, no child)."""
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(status_code=404, detail="Kies csv of xlsx.")
    ctx = view.run_context(own_job(request, user, job_id))
    if ctx.outcome is None:
        raise HTTPException(status_code=409, detail="Deze berekening is nog niet klaar.")
    sheet = view.export_sheets(ctx.outcome)["uitkomst_per_groep"]
    return download(f"uitkomst-per-groep-{job_id}.{fmt}", fmt, {"uitkomst_per_groep": sheet})
