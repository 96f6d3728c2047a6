"""Tafel (zorgbemiddeling): the region's waiting list, an optimal matching as a
background job, the explanation per child, pin or forbid and run again, compare runs.

The data comes through the data layer's scoped, audited reads
(``access.waiting_list``, ``providers.convert.scenario_from_db``); matching and
explanations are the domain's (``matcher.domain.match``, ``explain``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import CareType, Scenario
from matcher.domain.compile import compile_scenario
from matcher.domain.explain import explain, sentences
from matcher.domain.match import match
from providers import reference
from providers.convert import scenario_from_db
from providers.store import access
from providers.store.models import Provider
from wijzer import catalogue
from wijzer.auth import Principal
from wijzer.jobs import Job, JobStatus, Progress

EXPLAIN_BUDGET_S = 2.5


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


class Choice(BaseModel):
    """A pin (place this need at this option) or a forbid (never at this offering)."""

    child_ref: str
    need_id: str
    offering: str
    option: str = ""


class RunParams(BaseModel):
    refs: list[str]
    pins: list[Choice] = Field(default_factory=list)
    forbids: list[Choice] = Field(default_factory=list)
    parent: str | None = None


class NeedRow(BaseModel):
    child_ref: str
    need_id: str
    care_type_label: str
    placed: bool
    offering: str | None = None
    option: str | None = None
    provider: str | None = None
    location: str | None = None
    start: dt.date | None = None
    deadline: dt.date | None = None
    within_norm: bool = False
    via_main_contractor: str | None = None
    pinned: bool = False
    forbidden: list[str] = Field(default_factory=list)
    summary: str = ""
    sentences: list[str] = Field(default_factory=list)
    smallest_change: str | None = None


class RunSummary(BaseModel):
    needs: int
    placed: int
    within_norm: int
    unplaced: int
    solver_status: str
    wall_time_s: float
    strategy: str


class RunOutcome(BaseModel):
    summary: RunSummary
    rows: list[NeedRow]


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
    a_within_norm: bool
    b_within_norm: bool
    changed: bool


class CompareContext(BaseModel):
    a: RunContext
    b: RunContext
    rows: list[CompareRow]


# ------------------------------------------------------------------ waiting list


def _label(care_type: str) -> str:
    try:
        return CareType(care_type).label_nl
    except ValueError:
        return care_type


def _age(birth_month: str, today: dt.date) -> int:
    year, month = (int(x) for x in birth_month.split("-")[:2])
    return today.year - year - (1 if today.month < month else 0)


def waiting(
    session: Session, user: Principal, *, today: dt.date, runs: list[Job]
) -> WaitingContext:
    children = access.waiting_list(session, user.store(), purpose="tafel: wachtlijst")
    session.commit()  # the read is audited
    attrs = {code: info.label for code, info in reference.attributes().items()}
    measures = {code: info.label for code, info in reference.measures().items()}
    gemeenten = catalogue.gemeenten()
    rows = []
    for c in children:
        deadline = c.ruling_date + relativedelta(months=3)
        if c.urgent_deadline is not None:
            deadline = min(deadline, c.urgent_deadline)
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
                needs=[_label(n) for n in c.needs],
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


# ------------------------------------------------------------------ matching


def _select(scenario: Scenario, refs: Sequence[str]) -> Scenario:
    keep = set(refs)
    return dataclasses.replace(
        scenario,
        children=tuple(c for c in scenario.children if c.ref in keep),
        bundles=tuple(b for b in scenario.bundles if all(r in keep for r, _ in b.members)),
    )


def run_matching(
    sessions: sessionmaker[Session],
    user: Principal,
    params: RunParams,
    *,
    today: dt.date,
    progress: Progress,
    explain_budget_s: float = EXPLAIN_BUDGET_S,
) -> RunOutcome:
    progress("Gegevens ophalen", 10)
    with sessions.begin() as session:
        scenario = scenario_from_db(
            session, user.store(), evaluation_date=today, region_code=user.region_code
        )
        names = {ext: name for ext, name in session.execute(select(Provider.ext_id, Provider.name))}
    scenario = _select(scenario, params.refs)
    progress("Rekenen", 35)
    compiled = compile_scenario(scenario)
    pinned: list[tuple[str, str]] = []
    forbidden: list[tuple[str, str]] = []
    arcs_by_item: dict[str, list[tuple[str, str]]] = {}
    for info in compiled.arcs:
        arcs_by_item.setdefault(info.item, []).append(
            (info.offering, f"{info.offering}@{info.group}")
        )
    for pin in params.pins:
        item = compiled.item_of(pin.child_ref, pin.need_id)
        options = [opt for off, opt in arcs_by_item.get(item, []) if opt == pin.option]
        pinned.extend((item, opt) for opt in options[:1])
    for forbid in params.forbids:
        item = compiled.item_of(forbid.child_ref, forbid.need_id)
        forbidden.extend(
            (item, opt) for off, opt in arcs_by_item.get(item, []) if off == forbid.offering
        )
    if pinned or forbidden:
        compiled = dataclasses.replace(
            compiled, problem=compiled.problem.with_pins(pinned=pinned, forbidden=forbidden)
        )
    result = match(scenario, compiled=compiled)
    progress("Uitleg zoeken voor kinderen zonder plek", 65)
    explanation = explain(result, time_budget_s=explain_budget_s)
    progress("Uitkomst klaarzetten", 95)

    offerings = scenario.offering_by_id
    gemeenten = catalogue.gemeenten()
    option_of = {
        (ref, nid): opt
        for item, opt in result.solution.assignments.items()
        for ref, nid in compiled.item_members[item]
    }
    pins = {(p.child_ref, p.need_id) for p in params.pins}
    forbids: dict[tuple[str, str], list[str]] = {}
    for f in params.forbids:
        forbids.setdefault((f.child_ref, f.need_id), []).append(f.offering)
    rows: list[NeedRow] = []
    for (ref, nid), p in result.placements.items():
        o = offerings[p.offering]
        g = gemeenten.get(o.location_gemeente)
        rows.append(
            NeedRow(
                child_ref=ref,
                need_id=nid,
                care_type_label=_label(p.care_type),
                placed=True,
                offering=p.offering,
                option=option_of.get((ref, nid)),
                provider=names.get(p.provider, p.provider),
                location=g.name if g else o.location_gemeente,
                start=p.start,
                deadline=p.deadline,
                within_norm=p.within_norm,
                via_main_contractor=names.get(p.via_main_contractor, p.via_main_contractor)
                if p.via_main_contractor
                else None,
                pinned=(ref, nid) in pins,
                forbidden=forbids.get((ref, nid), []),
            )
        )

    def offering_name(offering_id: str | None) -> str:
        o = offerings.get(offering_id or "")
        if o is None:
            return offering_id or ""
        g = gemeenten.get(o.location_gemeente)
        return f"{names.get(o.provider, o.provider)} ({g.name if g else o.location_gemeente})"

    by_need = {(n.child_ref, n.need_id): n for n in explanation.needs}
    for ref, nid in result.unplaced:
        ne = by_need.get((ref, nid))
        need = scenario.child_by_ref[ref].need(nid)
        change = ne.smallest_change if ne else None
        rows.append(
            NeedRow(
                child_ref=ref,
                need_id=nid,
                care_type_label=_label(need.care_type.value),
                placed=False,
                forbidden=forbids.get((ref, nid), []),
                summary=ne.summary if ne else "",
                sentences=sentences(ne, offering_name) if ne else [],
                smallest_change=(
                    f"Kleinste verandering gevonden bij {offering_name(change.placed_at)}"
                    if change
                    else None
                ),
            )
        )
    rows.sort(key=lambda r: (r.placed, r.child_ref, r.need_id))
    s = result.summary()
    return RunOutcome(
        summary=RunSummary(
            needs=s["needs"],
            placed=s["placed"],
            within_norm=s["within_norm"],
            unplaced=s["unplaced"],
            solver_status=str(s["solver_status"]),
            wall_time_s=float(s["wall_time_s"]),
            strategy=str(s["strategy"]),
        ),
        rows=rows,
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
        return "Niet in deze run"
    if not row.placed:
        return "Geen plek"
    return f"{row.provider} ({row.location}), start {row.start:%d-%m-%Y}"


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
                "geplaatst" if r.placed else "geen plek",
                r.provider or "",
                r.location or "",
                r.start.isoformat() if r.start else "",
                r.deadline.isoformat() if r.deadline else "",
                "ja" if r.within_norm else "nee",
                r.via_main_contractor or "",
                " ".join(r.sentences),
            ]
        )
    return rows
