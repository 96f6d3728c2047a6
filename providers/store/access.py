"""Principals, the audit log and the scoped queries of offerings and children.

Every function takes a `Principal` and returns only what that principal may
see or change; role checks live here, not in templates or routes.

- verwijzer: searches all offerings; sees the children of its own organisation.
- aanbieder: searches offerings; edits only its own provider's offerings.
- tafel: sees the waiting list of its own region (pseudonymous).
- inkoop: aggregates only, cells under `SMALL_CELL` children suppressed.
- beheer: everything, including the audit log.

Reads and writes of case data (children) and every export are written to the
append-only audit log, with pseudonymous refs but never the values.  Accounts and
passwords live in `providers.store.accounts`; counts for inkoop, with small cells
suppressed, in `providers.store.aggregates`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, select, true, update
from sqlalchemy.orm import Session

from providers.errors import ProvidersError
from providers.store import releases
from providers.store.models import (
    AuditAction,
    AuditEntry,
    Budget,
    Child,
    ChildNeed,
    ChildStatus,
    NeedClock,
    Offering,
    Provider,
    Role,
    utcnow,
)

DEFAULT_STALE_DAYS = 14
STALE_ENV = "WIJZER_STALE_AFTER_DAYS"


class AccessDenied(ProvidersError, PermissionError):
    """The principal may not do this; `user_message` is B1 Dutch for the user."""

    default_user_message = "U heeft geen toegang tot deze gegevens."


class NotFound(ProvidersError, LookupError):
    default_user_message = "Niet gevonden."


class ConflictError(ProvidersError, RuntimeError):
    """Someone else changed the record since the user loaded it (HTTP 409)."""

    def __init__(self, current_version: int, current: OfferingView | None = None) -> None:
        self.current_version = current_version
        self.current = current
        super().__init__(
            f"version conflict: the record is at version {current_version}",
            user_message=(
                "Iemand anders heeft dit aanbod net gewijzigd. Uw wijziging is niet opgeslagen. "
                "Bekijk de nieuwe cijfers en probeer het opnieuw."
            ),
        )


@dataclass(frozen=True)
class Principal:
    """Who is asking: role, organisation and the scope that follows from it."""

    username: str
    role: Role
    organisation_id: int | None
    region_code: str | None = None  # scope of tafel / inkoop / verwijzer
    provider_id: int | None = None  # for role aanbieder
    gi_code: str | None = None

    @staticmethod
    def system(username: str = "systeem") -> Principal:
        return Principal(username, Role.BEHEER, None)


# --- audit ----------------------------------------------------------------------


def audit(
    session: Session,
    principal: Principal,
    action: AuditAction,
    entity: str,
    refs: Sequence[str] = (),
    *,
    count: int | None = None,
    detail: str = "",
) -> None:
    """Append one audit entry (refs are pseudonyms or ids, never values)."""
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=principal.username,
            role=principal.role.value,
            organisation_id=principal.organisation_id,
            action=action.value,
            entity=entity,
            record_count=len(refs) if count is None else count,
            record_refs=",".join(refs)[:100_000],
            detail=detail[:400],
        )
    )


def audit_entries(session: Session, principal: Principal, limit: int = 200) -> list[AuditEntry]:
    if principal.role is not Role.BEHEER:
        raise AccessDenied()
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return list(rows)


# --- offerings --------------------------------------------------------------------


def stale_after_days() -> int:
    try:
        return int(os.environ.get(STALE_ENV, DEFAULT_STALE_DAYS))
    except ValueError:
        return DEFAULT_STALE_DAYS


def _aware(t: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; everything is stored in UTC.
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def is_stale(
    confirmed_at: dt.datetime, *, now: dt.datetime | None = None, max_age_days: int | None = None
) -> bool:
    age = (now or utcnow()) - _aware(confirmed_at)
    return age > dt.timedelta(days=stale_after_days() if max_age_days is None else max_age_days)


@dataclass(frozen=True)
class OfferingView:
    id: int
    ext_id: str
    provider_id: int
    provider_ext_id: str
    provider_name: str
    care_type: str
    gemeente_code: str
    region_code: str
    places_free: int
    release_per_week: float
    age_min: int
    age_max: int
    lvb_expertise: bool
    contra_indications: tuple[str, ...]
    intake_stop: bool
    price_cents: int
    intake_days: int
    expected_wait_days: int
    service_regions: tuple[str, ...]
    confirmed_by: str
    confirmed_at: dt.datetime
    stale: bool
    version: int
    # Places that free up on known dates; when present they replace the weekly estimate.
    release_schedule: tuple[tuple[dt.date, int], ...] = ()


def _split(s: str | None) -> tuple[str, ...]:
    return tuple(x for x in (s or "").split(",") if x)


def _view(
    o: Offering,
    p: Provider,
    now: dt.datetime,
    max_age: int | None,
    schedule: tuple[tuple[dt.date, int], ...] = (),
) -> OfferingView:
    return OfferingView(
        id=o.id,
        ext_id=o.ext_id,
        provider_id=p.id,
        provider_ext_id=p.ext_id,
        provider_name=p.name,
        care_type=o.care_type,
        gemeente_code=o.gemeente_code,
        region_code=o.region_code,
        places_free=o.places_free,
        release_per_week=o.release_per_week,
        age_min=o.age_min,
        age_max=o.age_max,
        lvb_expertise=o.lvb_expertise,
        contra_indications=_split(o.contra_indications),
        intake_stop=o.intake_stop,
        price_cents=o.price_cents,
        intake_days=o.intake_days,
        expected_wait_days=o.expected_wait_days,
        service_regions=_split(o.service_regions) or (o.region_code,),
        confirmed_by=o.confirmed_by,
        confirmed_at=_aware(o.confirmed_at),
        stale=is_stale(o.confirmed_at, now=now, max_age_days=max_age),
        version=o.version,
        release_schedule=schedule,
    )


def _views(
    session: Session,
    rows: Iterable[tuple[Offering, Provider]],
    now: dt.datetime,
    max_age: int | None,
) -> list[OfferingView]:
    pairs = list(rows)
    dated = releases.schedules(session, [o.id for o, _ in pairs])
    return [_view(o, p, now, max_age, dated.get(o.id, ())) for o, p in pairs]


def search_offerings(
    session: Session,
    principal: Principal,
    *,
    care_types: Iterable[str] | None = None,
    region_code: str | None = None,
    age: int | None = None,
    only_free: bool = False,
    now: dt.datetime | None = None,
    max_age_days: int | None = None,
    limit: int | None = None,
) -> list[OfferingView]:
    """Offerings anyone signed in may search (capacity is not case data)."""
    now = now or utcnow()
    q = select(Offering, Provider).join(Provider, Offering.provider_id == Provider.id)
    if care_types is not None:
        q = q.where(Offering.care_type.in_(list(care_types)))
    if region_code:
        q = q.where(Offering.region_code == region_code)
    if age is not None:
        q = q.where(Offering.age_min <= age, Offering.age_max >= age)
    if only_free:
        q = q.where(Offering.places_free > 0)
    q = q.order_by(Offering.id)
    if limit:
        q = q.limit(limit)
    return _views(session, [(o, p) for o, p in session.execute(q)], now, max_age_days)


def provider_names(session: Session) -> dict[str, str]:
    """Provider id (the import format's `aanbieder_id`) -> name; not case data."""
    return {ext: name for ext, name in session.execute(select(Provider.ext_id, Provider.name))}


def offerings_for_edit(session: Session, principal: Principal) -> list[OfferingView]:
    """The offerings this principal may change: an aanbieder only its own."""
    cond: ColumnElement[bool]
    if principal.role is Role.BEHEER:
        cond = true()
    elif principal.role is Role.AANBIEDER and principal.provider_id is not None:
        cond = Offering.provider_id == principal.provider_id
    else:
        raise AccessDenied("Alleen de aanbieder zelf kan dit aanbod wijzigen.")
    q = (
        select(Offering, Provider)
        .join(Provider, Offering.provider_id == Provider.id)
        .where(cond)
        .order_by(Offering.id)
    )
    return _views(session, [(o, p) for o, p in session.execute(q)], utcnow(), None)


def get_offering(session: Session, principal: Principal, offering_id: int) -> OfferingView:
    row = session.execute(
        select(Offering, Provider)
        .join(Provider, Offering.provider_id == Provider.id)
        .where(Offering.id == offering_id)
    ).first()
    if row is None:
        raise NotFound("Dit aanbod bestaat niet.")
    return _views(session, [(row[0], row[1])], utcnow(), None)[0]


EDITABLE = {
    "places_free",
    "release_per_week",
    "expected_wait_days",
    "intake_stop",
    "intake_days",
    "contra_indications",
    "lvb_expertise",
    "age_min",
    "age_max",
    "release_schedule",
}


def update_offering(
    session: Session,
    principal: Principal,
    offering_id: int,
    expected_version: int,
    changes: dict[str, object],
    *,
    now: dt.datetime | None = None,
) -> OfferingView:
    """Change places/waits of one offering if nobody changed it since `expected_version`.

    One UPDATE ... WHERE version = expected_version does the check and the
    write at once, so of two concurrent updates exactly one matches; the other
    gets `ConflictError`.  The principal confirms the new figures (who, when).
    Commits nothing: the caller commits the session.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if principal.role not in (Role.AANBIEDER, Role.BEHEER):
        raise AccessDenied("Alleen de aanbieder zelf kan dit aanbod wijzigen.")
    values: dict[str, object] = {}
    schedule = None
    for k, v in changes.items():
        if k == "release_schedule":
            schedule = releases.check_schedule(cast(Iterable[tuple[dt.date, int]], v))
        elif k == "contra_indications":
            values[k] = v if isinstance(v, str) else ",".join(cast(Iterable[str], v))
        else:
            values[k] = v
    for k in ("places_free", "expected_wait_days", "intake_days"):
        if k in values and (not isinstance(values[k], int) or int(values[k]) < 0):  # type: ignore[call-overload]
            raise ValueError(f"{k} must be a whole number >= 0")
    now = now or utcnow()
    cond = [Offering.id == offering_id, Offering.version == expected_version]
    if principal.role is Role.AANBIEDER:
        cond.append(Offering.provider_id == principal.provider_id)
    stmt = (
        update(Offering)
        .where(*cond)
        .values(
            **values,
            version=Offering.version + 1,
            confirmed_by=principal.username,
            confirmed_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    result = session.execute(stmt)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.get(Offering, offering_id, populate_existing=True)
        if current is None:
            raise NotFound("Dit aanbod bestaat niet.")
        if principal.role is Role.AANBIEDER and current.provider_id != principal.provider_id:
            raise AccessDenied("Dit aanbod is van een andere aanbieder.")
        raise ConflictError(current.version, get_offering(session, principal, offering_id))
    if schedule is not None:
        releases.replace_schedule(session, offering_id, schedule)
    audit(
        session,
        principal,
        AuditAction.WRITE,
        "offerings",
        [str(offering_id)],
        detail=",".join(sorted([*values, *(["release_schedule"] if schedule is not None else [])])),
    )
    session.flush()
    return get_offering(session, principal, offering_id)


def update_budget_spent(
    session: Session, principal: Principal, budget_id: int, expected_version: int, spent_cents: int
) -> None:
    if principal.role not in (Role.INKOOP, Role.BEHEER):
        raise AccessDenied()
    if spent_cents < 0:
        raise ValueError("spent_cents must be >= 0")
    cond = [Budget.id == budget_id, Budget.version == expected_version]
    if principal.role is Role.INKOOP and principal.region_code:
        cond.append(Budget.region_code == principal.region_code)
    res = session.execute(
        update(Budget)
        .where(*cond)
        .values(
            spent_cents=spent_cents,
            version=Budget.version + 1,
            confirmed_by=principal.username,
            confirmed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        b = session.get(Budget, budget_id, populate_existing=True)
        if b is None:
            raise NotFound()
        if (
            principal.role is Role.INKOOP
            and principal.region_code
            and b.region_code != principal.region_code
        ):
            raise AccessDenied()
        raise ConflictError(b.version)


# --- children (case data) -----------------------------------------------------------


@dataclass(frozen=True)
class ChildView:
    id: int
    ref: str
    gemeente_code: str
    region_code: str
    birth_month: str
    gi: str
    measure: str
    ruling_date: dt.date
    gi_notified_date: dt.date | None
    urgent_deadline: dt.date | None
    needs: tuple[str, ...]
    attributes: tuple[str, ...]
    family_ref: str | None
    current_offering_id: int | None
    status: str
    organisation_id: int | None
    # positions in `needs` whose help has really started (a registered start): the
    # need stays on the child's list but is no longer asked for
    started: frozenset[int] = frozenset()
    family_prefers_provider_id: int | None = None


def child_scope(
    principal: Principal, refused: str = "Deze rol ziet geen gegevens van kinderen."
) -> list[ColumnElement[bool]]:
    """Which children's rows a role may read: beheer all, a tafel its region, a
    verwijzer its organisation's; any other role is refused with `refused`."""
    if principal.role is Role.BEHEER:
        return []
    if principal.role is Role.TAFEL:
        if not principal.region_code:
            raise AccessDenied("Uw tafel hoort niet bij een regio.")
        return [Child.region_code == principal.region_code]
    if principal.role is Role.VERWIJZER:
        return [Child.organisation_id == principal.organisation_id]
    raise AccessDenied(refused)


def _child_view(c: Child, started_need_ids: frozenset[int] = frozenset()) -> ChildView:
    return ChildView(
        id=c.id,
        ref=c.ref,
        gemeente_code=c.gemeente_code,
        region_code=c.region_code,
        birth_month=c.birth_month,
        gi=c.gi,
        measure=c.measure,
        ruling_date=c.ruling_date,
        gi_notified_date=c.gi_notified_date,
        urgent_deadline=c.urgent_deadline,
        needs=tuple(n.care_type for n in c.needs),
        attributes=_split(c.attributes),
        family_ref=c.family_ref,
        current_offering_id=c.current_offering_id,
        status=c.status,
        organisation_id=c.organisation_id,
        started=frozenset(i for i, n in enumerate(c.needs) if n.id in started_need_ids),
        family_prefers_provider_id=c.family_prefers_provider_id,
    )


def _started_need_ids(session: Session, children: Select[Any]) -> frozenset[int]:
    """The needs of the children selected by `children` with a registered real start."""
    ids = children.with_only_columns(Child.id).order_by(None)
    found = session.scalars(
        select(NeedClock.need_id)
        .join(ChildNeed, ChildNeed.id == NeedClock.need_id)
        .where(ChildNeed.child_id.in_(ids), NeedClock.start_date.is_not(None))
    )
    return frozenset(found)


def waiting_list(
    session: Session,
    principal: Principal,
    *,
    refs: Iterable[str] | None = None,
    region_code: str | None = None,
    include_all_statuses: bool = False,
    purpose: str = "",
) -> list[ChildView]:
    """The children this principal may see (tafel: own region; verwijzer: own
    organisation; beheer: all), of `region_code` only when given.  The read is
    audited with the refs shown."""
    cond = child_scope(principal)
    q = select(Child).where(*cond)
    if region_code:
        q = q.where(Child.region_code == region_code)
    if not include_all_statuses:
        q = q.where(Child.status == ChildStatus.WAITING.value)
    if refs is not None:
        q = q.where(Child.ref.in_(list(refs)))
    rows = list(session.scalars(q.order_by(Child.ruling_date, Child.ref)))
    started = _started_need_ids(session, q)
    children = [_child_view(c, started) for c in rows]
    audit(
        session, principal, AuditAction.READ, "children", [c.ref for c in children], detail=purpose
    )
    # Flushed with the caller's next query or commit: a background job on SQLite would
    # otherwise hold the write lock while it computes (see wijzer.jobs._work_sessions).
    return children


def get_child(session: Session, principal: Principal, ref: str) -> ChildView:
    found = waiting_list(session, principal, refs=[ref], include_all_statuses=True)
    if not found:
        # Same answer for "does not exist" and "not yours": no probing of refs.
        raise NotFound("Dit kind staat niet op uw lijst.")
    return found[0]


def set_child_status(
    session: Session, principal: Principal, ref: str, status: ChildStatus, on: dt.date
) -> None:
    if principal.role not in (Role.TAFEL, Role.VERWIJZER, Role.BEHEER):
        raise AccessDenied()
    cond = child_scope(principal)
    child = session.scalar(select(Child).where(Child.ref == ref, *cond))
    if child is None:
        raise NotFound("Dit kind staat niet op uw lijst.")
    child.status = status.value
    if status is ChildStatus.PLACED:
        child.placed_at = on
    elif status is ChildStatus.CLOSED:
        child.closed_at = on
    audit(session, principal, AuditAction.WRITE, "children", [ref], detail="status")
    session.flush()


def record_export(
    session: Session, principal: Principal, entity: str, refs: Sequence[str], fmt: str
) -> None:
    """Call when case data leaves the system (decision list, report, export)."""
    audit(session, principal, AuditAction.EXPORT, entity, refs, detail=f"formaat={fmt}")
    session.flush()


def confirm_all_offerings(
    session: Session, principal: Principal, *, now: dt.datetime | None = None
) -> int:
    """ "Alles klopt nog": the aanbieder confirms every own offering as it stands (who,
    when; a new version, so an edit opened before this one is not silently lost).
    Returns how many offerings were confirmed. The caller commits."""
    if principal.role is not Role.AANBIEDER or principal.provider_id is None:
        raise AccessDenied("Alleen de aanbieder zelf kan zijn aanbod bevestigen.")
    now = now or utcnow()
    ids = list(
        session.scalars(select(Offering.id).where(Offering.provider_id == principal.provider_id))
    )
    if ids:
        session.execute(
            update(Offering)
            .where(Offering.provider_id == principal.provider_id)
            .values(
                version=Offering.version + 1,
                confirmed_by=principal.username,
                confirmed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    audit(
        session,
        principal,
        AuditAction.WRITE,
        "offerings",
        [str(i) for i in ids],
        detail="alles klopt nog",
    )
    session.flush()
    return len(ids)
