"""Accounts and organisations: creating them, password hashes and the password check
that turns an account into a `Principal`."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Row, Select, select, update
from sqlalchemy.orm import Session

from providers import reference
from providers.errors import ProvidersError
from providers.store.access import AccessDenied, NotFound, Principal, audit
from providers.store.models import (
    Account,
    AuditAction,
    Organisation,
    OrganisationKind,
    Provider,
    Role,
    WebSession,
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
    row = session.execute(active_account_query().where(Account.username == username)).first()
    return None if row is None else principal_of(row)


def active_account_query() -> Select[str, str, int, str | None, int | None, str | None, str]:
    """The plain columns `principal_of` reads, of active accounts only: this runs on
    every request, so no ORM objects (`sessions.session_account` adds its session)."""
    org = Organisation
    return (
        select(
            Account.username,
            Account.role,
            Account.organisation_id,
            org.region_code,
            org.provider_id,
            org.gi_code,
            org.name,
        )
        .outerjoin(org, org.id == Account.organisation_id)
        .where(Account.active.is_(True))
    )


def principal_of(row: Row[*tuple[Any, ...]]) -> tuple[Principal, str | None]:
    """The principal and organisation name of a row of `active_account_query`."""
    principal = Principal(
        username=row.username,
        role=Role(row.role),
        organisation_id=row.organisation_id,
        region_code=row.region_code,
        provider_id=row.provider_id,
        gi_code=row.gi_code,
    )
    return principal, row.name


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


# --- account administration (beheer) -------------------------------------------------

# Usernames people type at the login; no spaces, so they cannot be mistaken.
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,59}")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200


class AccountError(ProvidersError, ValueError):
    """A request about an account that cannot be done; `user_message` says why (B1)."""


@dataclass(frozen=True)
class AccountRow:
    id: int
    username: str
    role: Role
    organisation_id: int
    organisation_name: str
    active: bool
    last_login_at: dt.datetime | None


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    name: str
    kind: str
    region_code: str | None
    provider_id: int | None


def _only_beheer(principal: Principal) -> None:
    if principal.role is not Role.BEHEER:
        raise AccessDenied("Alleen beheer kan accounts beheren.")


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is not good enough (B1), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Kies een wachtwoord van minstens {MIN_PASSWORD_LENGTH} tekens."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Kies een wachtwoord van hoogstens {MAX_PASSWORD_LENGTH} tekens."
    if password.strip().lower() == username.strip().lower():
        return "Uw wachtwoord mag niet gelijk zijn aan uw gebruikersnaam."
    if len(set(password)) < 4:
        return "Kies een wachtwoord met meer verschillende tekens."
    return None


def one_time_password() -> str:
    """A random password to hand over once (16 letters and digits, easy to type)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def list_accounts(session: Session, principal: Principal) -> list[AccountRow]:
    _only_beheer(principal)
    q = (
        select(Account, Organisation)
        .join(Organisation, Account.organisation_id == Organisation.id)
        .order_by(Account.username)
    )
    return [
        AccountRow(a.id, a.username, Role(a.role), o.id, o.name, a.active, a.last_login_at)
        for a, o in session.execute(q)
    ]


def list_organisations(session: Session, principal: Principal) -> list[OrganisationRow]:
    _only_beheer(principal)
    q = select(Organisation).order_by(Organisation.name)
    return [
        OrganisationRow(o.id, o.name, o.kind, o.region_code, o.provider_id)
        for o in session.scalars(q)
    ]


def _role_fits(role: Role, org: Organisation) -> str | None:
    if role is Role.AANBIEDER and org.provider_id is None:
        return "Een aanbieder hoort bij een organisatie die aan een aanbieder gekoppeld is."
    if role in (Role.TAFEL, Role.INKOOP) and not org.region_code:
        return "Een tafel of inkoop hoort bij een organisatie met een regio."
    return None


def admin_create_account(
    session: Session, principal: Principal, username: str, role: Role, organisation_id: int
) -> str:
    """Create an account bound to an organisation; returns its one-time password."""
    _only_beheer(principal)
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            user_message="Een gebruikersnaam heeft 3 tot 60 tekens: kleine letters, cijfers, "
            "punt, streepje of liggend streepje."
        )
    if session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise AccountError(user_message="Deze gebruikersnaam bestaat al. Kies een andere.")
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise AccountError(user_message="Kies een organisatie uit de lijst.")
    misfit = _role_fits(role, org)
    if misfit:
        raise AccountError(user_message=misfit)
    password = one_time_password()
    create_account(session, name, password, role, org)
    audit(
        session,
        principal,
        AuditAction.WRITE,
        "accounts",
        [name],
        detail=f"aangemaakt rol={role.value}",
    )
    session.flush()
    return password


