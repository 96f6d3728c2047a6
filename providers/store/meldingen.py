"""Meldingen: the in-app inbox of an organisation.

A melding names a case only by its pseudonymous ref and links to the page where
the reader's own role checks apply; it never copies case data.  `dedupe_key`
keeps a repeated signal (an answer term passed, checked by every page load or
job run) from landing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from providers.store.access import AccessDenied, NotFound, Principal, audit
from providers.store.models import (
    Aanmelding,
    Account,
    AuditAction,
    Child,
    ChildNeed,
    ChildStatus,
    Melding,
    MeldingAddress,
    NeedClock,
    NeedStatus,
    Offering,
    Organisation,
    Role,
    utcnow,
)


@dataclass(frozen=True)
class MeldingView:
    id: int
    at: dt.datetime
    kind: str
    text: str
    link: str
    read: bool


def add(
    session: Session,
    organisation_id: int,
    kind: str,
    text: str,
    *,
    link: str = "",
    dedupe_key: str | None = None,
) -> bool:
    """Add one melding; False when `dedupe_key` was already used."""
    if dedupe_key is not None and session.scalar(
        select(Melding.id).where(Melding.dedupe_key == dedupe_key)
    ):
        return False
    try:
        with session.begin_nested():
            session.add(
                Melding(
                    organisation_id=organisation_id,
                    at=utcnow(),
                    kind=kind,
                    text=text[:400],
                    link=link[:200],
                    dedupe_key=dedupe_key,
                )
            )
            session.flush()
    except IntegrityError:
        return False
    return True


def for_provider(session: Session, provider_id: int, kind: str, text: str, *, link: str) -> None:
    """A melding for every organisation that acts for this provider."""
    for org_id in session.scalars(
        select(Organisation.id).where(Organisation.provider_id == provider_id)
    ):
        add(session, org_id, kind, text, link=link)


def inbox(session: Session, principal: Principal, *, limit: int = 100) -> list[MeldingView]:
    """The meldingen of the principal's own organisation, newest first."""
    if principal.organisation_id is None:
        return []
    rows = session.scalars(
        select(Melding)
        .where(Melding.organisation_id == principal.organisation_id)
        .order_by(Melding.id.desc())
        .limit(limit)
    )
    return [MeldingView(m.id, m.at, m.kind, m.text, m.link, m.read_at is not None) for m in rows]


