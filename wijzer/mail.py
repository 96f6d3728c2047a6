"""After a change of the referral loop: send new meldingen by e-mail when configured."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from services import meldingen
from services.notify import MailSettings, mail_pending
from wijzer.settings import Settings


def send_meldingen(request: Request) -> int:
    """Mail what is waiting (no SMTP host set: nothing).  Its own transaction, so a
    mail problem never undoes the change the user just made."""
    settings: Settings = request.app.state.settings
    if not settings.smtp_host:
        return 0
    sessions: sessionmaker[Session] = request.app.state.sessions
    mail = MailSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        base_url=str(request.base_url).rstrip("/"),
    )
    with sessions.begin() as session:
        return mail_pending(session, mail)


def place_freed(request: Request, offering_id: int) -> int:
    """A place came free: tell the verwijzers with a waiting case for this help."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions.begin() as session:
        told = meldingen.place_freed(session, offering_id)
    send_meldingen(request)
    return told
