"""Rapportage: the uniforme uitvraag as a momentopname of today, as a page and as CSV.

The report and the flows between stored momentopnames are the use case
``services.uitvraag.report``; this view puts them into words, with the inspection
definition always shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.caretypes import care_type_label
from providers import reference
from services import uitvraag
from services.exports import frame_sheet
from services.frames import REPORT_COLUMNS, to_frame
from services.norm import NORM_STATUS_TEXT, norm_status_text
from services.outcomes import GroupOutcomes
from services.uitvraag import SnapshotInfo
from wijzer.auth import SessionUser

# the words live with the norm's other texts; the names stay for this page's callers
STATUS_TEXT = NORM_STATUS_TEXT
norm_text = norm_status_text


class ChildRow(BaseModel):
    child_ref: str
    gi: str
    gemeente: str
    measure: str
    ruling_date: str
    days_since_ruling: int
    deadline: str
    norm_status: str
    days_late: int
    care_types: list[str]
    obstacles: list[str]
    decisive: str | None = None  # the tafel run's decisive sentence; obstacles are detail
    declines: int = 0  # no's from providers recorded in the referral loop


class Section(BaseModel):
    key: str
    label: str
    waiting: int
    care_types: dict[str, int]
    obstacles: dict[str, int]
    norm_status: dict[str, int]


class FlowRow(BaseModel):
    """One month between two stored momentopnames (matcher.domain.uitvraag.reconcile)."""

    from_date: dt.date
    count_date: dt.date
    stock_start: int
    inflow_new_measures: int
    inflow_newly_reported: int
    started: int
    cancelled: int
    unexplained: int
    other_outflow: int
    stock_end: int
    balanced: bool


class ReportContext(BaseModel):
    count_date: dt.date
    region: str
    definitions: dict[str, str]
    children: list[ChildRow]
    by_gemeente: list[Section]
    by_gi: list[Section]
    flows: list[FlowRow] = []
    flow_note: str
    groups: GroupOutcomes | None = None
    # the per-child download, written from the report's frame (services.frames)
    export_rows: list[list[Any]] = []


def _care_label(code: str) -> str:
    return care_type_label(code)


def _sections(raw: dict[str, dict[str, Any]], labels: dict[str, str]) -> list[Section]:
    return [
        Section(
            key=key,
            label=labels.get(key, key),
            waiting=int(v["a_waiting"]),
            care_types={_care_label(k): n for k, n in v["b_care_types"].items()},
            obstacles=dict(v["c_obstacles"]),
            norm_status={STATUS_TEXT.get(k, "Onbekend"): n for k, n in v["norm_status"].items()},
        )
        for key, v in raw.items()
    ]


def report(sessions: sessionmaker[Session], user: SessionUser, *, today: dt.date) -> ReportContext:
    result = uitvraag.report(sessions, user, uitvraag.ReportRequest(today=today))
    flows = []
    for from_date, f in result.flows:
        out = dict(f.outflow)
        started = out.pop("STARTED", 0) + out.pop("ALTERNATIVE_ACCEPTED", 0)
        unexplained = out.pop("UNEXPLAINED", 0)
        cancelled = sum(n for k, n in list(out.items()) if k.startswith("CANCELLED"))
        other = sum(n for k, n in out.items() if not k.startswith("CANCELLED"))
        flows.append(
            FlowRow(
                from_date=from_date,
                count_date=f.count_date,
                stock_start=f.stock_start,
                inflow_new_measures=f.inflow_new_measures,
                inflow_newly_reported=f.inflow_newly_reported,
                started=started,
                cancelled=cancelled,
                unexplained=unexplained,
                other_outflow=other,
                stock_end=f.stock_end,
                balanced=f.balanced,
            )
        )
    region = result.region
    built = result.report
    gemeenten = {code: g.name for code, g in reference.gemeenten().items()}
    gis = {code: c.label for code, c in reference.gis().items()}
    measures = {c.get("matcher"): c.label for c in reference.measures().values()}
    children = [
        ChildRow(
            child_ref=r["child_ref"],
            gi=gis.get(r["gi"], r["gi"]),
            gemeente=gemeenten.get(r["gemeente"], r["gemeente"]),
            measure=measures.get(r["measure"], r["measure"]),
            ruling_date=r["ruling_date"],
            days_since_ruling=r["days_since_ruling"],
            deadline=r["deadline"],
            norm_status=norm_text(r["norm_status"], int(r.get("days_late", 0))),
            days_late=int(r.get("days_late", 0)),
            care_types=[_care_label(c) for c in r["care_types"]],
            obstacles=list(r["obstacles"]),
            decisive=r.get("decisive_text"),
            declines=int(r.get("declines", 0)),
        )
        for r in built.rows
    ]
    children.sort(key=lambda c: (c.deadline, c.child_ref))
    return ReportContext(
        groups=result.groups,
        export_rows=frame_sheet(to_frame(result))[1],
        count_date=built.count_date,
        region=region,
        definitions=built.definitions,
        children=children,
        by_gemeente=_sections(built.by_gemeente, gemeenten),
        by_gi=_sections(built.by_gi, gis),
        flows=flows,
        flow_note=(
            "Voorraad, instroom en uitstroom komen uit de bewaarde maandelijkse momentopnames "
            "(de knop Momentopname bewaren hieronder). Instroom is een nieuwe maatregel, of "
            "een kind dat al wachtte maar nieuw gemeld is. Uitstroom: gestart, afgemeld, of zonder "
            "bekende reden van de lijst."
            if flows
            else "Er zijn nog geen twee momentopnames bewaard, dus instroom en uitstroom per "
            "maand zijn er nog niet. Bewaar elke maand een momentopname met de knop "
            "Momentopname bewaren hieronder."
        ),
    )


CSV_COLUMNS = REPORT_COLUMNS


def csv_rows(ctx: ReportContext) -> list[list[object]]:
    return [list(r) for r in ctx.export_rows]


class SnapshotResult(BaseModel):
    region: str
    count_date: dt.date
    waiting: int
    exits: int


def snapshot_result(info: SnapshotInfo) -> SnapshotResult:
    """What a just-taken momentopname holds ("*" is every region: beheer's own)."""
    region = uitvraag.ALL_REGIONS_LABEL if info.region_code == "*" else info.region_code
    return SnapshotResult(
        region=region, count_date=info.count_date, waiting=info.waiting, exits=info.exits
    )
