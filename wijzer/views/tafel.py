"""Tafel (zorgbemiddeling): the region's waiting list, the page of a matching run
(the run itself is the use case ``services.matching``), compare runs, export.

The waiting list and a child's page are the use case ``services.waiting_list``, which
reads through the data layer's scoped, audited functions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from matcher.domain.dates import date_text
from services import waiting_list
from services.exports import frame_sheet
from services.frames import to_frame
from services.matching import (
    EXPLAIN_BUDGET_S,
    FLOOR_CHOICES,
    Choice,
    NeedRow,
    RunOutcome,
    RunParams,
    run_matching,
)
from services.norm import children_text
from wijzer.auth import SessionUser
from wijzer.errors import WijzerError
from wijzer.forms import FormErrors, parse_int, read_int
from wijzer.jobs import UNREADABLE, Job, JobStatus, WorkContext, decode
from wijzer.rendering import Sheet

LOCAL = ZoneInfo("Europe/Amsterdam")
STATUS_TEXT = {
    JobStatus.QUEUED: "Wacht",
    JobStatus.RUNNING: "Bezig",
    JobStatus.DONE: "Klaar",
    JobStatus.FAILED: "Mislukt",
    JobStatus.INTERRUPTED: "Onderbroken",
}


class RunLink(BaseModel):
    id: str
    name: str
    label: str
    owner: str
    status: str
    status_text: str
    created: dt.datetime
    done: bool


class WaitingContext(BaseModel):
    waiting: waiting_list.WaitingListResult
    runs: list[RunLink]
    errors: FormErrors = Field(default_factory=FormErrors)
    filters: str = Field(default="", description="the filters and sort as a query string, no page")
    sort_base: str = Field(
        default="", description="filters and page without the sort: a column header adds its own"
    )
    active_filters: int = Field(default=0, description="filters and sort choices besides search")
    gemeente_options: list[tuple[str, str]]
    care_type_options: list[tuple[str, str]]
    page_size_options: list[tuple[int, str]] = [(n, str(n)) for n in waiting_list.PAGE_SIZES]


class RunContext(BaseModel):
    id: str
    name: str = ""
    label: str
    owner: str = ""
    status: str
    interrupted: bool = False
    step: str
    percent: int
    error: str = ""
    done: bool
    created: dt.datetime
    params: RunParams
    outcome: RunOutcome | None = None


class CompareRow(BaseModel):
    child_ref: str
    need_id: str
    care_type_label: str
    a: str
    b: str
    a_norm: str
    b_norm: str
    a_within_norm: bool
    b_within_norm: bool
    changed: bool


class CompareContext(BaseModel):
    a: RunContext
    b: RunContext
    rows: list[CompareRow]


# ------------------------------------------------------------------ waiting list


_STATUS = {s.value: s for s in waiting_list.NormFilter}
_SORT = {s.value: s for s in waiting_list.Sort}
MAX_DAYS_LATE = 3650
MAX_PAGE = 10_000


def list_request(params: Mapping[str, str]) -> tuple[waiting_list.ListRequest, FormErrors]:
    """The waiting list's filters from the query string; a bad number gives a Dutch
    message and the list without that filter."""
    errors = FormErrors()
    late_text = params.get("dagen_te_laat", "").strip()
    min_late = None
    if late_text:
        min_late = read_int(
            errors,
            "dagen_te_laat",
            late_text,
            0,
            MAX_DAYS_LATE,
            message=f"Vul bij dagen te laat een heel getal in van 0 tot en met {MAX_DAYS_LATE}.",
        )
    page = parse_int(params.get("pagina"), 1, MAX_PAGE) or 1
    size = parse_int(params.get("per_pagina"), 1, max(waiting_list.PAGE_SIZES))
    request = waiting_list.ListRequest(
        gemeente=params.get("gemeente", "").strip()[:16],
        care_type=params.get("hulp", "").strip()[:64],
        status=_STATUS.get(params.get("status", ""), waiting_list.NormFilter.ALL),
        min_days_late=min_late,
        search=params.get("zoek", "").strip()[:32],
        sort=_SORT.get(params.get("sorteer", ""), waiting_list.Sort.DEADLINE),
        descending=params.get("volgorde") == "aflopend",
        page=page,
        page_size=size if size in waiting_list.PAGE_SIZES else waiting_list.PAGE_SIZES[1],
    )
    return request, errors


def _filters_query(r: waiting_list.ListRequest, *, sort: bool = True) -> str:
    pairs = {
        "zoek": r.search,
        "gemeente": r.gemeente,
        "hulp": r.care_type,
        "status": r.status.value,
        "dagen_te_laat": "" if r.min_days_late is None else str(r.min_days_late),
        "sorteer": r.sort.value,
        "volgorde": "aflopend" if r.descending else "",
        "per_pagina": str(r.page_size),
    }
    if not sort:
        del pairs["sorteer"], pairs["volgorde"]
    return urlencode({k: v for k, v in pairs.items() if v})


def _sort_base(r: waiting_list.ListRequest) -> str:
    pairs = [_filters_query(r, sort=False), f"pagina={r.page}" if r.page > 1 else ""]
    return "&".join(p for p in pairs if p)


def _active(r: waiting_list.ListRequest) -> int:
    default = waiting_list.ListRequest()
    return sum(
        (
            bool(r.gemeente),
            bool(r.care_type),
            r.status is not waiting_list.NormFilter.ALL,
            r.min_days_late is not None,
            r.sort is not default.sort or r.descending,
            r.page_size != default.page_size,
        )
    )


def waiting(
    session: Session,
    user: SessionUser,
    *,
    today: dt.date,
    runs: list[Job],
    request: waiting_list.ListRequest | None = None,
    errors: FormErrors | None = None,
) -> WaitingContext:
    req = request or waiting_list.ListRequest()
    result = waiting_list.waiting_list(session, user, req, today=today)
    session.commit()  # the read is audited
    return WaitingContext(
        waiting=result,
        runs=[
            RunLink(
                id=j.id,
                name=j.label,
                label=run_label(params_of(j)),
                owner=j.owner,
                status=j.status.value,
                status_text=STATUS_TEXT[j.status],
                created=j.created.astimezone(LOCAL),
                done=j.status is JobStatus.DONE,
            )
            for j in runs
        ],
        errors=errors or FormErrors(),
        filters=_filters_query(req),
        sort_base=_sort_base(req),
        active_filters=_active(req),
        gemeente_options=[(o.value, o.label) for o in result.gemeenten],
        care_type_options=[(o.value, o.label) for o in result.care_types],
    )


def run_name(name: str | None, now: dt.datetime | None = None) -> str:
    """The name the table gave a run, or "Run <date time>" (Dutch time)."""
    given = " ".join((name or "").split())
    if given:
        return given[:120]
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(LOCAL)
    return f"Run {moment:%d-%m-%Y %H:%M}"


def run_label(params: RunParams) -> str:
    """What a run computed, in words (beside the name the table gave it)."""
    if params.parent:
        label = f"Opnieuw: {len(params.pins)} vastgezet, {len(params.forbids)} uitgesloten"
    else:
        label = f"Matching van {children_text(len(params.refs))}"
        if params.pins or params.forbids:
            label += f", {len(params.pins)} vastgezet, {len(params.forbids)} uitgesloten"
    if params.floor_dimension and params.floor_percent:
        group = dict(FLOOR_CHOICES).get(params.floor_dimension, params.floor_dimension)
        label += f", ondergrens {params.floor_percent}% per groep ({group[:1].lower()}{group[1:]})"
    return label


def params_of(job: Job) -> RunParams:
    return decode(RunParams, job.params) or RunParams(refs=[])


def work_run(ctx: WorkContext) -> RunOutcome:
    """The job's work (run in a worker): the matching, from its stored parameters."""
    return run_matching(
        ctx.sessions,
        ctx.principal,
        RunParams.model_validate_json(ctx.params),
        today=ctx.today,
        progress=ctx.progress,
        explain_budget_s=ctx.options.get("explain_budget_s", EXPLAIN_BUDGET_S),
    )


