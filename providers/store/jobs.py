"""Background jobs in the database, with who may see which and a quota per user.

- tafel: the matching runs of its own region (any table member's, never inkoop's);
- inkoop: the scenarios and purchase advice of its own region;
- beheer: every job;
- other roles: none.

A job of another kind or another region is answered as "not found", exactly like
an unknown id, so an id says nothing about what exists. Each user may have at most
`max_active` jobs waiting or running; above `max_stored` jobs the user's oldest
finished ones are removed (never another user's, never a running one).

The worker that runs a job writes its progress and result with the `mark_*`
functions: it acts for a job it was given, so those take the job id, not a
principal. Parameters and results are JSON text; the caller owns their models.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from providers.errors import ProvidersError
from providers.store.access import Principal
from providers.store.models import Account, JobRow, Role, utcnow


class JobKind(StrEnum):
    TAFEL_RUN = "tafel_matching"
    INKOOP_SCENARIO = "inkoop_scenario"
    INKOOP_ADVICE = "inkoop_advies"


class JobStatus(StrEnum):
    QUEUED = "wacht"
    RUNNING = "bezig"
    DONE = "klaar"
    FAILED = "mislukt"
    INTERRUPTED = "onderbroken"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.INTERRUPTED)
# The role whose pages show a kind; beheer sees every kind.
KIND_ROLE: dict[JobKind, Role] = {
    JobKind.TAFEL_RUN: Role.TAFEL,
    JobKind.INKOOP_SCENARIO: Role.INKOOP,
    JobKind.INKOOP_ADVICE: Role.INKOOP,
}
MAX_ACTIVE = 3
MAX_STORED = 50
MAX_NAME = 200
STEP_QUEUED = "In de wachtrij"
STEP_INTERRUPTED = "Onderbroken: de server is opnieuw gestart"
STEP_LOST = "Onderbroken: de server die deze berekening deed, reageert niet meer"
# A server writes the heartbeat of its jobs every HEARTBEAT_EVERY_S; a waiting or
# running job whose heartbeat is older than HEARTBEAT_STALE_S lost its server and is
# shown as interrupted by whoever reads it (another server on the same database too).
HEARTBEAT_EVERY_S = 10.0
HEARTBEAT_STALE_S = 60.0


class JobQuotaExceeded(ProvidersError):
    """The user already has as many jobs waiting or running as allowed."""


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: JobKind
    owner: str
    role: Role
    region_code: str | None
    name: str
    params: str
    status: JobStatus
    step: str
    percent: int
    result: str | None
    error: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    server_id: str | None = None
    heartbeat_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _stale(row: JobRow, now: dt.datetime, stale_after_s: float) -> bool:
    """A waiting or running job whose server has not written its heartbeat lately."""
    if row.status not in (JobStatus.QUEUED.value, JobStatus.RUNNING.value):
        return False
    beat = row.heartbeat_at or row.started_at or row.created_at
    return _aware(beat) < now - dt.timedelta(seconds=stale_after_s)


def _record(row: JobRow, stale_after_s: float = HEARTBEAT_STALE_S) -> JobRecord:
    lost = row.server_id is not None and _stale(row, utcnow(), stale_after_s)
    return JobRecord(
        id=row.id,
        kind=JobKind(row.kind),
        owner=row.owner,
        role=Role(row.role),
        region_code=row.region_code,
        name=row.title,
        params=row.params,
        status=JobStatus.INTERRUPTED if lost else JobStatus(row.status),
        step=STEP_LOST if lost else row.step,
        percent=row.percent,
        result=row.result,
        error=row.error,
        created_at=_aware(row.created_at),
        started_at=_aware(row.started_at) if row.started_at else None,
        finished_at=_aware(row.finished_at) if row.finished_at else None,
        server_id=row.server_id,
        heartbeat_at=_aware(row.heartbeat_at) if row.heartbeat_at else None,
    )


def may_start(principal: Principal, kind: JobKind) -> bool:
    return principal.role is Role.BEHEER or KIND_ROLE[kind] is principal.role


def _visible(principal: Principal, kinds: Collection[JobKind]) -> ColumnElement[bool]:
    wanted = [k.value for k in kinds if may_start(principal, k)]
    if not wanted:
        return JobRow.id.is_(None)  # the primary key is never NULL: no rows
    condition: ColumnElement[bool] = JobRow.kind.in_(wanted)
    if principal.role is Role.BEHEER:
        return condition
    if principal.region_code is None:
        return JobRow.id.is_(None)
    return condition & (JobRow.region_code == principal.region_code)


def active_text(n: int) -> str:
    return (
        f"{n} berekening die wacht of bezig is"
        if n == 1
        else (f"{n} berekeningen die wachten of bezig zijn")
    )


def create(
    session: Session,
    principal: Principal,
    kind: JobKind,
    name: str,
    params: str,
    *,
    max_active: int = MAX_ACTIVE,
    max_stored: int = MAX_STORED,
    server_id: str | None = None,
) -> JobRecord:
    """Store a new waiting job for the principal, within the quota; `server_id` is
    the server that will run it (its heartbeat starts now)."""
    if not may_start(principal, kind):
        raise PermissionError(f"{principal.role} may not start {kind}")
    # Two requests of one user at the same moment would both count the same active
    # jobs; locking the user's account row makes the second wait for the first
    # (PostgreSQL; SQLite has one writer at a time anyway).
    session.execute(
        select(Account.id).where(Account.username == principal.username).with_for_update()
    )
    active = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(JobRow.owner == principal.username, JobRow.status.in_([s.value for s in ACTIVE]))
    )
    if (active or 0) >= max_active:
        raise JobQuotaExceeded(
            f"{principal.username} has {active} active jobs (at most {max_active})",
            user_message=(
                f"U heeft al {active_text(active or 0)}. "
                f"Dat is het maximum. Wacht tot er een klaar is en probeer het dan opnieuw."
            ),
        )
    row = JobRow(
        id=secrets.token_urlsafe(12),
        kind=kind.value,
        owner=principal.username,
        role=principal.role.value,
        organisation_id=principal.organisation_id,
        region_code=principal.region_code,
        title=name.strip()[:MAX_NAME],
        params=params,
        status=JobStatus.QUEUED.value,
        step=STEP_QUEUED,
        percent=0,
        error="",
        created_at=utcnow(),
        server_id=server_id,
        heartbeat_at=utcnow() if server_id else None,
    )
    session.add(row)
    session.flush()
    _trim(session, principal.username, max_stored)
    return _record(row)


def _trim(session: Session, owner: str, max_stored: int) -> None:
    """Remove the owner's oldest finished jobs above the cap (never active ones)."""
    total = session.scalar(select(func.count()).select_from(JobRow).where(JobRow.owner == owner))
    excess = (total or 0) - max_stored
    if excess <= 0:
        return
    oldest = session.scalars(
        select(JobRow.id)
        .where(JobRow.owner == owner, JobRow.status.in_([s.value for s in FINISHED]))
        .order_by(JobRow.created_at, JobRow.id)
        .limit(excess)
    ).all()
    if oldest:
        session.execute(delete(JobRow).where(JobRow.id.in_(oldest)))


