"""Meldingen by e-mail: send what the in-app inbox holds to an organisation's mailbox.

Only when an SMTP host is configured.  A message names the case by its
pseudonymous ref and links to the page; nothing else of the case leaves the
system.  A failed send leaves the melding unsent, so the next call tries again.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

from providers.store import meldingen

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SUBJECTS = {
    "nieuwe_aanmelding": "Nieuwe aanmelding",
    "antwoord": "Antwoord op een aanmelding",
    "termijn_verlopen": "Aanmelding niet op tijd beantwoord",
    "plek_vrij": "Er is een plek vrij",
    "aanmelding_beeindigd": "Aanmelding beëindigd",
}


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 25
    sender: str = "wijzer@localhost"
    base_url: str = ""
    timeout_s: float = 5.0


def message_for(item: meldingen.Outgoing, settings: MailSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = item.email
    msg["Subject"] = "Beschikbaarheidswijzer: " + SUBJECTS.get(item.kind, "Melding")
    link = f"\n\nBekijk het in de wijzer: {settings.base_url}{item.link}" if item.link else ""
    msg.set_content(item.text + link + "\n")
    return msg


def mail_pending(session: Session, settings: MailSettings) -> int:
    """Send every unsent melding that has an address; returns how many went out.
    The caller commits (the sent ones are marked)."""
    items = meldingen.unmailed(session)
    if not items:
        return 0
    sent: list[int] = []
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            for item in items:
                smtp.send_message(message_for(item, settings))
                sent.append(item.melding_id)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("meldingen not mailed (%d sent before the error): %s", len(sent), exc)
    meldingen.mark_mailed(session, sent)
    return len(sent)
