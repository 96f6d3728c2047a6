"""Use cases of accounts: change one's own password; beheer lists, creates, switches
on or off and resets accounts and creates organisations.

The data layer (`providers.store.accounts`) refuses every role but beheer for the
management use cases, checks passwords, ends sessions and writes the audit log.
Nothing here commits: the caller's transaction does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers.store import accounts as store
from providers.store.access import Principal
from providers.store.accounts import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from providers.store.accounts import AccountRow as AccountRow
from providers.store.accounts import OrganisationRow as OrganisationRow
from providers.store.models import OrganisationKind as OrganisationKind
from providers.store.models import Role
from services.errors import AccountError as AccountError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def change_own_password(
    session: Session, principal: Principal, current: str, new: str, *, keep_token: str | None
) -> None:
    """The signed-in user's new password; their other sessions end, the one of
    `keep_token` (the browser in use) stays. `AccountError` says what is wrong."""
    store.change_own_password(session, principal, current, new, keep_token=keep_token)


def list_accounts(session: Session, principal: Principal) -> list[AccountRow]:
    return store.list_accounts(session, principal)


def list_organisations(session: Session, principal: Principal) -> list[OrganisationRow]:
    return store.list_organisations(session, principal)


def provider_choices(session: Session, principal: Principal) -> list[tuple[int, str]]:
    """(provider id, name) for binding an aanbieder organisation to its provider."""
    return store.provider_choices(session, principal)


def admin_create_account(
    session: Session, principal: Principal, username: str, role: Role, organisation_id: int
) -> str:
    """A new account bound to an organisation; returns its one-time password."""
    return store.admin_create_account(session, principal, username, role, organisation_id)


def set_account_active(
    session: Session, principal: Principal, account_id: int, active: bool
) -> str:
    """Switch an account on or off (off ends its sessions); returns the username."""
    return store.set_account_active(session, principal, account_id, active)


def reset_password(session: Session, principal: Principal, account_id: int) -> tuple[str, str]:
    """A new one-time password for an account; returns (username, password)."""
    return store.reset_password(session, principal, account_id)


def admin_create_organisation(
    session: Session,
    principal: Principal,
    name: str,
    kind: OrganisationKind,
    *,
    region_code: str | None = None,
    provider_id: int | None = None,
) -> int:
    """A new organisation with its region or provider; returns its id."""
    return store.admin_create_organisation(
        session, principal, name, kind, region_code=region_code, provider_id=provider_id
    )
