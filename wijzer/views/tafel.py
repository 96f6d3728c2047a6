"""Tafel (zorgbemiddeling): the region's waiting list, the page of a matching run
(the run itself is the use case ``services.matching``), compare runs, export.

The waiting list comes through the data layer's scoped, audited read
(``access.waiting_list``).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy.orm import Session

from matcher.domain.caretypes import care_type_label
from matcher.domain.clocks import norm3_deadline_for
from matcher.domain.dates import date_text
from providers import reference
from providers.store import access
from services.matching import NeedRow, RunOutcome, RunParams
from wijzer.auth import SessionUser
from wijzer.jobs import Job, JobStatus


class WaitingRow(BaseModel):
    ref: str
    gemeente: str
    age: int
    measure: str
    ruling_date: dt.date
    deadline: dt.date
    days_to_deadline: int
    needs: list[str]
    attributes: list[str]


class RunLink(BaseModel):
    id: str
    label: str
    status: str
    created: dt.datetime


class WaitingContext(BaseModel):
    region: str | None
    today: dt.date
    rows: list[WaitingRow]
    runs: list[RunLink]


class RunContext(BaseModel):
    id: str
    label: str
    status: str
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


def _age(birth_month: str, today: dt.date) -> int:
    year, month = (int(x) for x in birth_month.split("-")[:2])
    return today.year - year - (1 if today.month < month else 0)


def waiting(
    session: Session, user: SessionUser, *, today: dt.date, runs: list[Job]
) -> WaitingContext:
    children = access.waiting_list(session, user, purpose="tafel: wachtlijst")
    session.commit()  # the read is audited
    attrs = {code: info.label for code, info in reference.attributes().items()}
    measures = {code: info.label for code, info in reference.measures().items()}
    gemeenten = reference.gemeenten()
    rows = []
    for c in children:
        deadline = norm3_deadline_for(c.ruling_date, c.urgent_deadline)
        g = gemeenten.get(c.gemeente_code)
        rows.append(
            WaitingRow(
                ref=c.ref,
                gemeente=g.name if g else c.gemeente_code,
                age=_age(c.birth_month, today),
                measure=measures.get(c.measure, c.measure),
                ruling_date=c.ruling_date,
                deadline=deadline,
                days_to_deadline=(deadline - today).days,
                needs=[care_type_label(n) for n in c.needs],
                attributes=[attrs.get(a, a) for a in c.attributes],
            )
        )
    rows.sort(key=lambda r: (r.days_to_deadline, r.ref))
    return WaitingContext(
        region=user.region_code,
        today=today,
        rows=rows,
        runs=[
            RunLink(id=j.id, label=j.label, status=j.status.value, created=j.created) for j in runs
        ],
    )


def run_context(job: Job) -> RunContext:
    outcome = job.result if isinstance(job.result, RunOutcome) else None
    return RunContext(
        id=job.id,
        label=job.label,
        status=job.status.value,
        step=job.step,
        percent=job.percent,
        error="Er ging iets mis bij het rekenen. Probeer het opnieuw." if job.error else "",
        done=job.status in (JobStatus.DONE, JobStatus.FAILED),
        created=job.created,
        params=job.params,
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


EXPORT_COLUMNS = (
    "kind",
    "behoefte",
    "hulp",
    "uitkomst",
    "aanbieder",
    "plaats",
    "start",
    "deadline",
    "binnen_norm",
    "norm",
    "dagen_te_laat",
    "via_hoofdaannemer",
    "toelichting",
)


def export_rows(outcome: RunOutcome) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in outcome.rows:
        rows.append(
            [
                r.child_ref,
                r.need_id,
                r.care_type_label,
                "geplaatst" if r.placed else "niet bepaald" if r.unclassified else "geen plek",
                r.provider or "",
                r.location or "",
                r.start.isoformat() if r.start else "",
                r.deadline.isoformat() if r.deadline else "",
                "ja" if r.within_norm else "nee",
                r.norm,
                r.days_late,
                r.via_main_contractor or "",
                " ".join(r.sentences),
            ]
        )
    return rows