def _account(session: Session, account_id: int) -> Account:
    acc = session.get(Account, account_id)
    if acc is None:
        raise AccountError(user_message="Dit account bestaat niet.")
    return acc


def set_account_active(
    session: Session, principal: Principal, account_id: int, active: bool
) -> str:
    """Switch an account on or off (off ends its sessions); returns the username."""
    _only_beheer(principal)
    acc = _account(session, account_id)
    if not active and acc.username == principal.username:
        raise AccountError(user_message="U kunt uw eigen account niet uitzetten.")
    acc.active = active
    if not active:
        _end_sessions(session, acc.username)
    audit(
        session,
        principal,
        AuditAction.WRITE,
        "accounts",
        [acc.username],
        detail="aangezet" if active else "uitgezet",
    )
    session.flush()
    return acc.username


def reset_password(session: Session, principal: Principal, account_id: int) -> tuple[str, str]:
    """Give an account a new one-time password and end its sessions; returns
    (username, password). The password is shown once and never stored as text."""
    _only_beheer(principal)
    acc = _account(session, account_id)
    password = one_time_password()
    acc.password_hash = hash_password(password)
    acc.failed_logins = 0
    _end_sessions(session, acc.username)
    audit(
        session,
        principal,
        AuditAction.WRITE,
        "accounts",
        [acc.username],
        detail="wachtwoord opnieuw",
    )
    session.flush()
    return acc.username, password


def change_own_password(
    session: Session,
    principal: Principal,
    current: str,
    new: str,
    *,
    keep_token: str | None = None,
) -> None:
    """The signed-in user changes their own password; every other session of the
    account ends (the one of `keep_token`, the browser in use, stays)."""
    acc = session.scalar(select(Account).where(Account.username == principal.username))
    if acc is None or not acc.active:
        raise AccessDenied()
    if not verify_password(acc.password_hash, current):
        raise AccountError(user_message="Uw huidige wachtwoord klopt niet.")
    problem = password_problem(new, acc.username)
    if problem:
        raise AccountError(user_message=problem)
    if verify_password(acc.password_hash, new):
        raise AccountError(user_message="Kies een nieuw wachtwoord dat anders is dan het huidige.")
    acc.password_hash = hash_password(new)
    keep = hashlib.sha256(keep_token.encode()).hexdigest() if keep_token else None
    _end_sessions(session, acc.username, keep=keep)
    audit(
        session, principal, AuditAction.WRITE, "accounts", [acc.username], detail="eigen wachtwoord"
    )
    session.flush()


def _end_sessions(session: Session, username: str, *, keep: str | None = None) -> None:
    cond = [WebSession.username == username, WebSession.ended_at.is_(None)]
    if keep is not None:
        cond.append(WebSession.token_hash != keep)
    session.execute(update(WebSession).where(*cond).values(ended_at=utcnow()))


def admin_create_organisation(
    session: Session,
    principal: Principal,
    name: str,
    kind: OrganisationKind,
    *,
    region_code: str | None = None,
    provider_id: int | None = None,
    gi_code: str | None = None,
) -> int:
    """An organisation that accounts can be bound to, with its region or provider."""
    _only_beheer(principal)
    clean = name.strip()
    if not 2 <= len(clean) <= 200:
        raise AccountError(user_message="Een naam van een organisatie heeft 2 tot 200 tekens.")
    if region_code is not None and region_code not in reference.jeugdregios():
        raise AccountError(user_message="Kies een jeugdregio uit de lijst.")
    if kind is OrganisationKind.AANBIEDER and provider_id is None:
        raise AccountError(user_message="Kies bij een aanbieder welke aanbieder het is.")
    if kind is OrganisationKind.REGIO and region_code is None:
        raise AccountError(user_message="Kies bij een regio-organisatie de jeugdregio.")
    if provider_id is not None and session.get(Provider, provider_id) is None:
        raise AccountError(user_message="Kies een aanbieder uit de lijst.")
    org = create_organisation(
        session,
        clean,
        kind,
        region_code=region_code,
        provider_id=provider_id if kind is OrganisationKind.AANBIEDER else None,
        gi_code=gi_code,
    )
    audit(
        session, principal, AuditAction.WRITE, "organisations", [str(org.id)], detail="aangemaakt"
    )
    session.flush()
    return org.id


def provider_choices(session: Session, principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of every provider, for binding an organisation to one."""
    _only_beheer(principal)
    return [(p.id, p.name) for p in session.scalars(select(Provider).order_by(Provider.name))]