def mark_read(session: Session, principal: Principal) -> None:
    if principal.organisation_id is None:
        return
    session.execute(
        update(Melding)
        .where(Melding.organisation_id == principal.organisation_id, Melding.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def tafel_organisations(session: Session, region_code: str) -> list[int]:
    """The organisations with a tafel account for this region (not inkoop: it sees no
    cases)."""
    return list(
        session.scalars(
            select(Organisation.id)
            .join(Account, Account.organisation_id == Organisation.id)
            .where(Organisation.region_code == region_code, Account.role == Role.TAFEL.value)
            .distinct()
        )
    )


@dataclass(frozen=True)
class Outgoing:
    melding_id: int
    email: str
    kind: str
    text: str
    link: str


def unmailed(session: Session, *, limit: int = 200) -> list[Outgoing]:
    """Meldingen not sent yet to an organisation that has an e-mail address."""
    rows = session.execute(
        select(Melding.id, MeldingAddress.email, Melding.kind, Melding.text, Melding.link)
        .join(MeldingAddress, MeldingAddress.organisation_id == Melding.organisation_id)
        .where(Melding.mailed_at.is_(None))
        .order_by(Melding.id)
        .limit(limit)
    ).all()
    return [Outgoing(*r) for r in rows]


def mark_mailed(session: Session, melding_ids: list[int]) -> None:
    if melding_ids:
        session.execute(
            update(Melding)
            .where(Melding.id.in_(melding_ids))
            .values(mailed_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def claim(session: Session, melding_ids: list[int]) -> list[int]:
    """Mark these meldingen as mailed unless another server already did; returns the
    ones this transaction now owns.  A second server's update of the same row waits
    for this transaction and then finds `mailed_at` set, so no melding goes out twice."""
    if not melding_ids:
        return []
    return sorted(
        session.scalars(
            update(Melding)
            .where(Melding.id.in_(melding_ids), Melding.mailed_at.is_(None))
            .values(mailed_at=utcnow())
            .returning(Melding.id)
            .execution_options(synchronize_session=False)
        )
    )


def unclaim(session: Session, melding_ids: list[int]) -> None:
    """Claimed but not sent (the mail server failed): the next run tries again."""
    if melding_ids:
        session.execute(
            update(Melding)
            .where(Melding.id.in_(melding_ids))
            .values(mailed_at=None)
            .execution_options(synchronize_session=False)
        )


def set_address(session: Session, principal: Principal, email: str) -> None:
    """Beheer sets an organisation's mailbox for meldingen (the principal's own here)."""
    if principal.organisation_id is None:
        return
    session.merge(MeldingAddress(organisation_id=principal.organisation_id, email=email))


@dataclass(frozen=True)
class OrganisationAddress:
    id: int
    name: str
    kind: str
    region_code: str | None
    email: str | None


def _may_set(principal: Principal, organisation_id: int) -> None:
    # Beheer sets any organisation's mailbox; an aanbieder only its own organisation's.
    if principal.role is Role.BEHEER:
        return
    if principal.role is Role.AANBIEDER and principal.organisation_id == organisation_id:
        return
    raise AccessDenied("U kunt alleen het e-mailadres van uw eigen organisatie instellen.")


def organisation_addresses(session: Session, principal: Principal) -> list[OrganisationAddress]:
    """Every organisation with its address for meldingen (beheer), or the principal's own
    organisation (aanbieder)."""
    q = select(Organisation).order_by(Organisation.name, Organisation.id)
    if principal.role is not Role.BEHEER:
        if principal.role is not Role.AANBIEDER or principal.organisation_id is None:
            raise AccessDenied("U kunt alleen het e-mailadres van uw eigen organisatie instellen.")
        q = q.where(Organisation.id == principal.organisation_id)
    mail: dict[int, str] = {}
    for org_id, email in session.execute(
        select(MeldingAddress.organisation_id, MeldingAddress.email).order_by(MeldingAddress.email)
    ):
        mail.setdefault(org_id, email)
    return [
        OrganisationAddress(o.id, o.name, o.kind, o.region_code, mail.get(o.id))
        for o in session.scalars(q)
    ]


def set_organisation_address(
    session: Session, principal: Principal, organisation_id: int, email: str | None
) -> None:
    """The one mailbox an organisation's meldingen go to (None: in the app only).
    Audited without the address itself: the log names ids, never values."""
    _may_set(principal, organisation_id)
    if session.get(Organisation, organisation_id) is None:
        raise NotFound("Deze organisatie bestaat niet.")
    session.execute(delete(MeldingAddress).where(MeldingAddress.organisation_id == organisation_id))
    if email is not None:
        session.add(MeldingAddress(organisation_id=organisation_id, email=email))
    audit(
        session,
        principal,
        AuditAction.WRITE,
        "melding_addresses",
        [str(organisation_id)],
        detail="e-mailadres voor meldingen ingesteld"
        if email
        else "e-mailadres voor meldingen gewist",
    )
    session.flush()


def place_freed(session: Session, offering_id: int) -> int:
    """A place freed at this offering: tell each organisation with a waiting case that
    needs this help (no start, no open aanmelding) in a region the offering serves, so
    it can be offered within minutes.  Returns how many organisations were told."""
    o = session.get(Offering, offering_id)
    if o is None or o.places_free <= 0 or o.intake_stop:
        return 0
    regions = {o.region_code, *[r for r in (o.service_regions or "").split(",") if r]}
    started = select(NeedClock.need_id).where(NeedClock.start_date.is_not(None))
    active = select(Aanmelding.need_id).where(Aanmelding.active_need_id.is_not(None))
    rows = session.execute(
        select(Child.organisation_id, Child.ref)
        .join(ChildNeed, ChildNeed.child_id == Child.id)
        .where(
            Child.status == ChildStatus.WAITING.value,
            Child.organisation_id.is_not(None),
            Child.region_code.in_(sorted(regions)),
            ChildNeed.care_type == o.care_type,
            ChildNeed.status == NeedStatus.OPEN,
            ChildNeed.id.not_in(started),
            ChildNeed.id.not_in(active),
        )
    ).all()
    per_org: dict[int, set[str]] = {}
    for org_id, ref in rows:
        if org_id is not None:  # excluded by the query; keeps the type exact
            per_org.setdefault(org_id, set()).add(ref)
    told = 0
    for org_id, refs in sorted(per_org.items()):
        n = len(refs)
        text = (
            f"Er is een plek vrij bij aanbod {o.ext_id}. "
            f"{'1 casus' if n == 1 else f'{n} casussen'} van u "
            f"{'wacht' if n == 1 else 'wachten'} op deze hulp."
        )
        if add(
            session,
            org_id,
            "plek_vrij",
            text,
            link=f"/casussen/aanmelden/{o.id}",
            dedupe_key=f"vrij:{o.id}:{o.version}:{org_id}",
        ):
            told += 1
    session.flush()
    return told
