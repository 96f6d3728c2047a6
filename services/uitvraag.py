"""Use cases of the uniforme uitvraag: the report of today, and the monthly
momentopname that inflow and outflow are counted from.

(a) which children wait, (b) for which help, (c) which obstacles, per gemeente
and per GI.  The report itself is ``matcher.domain.uitvraag.build_report``.  A child
that a matching of today's list leaves without a place gets one decisive reason, the
one the tafel run shows (``matcher.domain.decisive``); the obstacles per child (the
domain's eligibility reasons when no offering fits) stay as detail.
Snapshots are stored and read by the data layer (``providers.store.uitvraag``),
which also decides who may take or see them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.domain import Scenario
from matcher.domain.decisive import Decisive
from matcher.domain.eligibility import evaluate
from matcher.domain.explain import explain
from matcher.domain.match import MatchResult, match
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


def decisive_label(d: Decisive) -> str:
    """The decisive reason in a few words, the same for every child it holds for (so
    that it can be counted per gemeente and GI): the catalogue's sentence of the
    reason, or of the summary when no single reason decides."""
    return reason_text(d.reason) if d.reason is not None else summary_text(d.code)


def decisive_reasons(result: MatchResult) -> dict[str, Decisive]:
    """Per child without a place in the matching: the decisive reason of its first
    unplaced need, as the tafel run explains it (no search for what would help)."""
    out: dict[str, Decisive] = {}
    order = {(c.ref, n.id): i for c in result.scenario.children for i, n in enumerate(c.needs)}
    needs = explain(result, search=False).needs
    for ne in sorted(needs, key=lambda n: (n.child_ref, order.get((n.child_ref, n.need_id), 0))):
        if ne.decisive is not None and ne.child_ref not in out:
            out[ne.child_ref] = ne.decisive
    return out


def waiting_records(
    scenario: Scenario,
    result: MatchResult | None = None,
    loop: Mapping[str, LoopFacts] | None = None,
) -> tuple[WaitingRecord, ...]:
    """A record per waiting child with a ruling: the decisive reason when the matching
    `result` (of today's list; made here when not given) leaves it without a place, and
    as detail the obstacles of needs that no offering fits.  With `loop` (the referral
    loop's facts per case) the providers' recorded no's are counted per child; help
    that has really started is not in the scenario (the converter leaves it out)."""
    eligibility = evaluate(scenario)
    decisive = decisive_reasons(result if result is not None else match(scenario))
    records = []
    for child in scenario.children:
        facts = (loop or {}).get(child.ref)
        obstacles: set[str] = set()
        for need in child.needs:
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
                care_types=tuple(n.care_type for n in child.needs),
                obstacles=tuple(sorted(obstacles)),
                urgent_deadline=child.urgent_deadline,
                declines=facts.declines if facts else 0,
                decisive=decisive_label(d) if (d := decisive.get(child.ref)) else None,
                decisive_text=d.text if d else None,
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
    matched = match(scenario)
    records = waiting_records(scenario, matched, loop)
    snap = Snapshot(count_date=req.today, region=region, records=records)
    return ReportResult(
        region=region,
        report=build_report(snap),
        flows=tuple(flows),
        groups=group_outcomes(matched),
    )


def snapshot(session: Session, user: Principal, req: SnapshotRequest) -> SnapshotInfo:
    """Store (or replace) the momentopname of the count date; the caller commits."""
    return take_snapshot(session, user, count_date=req.count_date, region_code=req.region)