def child(
    session: Session, user: SessionUser, ref: str, *, today: dt.date
) -> waiting_list.ChildDetail:
    detail = waiting_list.child_detail(session, user, ref, today=today)
    session.commit()  # the reads are audited
    return detail


def run_context(job: Job) -> RunContext:
    params = params_of(job)
    outcome = decode(RunOutcome, job.result) if job.status is JobStatus.DONE else None
    error = "Er ging iets mis bij het rekenen. Probeer het opnieuw." if job.error else ""
    if job.status is JobStatus.DONE and outcome is None:
        error = UNREADABLE
    return RunContext(
        id=job.id,
        name=job.label,
        label=run_label(params),
        owner=job.owner,
        status=job.status.value,
        interrupted=job.status is JobStatus.INTERRUPTED,
        step=job.step,
        percent=job.percent,
        error=error,
        done=job.done,
        created=job.created.astimezone(LOCAL),
        params=params,
        outcome=outcome,
    )


def _describe(row: NeedRow | None) -> str:
    if row is None:
        return "Niet in deze berekening"
    if not row.placed:
        return "Hulpvraag nog niet bepaald" if row.unclassified else "Geen plek"
    start = f", start {date_text(row.start)}" if row.start else ""
    return f"{row.provider} ({row.location}){start}"


