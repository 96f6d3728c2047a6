"""Use cases of signing in and out: a server-side session per login, ended on
logout so a copied cookie no longer signs anyone in (`providers.store.sessions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers.store import sessions as store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def start_session(session: Session, username: str, max_age_s: int) -> str:
    """A new session for a user who just proved who they are; returns its token."""
    return store.start_session(session, username, max_age_s)


def end_session(session: Session, token: str) -> None:
    store.end_session(session, token)
