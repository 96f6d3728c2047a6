"""Monthly momentopnames of the uniforme uitvraag, kept so stock and inflow/outflow
per month can be reported (matcher.domain.uitvraag has the counting rules).

`take_snapshot` stores who waits on a count date (pseudonymous refs, through the
scoped, audited waiting list) and, for the children of the previous snapshot who
left the list since, how they left (started = placed, closed = cancelled).
`monthly_flows` reconciles consecutive snapshots: stock at the start, new measures,
newly reported (already waiting but not on the previous list), outflow by kind,
stock at the end. Run it once a month (`python -m providers uitvraag`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.domain import CareType, MeasureType
from matcher.domain.uitvraag import Exit, ExitKind, MonthFlow, Snapshot, WaitingRecord, reconcile
from providers import reference
from providers.store.access import AccessDenied, Principal, audit, waiting_list
from providers.store.models import AuditAction, Child, ChildStatus, Role, UitvraagSnapshot

ALL_REGIONS = "*"


@dataclass(frozen=True)
class SnapshotInfo:
    region_code: str
    count_date: dt.date
    waiting: int
    exits: int


def _scope(principal: Principal, region_code: str | None) -> str:
    if principal.role is Role.BEHEER:
        return region_code or ALL_REGIONS
    if principal.role is Role.TAFEL and principal.region_code:
        if region_code and region_code != principal.region_code:
            raise AccessDenied("U ziet alleen cijfers van uw eigen regio.")
        return principal.region_code
    raise AccessDenied("Deze rol maakt of ziet geen momentopnames van de wachtlijst.")


def take_snapshot(
    session: Session,
    principal: Principal,
    *,
    count_date: dt.date,
    region_code: str | None = None,
) -> SnapshotInfo:
    """Store (or replace) the momentopname of `count_date` for the principal's region."""
    scope = _scope(principal, region_code)
    measures = {code: info.get("matcher") for code, info in reference.measures().items()}
    children = [
        c
        for c in waiting_list(session, principal, purpose="uitvraag: momentopname")
        if scope == ALL_REGIONS or c.region_code == scope
    ]
    records = [
        {
            "child_ref": c.ref,
            "gi": c.gi,
            "gemeente": c.gemeente_code,
            "measure": measures.get(c.measure, c.measure),
            "ruling_date": c.ruling_date.isoformat(),
            "care_types": sorted(c.needs),
            "urgent_deadline": c.urgent_deadline.isoformat() if c.urgent_deadline else None,
        }
        for c in children
    ]
    previous = session.scalar(
        select(UitvraagSnapshot)
        .where(UitvraagSnapshot.region_code == scope, UitvraagSnapshot.count_date < count_date)
        .order_by(UitvraagSnapshot.count_date.desc())
        .limit(1)
    )
    exits: list[dict[str, str]] = []
    if previous is not None:
        now_refs = {c.ref for c in children}
        gone = [r["child_ref"] for r in json.loads(previous.records)]
        gone = [ref for ref in gone if ref not in now_refs]
        rows = session.execute(
            select(Child.ref, Child.status, Child.placed_at, Child.closed_at).where(
                Child.ref.in_(gone)
            )
        )
        for ref, status, placed_at, closed_at in rows:
            if status == ChildStatus.PLACED.value and placed_at is not None:
                exits.append({"child_ref": ref, "kind": "STARTED", "on": placed_at.isoformat()})
            elif status == ChildStatus.CLOSED.value and closed_at is not None:
                exits.append({"child_ref": ref, "kind": "CANCELLED", "on": closed_at.isoformat()})
        # Children removed by the retention job or without a recorded end stay
        # unexplained: reconcile() counts them as such, so the balance never hides them.
    row = session.scalar(
        select(UitvraagSnapshot).where(
            UitvraagSnapshot.region_code == scope, UitvraagSnapshot.count_date == count_date
        )
    )
    if row is None:
        row = UitvraagSnapshot(region_code=scope, count_date=count_date)
        session.add(row)
    row.taken_by = principal.username
    row.waiting = len(records)
    row.records = json.dumps(records, sort_keys=True)
    row.exits = json.dumps(exits, sort_keys=True)
    audit(
        session,
        principal,
        AuditAction.WRITE,
        "uitvraag_snapshots",
        count=len(records),
        detail=f"momentopname {scope} {count_date.isoformat()}",
    )
    session.flush()
    return SnapshotInfo(scope, count_date, len(records), len(exits))


def _snapshot(row: UitvraagSnapshot) -> Snapshot:
    records = tuple(
        WaitingRecord(
            request_id=r["child_ref"],
            child_ref=r["child_ref"],
            gi=r["gi"],
            gemeente=r["gemeente"],
            measure=MeasureType(r["measure"]),
            ruling_date=dt.date.fromisoformat(r["ruling_date"]),
            care_types=tuple(CareType(c) for c in r["care_types"]),
            urgent_deadline=(
                dt.date.fromisoformat(r["urgent_deadline"]) if r["urgent_deadline"] else None
            ),
        )
        for r in json.loads(row.records)
    )
    exits = tuple(
        Exit(child_ref=e["child_ref"], kind=ExitKind(e["kind"]), on=dt.date.fromisoformat(e["on"]))
        for e in json.loads(row.exits)
    )
    return Snapshot(count_date=row.count_date, region=row.region_code, records=records, exits=exits)


def monthly_flows(
    session: Session, principal: Principal, *, region_code: str | None = None
) -> list[tuple[dt.date, MonthFlow]]:
    """Stock and inflow/outflow between each pair of consecutive snapshots (oldest
    first), each with the count date of the snapshot it starts from."""
    scope = _scope(principal, region_code)
    rows = session.scalars(
        select(UitvraagSnapshot)
        .where(UitvraagSnapshot.region_code == scope)
        .order_by(UitvraagSnapshot.count_date)
    ).all()
    snaps = [_snapshot(r) for r in rows]
    return [(a.count_date, reconcile(a, b)) for a, b in itertools.pairwise(snaps)]