def _norm(row: NeedRow | None) -> str:
    return row.norm if row is not None and row.placed else ""


def compare(a: RunContext, b: RunContext) -> CompareContext:
    rows_a = {(r.child_ref, r.need_id): r for r in (a.outcome.rows if a.outcome else [])}
    rows_b = {(r.child_ref, r.need_id): r for r in (b.outcome.rows if b.outcome else [])}
    out = []
    for key in sorted(set(rows_a) | set(rows_b)):
        ra, rb = rows_a.get(key), rows_b.get(key)
        label = (ra or rb).care_type_label if (ra or rb) else ""  # type: ignore[union-attr]
        da, db = _describe(ra), _describe(rb)
        out.append(
            CompareRow(
                child_ref=key[0],
                need_id=key[1],
                care_type_label=label,
                a=da,
                b=db,
                a_norm=_norm(ra),
                b_norm=_norm(rb),
                a_within_norm=bool(ra and ra.within_norm),
                b_within_norm=bool(rb and rb.within_norm),
                changed=da != db,
            )
        )
    out.sort(key=lambda r: (not r.changed, r.child_ref))
    return CompareContext(a=a, b=b, rows=out)


def export_sheets(outcome: RunOutcome) -> dict[str, Sheet]:
    """The besluitenlijst and the outcomes per group, written from the same frames an
    analyst gets (`services.frames.to_frame`)."""
    return {
        "besluitenlijst": frame_sheet(to_frame(outcome)),
        "uitkomst_per_groep": frame_sheet(to_frame(outcome.groups)),
    }


# ------------------------------------------------------------------ the run's table


RUN_SORTS = ("kind", "hulp", "uitkomst", "deadline")


def run_sort(params: Mapping[str, str]) -> tuple[str, bool]:
    """The run table's sort from the query string; "" keeps the run's own order (the
    children without a place first)."""
    key = params.get("sorteer", "")
    return (key if key in RUN_SORTS else ""), params.get("volgorde") == "aflopend"


def sorted_rows(rows: list[NeedRow], key: str, descending: bool) -> list[NeedRow]:
    def by(r: NeedRow) -> tuple[Any, ...]:
        if key == "kind":
            return (r.child_ref, r.need_id)
        if key == "hulp":
            return (r.care_type_label, r.child_ref, r.need_id)
        if key == "uitkomst":
            return (r.placed, r.provider or "", r.location or "", r.child_ref)
        return (r.deadline or dt.date.max, r.child_ref, r.need_id)

    return sorted(rows, key=by, reverse=descending) if key else rows


def anchor(need_id: str) -> str:
    """The id of a row of the run table (a need id has a "/" in it)."""
    return "rij-" + re.sub(r"[^A-Za-z0-9_-]", "-", need_id)


# ------------------------------------------------------------------ choices for the next run

# The choices wait in the signed session cookie, for one run at a time: a browser keeps
# a cookie of at most 4 kB, so their number is capped (a test measures the worst case).
PENDING_KEY = "tafel_keuzes"
MAX_PENDING = 15


class ChoiceError(WijzerError, ValueError):
    """A pin or forbid on a run's page that does not fit that run (B1 `user_message`)."""

    def __init__(self, user_message: str) -> None:
        super().__init__("choice does not fit the run", user_message=user_message)


class Pending(BaseModel):
    """Pins and forbids chosen on a run's page, for the next run from that page."""

    run: str
    pins: list[Choice] = Field(default_factory=list)
    forbids: list[Choice] = Field(default_factory=list)

    def of(self, child_ref: str, need_id: str) -> tuple[list[Choice], list[Choice]]:
        def mine(c: Choice) -> bool:
            return c.child_ref == child_ref and c.need_id == need_id

        return [c for c in self.pins if mine(c)], [c for c in self.forbids if mine(c)]


class RowChoice(BaseModel):
    """What a row will get in the next run, in words."""

    pin: str = ""
    forbids: list[str] = Field(default_factory=list)


def _key(c: Choice) -> str:
    return f"{c.child_ref}|{c.need_id}|{c.offering}"


