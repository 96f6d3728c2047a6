"""Server-side web sessions: a session can be ended, and then a copied cookie is worthless.

The browser gets a random token (in the app's signed cookie); the database keeps
only its SHA-256, who it belongs to, when it expires and whether it was ended.
Logout ends one session; a password change ends all sessions of that account.
Sessions that ended or expired more than SESSION_KEEP_DAYS ago are deleted by
the retention command (`purge_sessions`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from providers.store import accounts
from providers.store.access import AccessDenied, Principal
from providers.store.accounts import hash_password
from providers.store.models import Account, Role, WebSession, utcnow

# ended and expired sessions stay this long (who was signed in when, for the
# review of an incident), then the retention command deletes them
SESSION_KEEP_DAYS = 30


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def start_session(session: Session, username: str, max_age_s: int) -> str:
    """A new session for `username`; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=_hash(token),
            username=username,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=max_age_s),
        )
    )
    session.flush()
    return token


def _live(ended_at: dt.datetime | None, expires_at: dt.datetime, now: dt.datetime | None) -> bool:
    return ended_at is None and _aware(expires_at) > (now or utcnow())


def session_user(session: Session, token: str, *, now: dt.datetime | None = None) -> str | None:
    """The username of a live session, or None (unknown, ended or expired token)."""
    row = session.execute(
        select(WebSession.username, WebSession.expires_at, WebSession.ended_at).where(
            WebSession.token_hash == _hash(token)
        )
    ).first()
    if row is None or not _live(row.ended_at, row.expires_at, now):
        return None
    return str(row.username)


def session_account(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> tuple[Principal, str | None] | None:
    """The active account of a live session (as `accounts.active_account` gives it) in
    one read: asked on every request. None for an unknown, ended or expired token and
    for an account that was switched off or removed."""
    row = session.execute(_SESSION_ACCOUNT, {"token_hash": _hash(token)}).first()
    if row is None or not _live(row.ended_at, row.expires_at, now):
        return None
    return accounts.principal_of(row)


# Built once: it runs on every request.
_SESSION_ACCOUNT = (
    accounts.active_account_query()
    .add_columns(WebSession.expires_at, WebSession.ended_at)
    .join(WebSession, WebSession.username == Account.username)
    .where(WebSession.token_hash == bindparam("token_hash"))
)


def end_session(session: Session, token: str) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == _hash(token), WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_all_sessions(session: Session, username: str) -> int:
    """End every live session of this account; returns how many were ended."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.username == username, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def change_password(
    session: Session, principal: Principal, username: str, new_password: str
) -> None:
    """Set a new password (the account itself or beheer) and end all its sessions."""
    if principal.username != username and principal.role is not Role.BEHEER:
        raise AccessDenied("U kunt alleen uw eigen wachtwoord wijzigen.")
    if len(new_password) < 12:
        raise ValueError("Een wachtwoord heeft minstens 12 tekens.")
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise AccessDenied()
    account.password_hash = hash_password(new_password)
    session.flush()
    end_all_sessions(session, username)


def purge_sessions(session: Session, principal: Principal, *, now: dt.datetime) -> int:
    """Delete sessions that ended or expired more than SESSION_KEEP_DAYS
    before `now`; return how many.  Only beheer may run it."""
    if principal.role is not Role.BEHEER:
        raise AccessDenied("Alleen beheer kan gegevens opschonen.")
    before = _aware(now) - dt.timedelta(days=SESSION_KEEP_DAYS)
    result = session.execute(
        delete(WebSession).where(or_(WebSession.ended_at < before, WebSession.expires_at < before))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
