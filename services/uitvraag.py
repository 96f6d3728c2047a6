"""Use cases of the uniforme uitvraag: the report of today, and the monthly
momentopname that inflow and outflow are counted from.

(a) which children wait, (b) for which help, (c) which obstacles, per gemeente
and per GI.  The report itself is ``matcher.domain.uitvraag.build_report``; the
obstacles per child are the domain's eligibility reasons when no offering fits.
Snapshots are stored and read by the data layer (``providers.store.uitvraag``),
which also decides who may take or see them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.domain import Scenario
from matcher.domain.eligibility import evaluate
from matcher.domain.match import match
from matcher.domain.reasons import Reason, reason_text, summary_text
from matcher.domain.uitvraag import MonthFlow, Snapshot, UitvraagReport, WaitingRecord, build_report
from providers.convert import scenario_from_db
from providers.store.aanmeldingen import LoopFacts, loop_facts
from providers.store.access import Principal
from providers.store.uitvraag import SnapshotInfo as SnapshotInfo
from providers.store.uitvraag import monthly_flows, take_snapshot
from services.outcomes import GroupOutcomes, group_outcomes

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

ALL_REGIONS_LABEL = "alle regio's"
# No offering of the care type at all: the catalogue's summary, not a per-offering reason.
NOT_OFFERED = summary_text(Reason.NO_PROVIDER_OFFERS_CARE_TYPE.value)


@dataclass(frozen=True)
class ReportRequest:
    today: dt.date
    region: str | None = None  # None: the user's own region (beheer: every region)


@dataclass(frozen=True)
class ReportResult:
    region: str
    report: UitvraagReport
    flows: tuple[tuple[dt.date, MonthFlow], ...]  # (from date, the month after it)
    # what a matching of today's list would give per group, next to first come, first
    # served (the report's rows are per child, so no cell is hidden here)
    groups: GroupOutcomes | None = None


@dataclass(frozen=True)
class SnapshotRequest:
    count_date: dt.date
    region: str | None = None


def waiting_records(
    scenario: Scenario, loop: Mapping[str, LoopFacts] | None = None
) -> tuple[WaitingRecord, ...]:
    """A record per waiting child with a ruling, with the obstacles of needs that no
    offering fits.  With `loop` (the referral loop's facts per case), help that has
    really started is no longer help the child waits for, and the providers' recorded
    no's are counted per child."""
    eligibility = evaluate(scenario)
    records = []
    for child in scenario.children:
        facts = (loop or {}).get(child.ref)
        started = list(facts.started) if facts else []
        awaited = []
        for n in child.needs:
            if n.care_type.value in started:
                started.remove(n.care_type.value)
                continue
            awaited.append(n)
        obstacles: set[str] = set()
        for need in awaited:
            checks = eligibility.pairs.get((child.ref, need.id), [])
            if not checks:
                obstacles.add(NOT_OFFERED)
            elif not any(c.eligible for c in checks):
                obstacles.update(reason_text(c.reason) for c in checks if c.reason is not None)
        if child.ruling_date is None:
            continue
        records.append(
            WaitingRecord(
                request_id=child.ref,
                child_ref=child.ref,
                gi=child.gi,
                gemeente=child.gemeente,
                measure=child.measure,
                ruling_date=child.ruling_date,
                care_types=tuple(n.care_type for n in awaited),
                obstacles=tuple(sorted(obstacles)),
                urgent_deadline=child.urgent_deadline,
                declines=facts.declines if facts else 0,
            )
        )
    return tuple(records)


def report(sessions: sessionmaker[Session], user: Principal, req: ReportRequest) -> ReportResult:
    """The momentopname of today and the flows between the stored ones."""
    region_code = req.region or user.region_code
    with sessions.begin() as session:  # the read of children is audited
        scenario = scenario_from_db(
            session, user, evaluation_date=req.today, region_code=region_code
        )
        flows = monthly_flows(session, user, region_code=region_code)
        loop = loop_facts(session, user, [c.ref for c in scenario.children])
    region = region_code or ALL_REGIONS_LABEL
    snap = Snapshot(count_date=req.today, region=region, records=waiting_records(scenario, loop))
    return ReportResult(
        region=region,
        report=build_report(snap),
        flows=tuple(flows),
        groups=group_outcomes(match(scenario)),
    )


def snapshot(session: Session, user: Principal, req: SnapshotRequest) -> SnapshotInfo:
    """Store (or replace) the momentopname of the count date; the caller commits."""
    return take_snapshot(session, user, count_date=req.count_date, region_code=req.region)
