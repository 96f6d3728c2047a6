"""Accounts and organisations: creating them, password hashes and the password check
that turns an account into a `Principal`."""

from __future__ import annotations

import contextlib
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from providers.store.access import AccessDenied, NotFound, Principal, audit
from providers.store.models import (
    Account,
    AuditAction,
    Organisation,
    OrganisationKind,
    Role,
    utcnow,
)

_hasher = PasswordHasher()
# Security events of the data layer; the web app's JSON log set-up writes them too.
security_log = logging.getLogger("providers.security")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_dummy(password: str) -> None:
    """Spend the time of a real check, so response times do not tell which usernames
    exist."""
    verify_password(_DUMMY_HASH, password)


def create_organisation(
    session: Session,
    name: str,
    kind: OrganisationKind,
    *,
    region_code: str | None = None,
    gemeente_code: str | None = None,
    gi_code: str | None = None,
    provider_id: int | None = None,
) -> Organisation:
    org = Organisation(
        name=name,
        kind=kind.value,
        region_code=region_code,
        gemeente_code=gemeente_code,
        gi_code=gi_code,
        provider_id=provider_id,
    )
    session.add(org)
    session.flush()
    return org


def create_account(
    session: Session, username: str, password: str, role: Role, organisation: Organisation
) -> Account:
    if role is Role.AANBIEDER and organisation.provider_id is None:
        raise ValueError("an aanbieder account needs an organisation linked to a provider")
    acc = Account(
        username=username,
        role=role.value,
        organisation_id=organisation.id,
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
    )
    session.add(acc)
    session.flush()
    return acc


def principal_for(session: Session, account: Account) -> Principal:
    org = session.get(Organisation, account.organisation_id)
    assert org is not None
    return Principal(
        username=account.username,
        role=Role(account.role),
        organisation_id=org.id,
        region_code=org.region_code,
        provider_id=org.provider_id,
        gi_code=org.gi_code,
    )


def authenticate(session: Session, username: str, password: str) -> Principal | None:
    """Check a password; None if wrong or unknown (the caller rate-limits)."""
    acc = session.scalar(select(Account).where(Account.username == username))
    if acc is None or not acc.active:
        # Spend the same time as a real check so usernames cannot be probed.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(acc.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        acc.failed_logins += 1
        session.flush()
        return None
    if _hasher.check_needs_rehash(acc.password_hash):
        acc.password_hash = hash_password(password)
    acc.failed_logins = 0
    acc.last_login_at = utcnow()
    session.flush()
    return principal_for(session, acc)


_DUMMY_HASH = _hasher.hash("not-a-real-password")


def active_account(session: Session, username: str) -> tuple[Principal, str | None] | None:
    """The principal of an active account and its organisation's name; None when the
    account does not exist or is switched off (asked on every request, so a removed
    account or a changed role counts at once)."""
    acc = session.scalar(
        select(Account).where(Account.username == username, Account.active.is_(True))
    )
    if acc is None:
        return None
    org = session.get(Organisation, acc.organisation_id)
    principal = Principal(
        username=acc.username,
        role=Role(acc.role),
        organisation_id=acc.organisation_id,
        region_code=org.region_code if org else None,
        provider_id=org.provider_id if org else None,
        gi_code=org.gi_code if org else None,
    )
    return principal, org.name if org else None


def change_role(
    session: Session,
    actor: Principal,
    username: str,
    role: Role,
    organisation: Organisation | None = None,
) -> Account:
    """Give an account another role (and organisation, when given); beheer only.

    A role decides what an account may see, so every change is a security event:
    one audit entry (the account's name, the old and new role) and one INFO line
    in the application log. The account's open sessions get the new role on
    their next request (`active_account` reads it every time).
    """
    if actor.role is not Role.BEHEER:
        raise AccessDenied("Alleen beheer kan de rol van een account wijzigen.")
    acc = session.scalar(select(Account).where(Account.username == username))
    if acc is None:
        raise NotFound("Dit account bestaat niet.")
    org = organisation or session.get(Organisation, acc.organisation_id)
    if role is Role.AANBIEDER and (org is None or org.provider_id is None):
        raise ValueError("an aanbieder account needs an organisation linked to a provider")
    old = acc.role
    acc.role = role.value
    if organisation is not None:
        acc.organisation_id = organisation.id
    detail = f"rol {old} -> {role.value}"
    if organisation is not None:
        detail += f", organisatie {organisation.id}"
    audit(session, actor, AuditAction.WRITE, "accounts", [acc.username], detail=detail)
    session.flush()
    security_log.info(
        "role change user=%r from=%s to=%s by=%r", acc.username, old, role.value, actor.username
    )
    return acc