def get(
    session: Session,
    principal: Principal,
    job_id: str,
    kinds: Collection[JobKind],
    *,
    stale_after_s: float = HEARTBEAT_STALE_S,
) -> JobRecord | None:
    """The job if it exists, is of one of `kinds` and the principal may see it."""
    row = session.scalar(select(JobRow).where(JobRow.id == job_id, _visible(principal, kinds)))
    return _record(row, stale_after_s) if row is not None else None


def listing(
    session: Session,
    principal: Principal,
    kinds: Collection[JobKind],
    *,
    limit: int = 50,
    stale_after_s: float = HEARTBEAT_STALE_S,
) -> list[JobRecord]:
    """The visible jobs of these kinds, newest first."""
    rows = session.scalars(
        select(JobRow)
        .where(_visible(principal, kinds))
        .order_by(JobRow.created_at.desc(), JobRow.id)
        .limit(limit)
    ).all()
    return [_record(r, stale_after_s) for r in rows]


# --------------------------------------------------------------- the worker's side


def mark_running(session: Session, job_id: str) -> None:
    now = utcnow()
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id)
        .values(
            status=JobStatus.RUNNING.value,
            started_at=now,
            heartbeat_at=now,
            step="Gestart",
            percent=0,
        )
    )


def heartbeat(session: Session, server_id: str) -> int:
    """The server `server_id` is alive: its waiting and running jobs get a new
    heartbeat. Returns how many it still has."""
    result = session.execute(
        update(JobRow)
        .where(JobRow.server_id == server_id, JobRow.status.in_([s.value for s in ACTIVE]))
        .values(heartbeat_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_progress(session: Session, job_id: str, step: str, percent: int) -> None:
    # A job on a cluster may outlive a restart of the web server: its progress
    # makes an "onderbroken" job running again.
    session.execute(
        update(JobRow)
        .where(
            JobRow.id == job_id,
            JobRow.status.in_([JobStatus.RUNNING.value, JobStatus.INTERRUPTED.value]),
        )
        .values(
            status=JobStatus.RUNNING.value,
            step=step[:200],
            percent=max(0, min(100, percent)),
            heartbeat_at=utcnow(),
        )
    )


def mark_done(session: Session, job_id: str, result: str) -> None:
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id)
        .values(
            status=JobStatus.DONE.value,
            step="Klaar",
            percent=100,
            result=result,
            finished_at=utcnow(),
        )
    )


def mark_failed(session: Session, job_id: str, error: str) -> None:
    """`error` is for the log and beheer (an exception's class name), never shown to users."""
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.status != JobStatus.DONE.value)
        .values(
            status=JobStatus.FAILED.value,
            step="Het rekenen is mislukt",
            error=error[:200],
            finished_at=utcnow(),
        )
    )


def interrupt_unfinished(
    session: Session,
    kinds: Sequence[JobKind] = tuple(JobKind),
    *,
    stale_after_s: float | None = None,
) -> int:
    """At start-up: waiting or running jobs without a server (a server that stopped)
    are interrupted. With `stale_after_s`, only those whose server's heartbeat is older
    than that, or that no server claims: another live server's jobs go on."""
    condition: ColumnElement[bool] = JobRow.status.in_([s.value for s in ACTIVE]) & JobRow.kind.in_(
        [k.value for k in kinds]
    )
    if stale_after_s is not None:
        before = utcnow() - dt.timedelta(seconds=stale_after_s)
        condition = condition & (
            JobRow.server_id.is_(None)
            | JobRow.heartbeat_at.is_(None)
            | (JobRow.heartbeat_at < before)
        )
    result = session.execute(
        update(JobRow)
        .where(condition)
        .values(status=JobStatus.INTERRUPTED.value, step=STEP_INTERRUPTED, finished_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
