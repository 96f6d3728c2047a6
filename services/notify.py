"""Meldingen by e-mail: send what the in-app inbox holds to an organisation's mailbox.

Only when an SMTP host is configured.  A message names the case by its
pseudonymous ref and links to the page; nothing else of the case leaves the
system.  A failed send leaves the melding unsent, so the next call tries again.
"""

from __future__ import annotations

import logging
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

from providers.store import aanmeldingen, meldingen
from providers.store.access import Principal
from services.errors import ServiceError

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session, sessionmaker

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
    The caller commits (the sent ones are marked).  The meldingen are claimed before
    sending, so two servers running this at once never send one twice."""
    found = meldingen.unmailed(session)
    mine = set(meldingen.claim(session, [m.melding_id for m in found]))
    items = [m for m in found if m.melding_id in mine]
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
    meldingen.unclaim(session, sorted(mine - set(sent)))
    return len(sent)


# One address, no display name, no list: what a team mailbox looks like.
EMAIL_RE = re.compile(
    r"^[^@\s,;<>()\[\]\"']{1,64}@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$",
    re.IGNORECASE,
)
EMAIL_MESSAGE = "Vul een geldig e-mailadres in, zoals team@organisatie.nl. Of laat het veld leeg."


class AddressError(ServiceError, ValueError):
    """An e-mail address that cannot be used; `message` (and `user_message`) says why
    in B1 Dutch."""

    def __init__(self, message: str) -> None:
        super().__init__("unusable e-mail address", user_message=message)
        self.message = message


OrganisationAddress = meldingen.OrganisationAddress


def check_email(raw: str) -> str | None:
    """The address as stored (trimmed, lower case), None for an empty field."""
    text = raw.strip()
    if not text:
        return None
    if len(text) > 200 or not EMAIL_RE.fullmatch(text):
        raise AddressError(EMAIL_MESSAGE)
    return text.lower()


def organisation_addresses(session: Session, principal: Principal) -> list[OrganisationAddress]:
    """Where each organisation's meldingen go (beheer: all; aanbieder: its own)."""
    return meldingen.organisation_addresses(session, principal)


def set_organisation_address(
    session: Session, principal: Principal, organisation_id: int, raw: str
) -> str | None:
    """Check and store the address for an organisation's meldingen; returns what was
    stored.  A bad address stores nothing (`AddressError`)."""
    email = check_email(raw)
    meldingen.set_organisation_address(session, principal, organisation_id, email)
    return email


@dataclass(frozen=True)
class TermCheck:
    flagged: int  # new meldingen about an answer term that passed
    mailed: int


def check_answer_terms(
    sessions: sessionmaker[Session], *, today: dt.date, mail: MailSettings | None
) -> TermCheck:
    """Flag every aanmelding past its answer term and mail what is waiting (when an SMTP
    host is set); run on a schedule by the app and by `python -m wijzer check-termijnen`.
    Safe to run from several servers at once: a melding is added once (its dedupe key)
    and mailed once (`meldingen.claim`)."""
    with sessions.begin() as session:
        flagged = aanmeldingen.flag_overdue_answers(session, today=today)
    mailed = 0
    if mail is not None:
        with sessions.begin() as session:
            mailed = mail_pending(session, mail)
    return TermCheck(flagged, mailed)