def _choice(key: str) -> Choice | None:
    parts = key.split("|") if isinstance(key, str) else []
    if len(parts) != 3:
        return None
    return Choice(child_ref=parts[0], need_id=parts[1], offering=parts[2])


def pending(session: Mapping[str, Any], job_id: str) -> Pending:
    stored = session.get(PENDING_KEY)
    if not isinstance(stored, dict) or stored.get("run") != job_id:
        return Pending(run=job_id)
    pins = [c for c in map(_choice, stored.get("vast") or []) if c]
    forbids = [c for c in map(_choice, stored.get("niet") or []) if c]
    return Pending(run=job_id, pins=pins, forbids=forbids)


def save_pending(session: MutableMapping[str, Any], p: Pending) -> None:
    if not p.pins and not p.forbids:
        session.pop(PENDING_KEY, None)
        return
    session[PENDING_KEY] = {
        "run": p.run,
        "vast": [_key(c) for c in p.pins],
        "niet": [_key(c) for c in p.forbids],
    }


def _name(row: NeedRow, offering: str) -> str:
    if row.placed and row.offering == offering:
        return f"{row.provider} ({row.location})"
    return next((e.name for e in row.eligible if e.offering == offering), "een ander aanbod")


def choose(p: Pending, outcome: RunOutcome, form: Mapping[str, str]) -> tuple[Pending, NeedRow]:
    """One button of a row: pin ("vastzetten", a placed row at its place, an unplaced
    row at the offering of its select "aanbod"), forbid the place ("uitsluiten") or undo
    the row's choices ("terug").  Returns the new choices and the row."""
    action = next((a for a in ("vastzetten", "uitsluiten", "terug") if form.get(a)), "")
    rows = {f"{r.child_ref}|{r.need_id}": r for r in outcome.rows}
    row = rows.get(form.get(action, ""))
    if row is None:
        raise ChoiceError("Dit kind of deze hulpvraag staat niet in deze berekening.")
    ref, nid = row.child_ref, row.need_id
    pins = [c for c in p.pins if (c.child_ref, c.need_id) != (ref, nid)]
    forbids = (
        list(p.forbids)
        if action != "terug"
        else [c for c in p.forbids if (c.child_ref, c.need_id) != (ref, nid)]
    )
    if action == "vastzetten":
        offering = row.offering if row.placed else form.get("aanbod", "")
        if not row.placed and offering not in {e.offering for e in row.eligible}:
            raise ChoiceError(f"Kies bij kind {ref} een plek uit de lijst om vast te zetten.")
        chosen = Choice(child_ref=ref, need_id=nid, offering=offering or "")
        forbids = [c for c in forbids if c != chosen]
        pins.append(chosen)
    elif action == "uitsluiten":
        if not row.placed or not row.offering:
            raise ChoiceError(f"Kind {ref} heeft hier geen plek om uit te sluiten.")
        chosen = Choice(child_ref=ref, need_id=nid, offering=row.offering)
        if chosen not in forbids:
            forbids.append(chosen)
    else:
        pins = [c for c in p.pins if (c.child_ref, c.need_id) != (ref, nid)]
    if len(pins) + len(forbids) > MAX_PENDING:
        raise ChoiceError(
            f"U kunt tot {MAX_PENDING} keuzes klaarzetten. Bereken eerst opnieuw met deze keuzes."
        )
    return Pending(run=p.run, pins=pins, forbids=forbids), row


def row_choices(p: Pending, outcome: RunOutcome) -> dict[str, RowChoice]:
    """Per row ("child|need") the choices waiting for the next run, in words."""
    out: dict[str, RowChoice] = {}
    for r in outcome.rows:
        pins, forbids = p.of(r.child_ref, r.need_id)
        if pins or forbids:
            out[f"{r.child_ref}|{r.need_id}"] = RowChoice(
                pin=_name(r, pins[0].offering) if pins else "",
                forbids=[_name(r, c.offering) for c in forbids],
            )
    return out


def with_pending(params: RunParams, p: Pending) -> RunParams:
    """A run again with the choices waiting on the page: a new pin replaces the earlier
    pin of that need, and a forbidden place is pinned no more."""
    repinned = {(c.child_ref, c.need_id) for c in p.pins}
    pins = [
        c for c in params.pins if (c.child_ref, c.need_id) not in repinned and c not in p.forbids
    ]
    pins += p.pins
    forbids = [c for c in params.forbids if c not in p.pins]
    forbids += [c for c in p.forbids if c not in forbids]
    return params.model_copy(update={"pins": pins, "forbids": forbids})
