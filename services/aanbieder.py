"""Use cases of the aanbieder: see its own offerings, update one, confirm them all.

Who may change which offering, the version check that keeps two concurrent edits
from overwriting each other, and the audit all live in the data layer
(`providers.store.access`). Nothing here commits: the caller's transaction does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from providers.store import access
from providers.store.access import OfferingView as OfferingView
from providers.store.access import Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def offerings_for_edit(session: Session, principal: Principal) -> list[OfferingView]:
    """The offerings this principal may change: an aanbieder only its own, beheer all."""
    return access.offerings_for_edit(session, principal)


def is_stale(confirmed_at: dt.datetime, *, max_age_days: int) -> bool:
    """True when the figures were last confirmed more than `max_age_days` ago."""
    return access.is_stale(confirmed_at, max_age_days=max_age_days)


def update_offering(
    session: Session,
    principal: Principal,
    offering_id: int,
    version: int,
    changes: Mapping[str, object],
) -> OfferingView:
    """Store the changed figures if nobody changed the offering since `version`;
    `ConflictError` (with what is stored now) otherwise."""
    return access.update_offering(session, principal, offering_id, version, dict(changes))


def confirm_all(session: Session, principal: Principal) -> int:
    """ "Alles klopt nog": every own offering confirmed as it stands; how many."""
    return access.confirm_all_offerings(session, principal)
