"""Use cases of the meldingen: an organisation's inbox, read on the page or the API.

Which organisation's meldingen a principal sees is the data layer's rule
(`providers.store.meldingen`: its own organisation only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers.store import meldingen as store
from providers.store.access import Principal
from providers.store.meldingen import MeldingView as MeldingView

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def inbox(session: Session, principal: Principal) -> list[MeldingView]:
    """The meldingen of the principal's own organisation, newest first; unchanged."""
    return store.inbox(session, principal)


def read_inbox(session: Session, principal: Principal) -> list[MeldingView]:
    """The inbox as shown on the page: returned as it was (so new ones still show as
    new this once), then marked read. The caller commits."""
    items = store.inbox(session, principal)
    store.mark_read(session, principal)
    return items


def place_freed(session: Session, offering_id: int) -> int:
    """A place of this offering came free: a melding to each organisation with a case
    waiting for this help in a region the offering serves; returns how many were
    told. The caller commits."""
    return store.place_freed(session, offering_id)
