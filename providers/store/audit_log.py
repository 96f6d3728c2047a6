"""Reading the audit log and the import history, for beheer (and each user's own imports).

The audit log itself is written by `providers.store.access.audit`; this module only
reads it, filtered and a page at a time. Exporting it is written to the log too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session

from providers.store.access import AccessDenied, Principal, audit
from providers.store.models import AuditAction, AuditEntry, ImportBatch, Role

# The most rows one CSV export of the audit log holds; narrow the filter for more.
EXPORT_MAX_ROWS = 50_000


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    role: str = ""
    ref: str = ""  # a case or child ref (or an id) in the entry's record list
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    entity: str
    record_count: int
    record_refs: str
    detail: str


@dataclass(frozen=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    total: int
    page: int
    pages: int


def _only_beheer(principal: Principal) -> None:
    if principal.role is not Role.BEHEER:
        raise AccessDenied("Alleen beheer kan het logboek bekijken.")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(f: AuditFilter) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = []
    if f.actor:
        cond.append(AuditEntry.actor == f.actor)
    if f.role:
        cond.append(AuditEntry.role == f.role)
    if f.action:
        cond.append(AuditEntry.action == f.action)
    if f.ref:
        # Refs are stored comma-separated; match a whole ref, never a part of one.
        padded = literal(",") + AuditEntry.record_refs + literal(",")
        cond.append(padded.like(f"%,{_escape_like(f.ref)},%", escape="\\"))
    if f.since is not None:
        cond.append(AuditEntry.at >= dt.datetime.combine(f.since, dt.time(), tzinfo=dt.UTC))
    if f.until is not None:
        end = dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        cond.append(AuditEntry.at < end)
    return cond


def _row(e: AuditEntry) -> AuditRow:
    at = e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)
    return AuditRow(
        e.id, at, e.actor, e.role, e.action, e.entity, e.record_count, e.record_refs, e.detail
    )


def search_audit(
    session: Session, principal: Principal, f: AuditFilter, *, page: int = 1, per_page: int = 50
) -> AuditPage:
    """One page of audit entries matching `f`, newest first (beheer only)."""
    _only_beheer(principal)
    cond = _conditions(f)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*cond)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    q = (
        select(AuditEntry)
        .where(*cond)
        .order_by(AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return AuditPage(tuple(_row(e) for e in session.scalars(q)), total, page, pages)


def export_audit(session: Session, principal: Principal, f: AuditFilter) -> list[AuditRow]:
    """Every matching entry (at most EXPORT_MAX_ROWS), newest first; the export itself is
    written to the audit log. The caller commits."""
    _only_beheer(principal)
    q = select(AuditEntry).where(*_conditions(f)).order_by(AuditEntry.id.desc())
    rows = [_row(e) for e in session.scalars(q.limit(EXPORT_MAX_ROWS))]
    audit(
        session,
        principal,
        AuditAction.EXPORT,
        "audit_log",
        count=len(rows),
        detail="formaat=csv",
    )
    session.flush()
    return rows


def audit_actors(session: Session, principal: Principal) -> list[str]:
    """The usernames that occur in the log, for the filter's choice list."""
    _only_beheer(principal)
    return list(session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)))


@dataclass(frozen=True)
class BatchRow:
    id: int
    at: dt.datetime
    actor: str
    files: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def import_batches(session: Session, principal: Principal, *, limit: int = 50) -> list[BatchRow]:
    """Earlier imports, newest first: beheer sees all, anyone else only their own."""
    q = select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)
    if principal.role is not Role.BEHEER:
        q = q.where(ImportBatch.actor == principal.username)
    out = []
    for b in session.scalars(q):
        try:
            counts = {str(k): int(v) for k, v in json.loads(b.counts or "{}").items()}
        except (ValueError, TypeError, AttributeError):
            counts = {}
        at = b.at if b.at.tzinfo else b.at.replace(tzinfo=dt.UTC)
        out.append(BatchRow(b.id, at, b.actor, b.files, counts))
    return out
