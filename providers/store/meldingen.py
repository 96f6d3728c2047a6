"""Meldingen: the in-app inbox of an organisation.

A melding names a case only by its pseudonymous ref and links to the page where
the reader's own role checks apply; it never copies case data.  `dedupe_key`
keeps a repeated signal (an answer term passed, checked by every page load or
job run) from landing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from providers.store.access import Principal
from providers.store.models import Account, Melding, Organisation, Role, utcnow


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
