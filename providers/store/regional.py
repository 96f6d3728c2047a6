"""A region's data read on behalf of an inkoop (or beheer) user who may see aggregates only.

Inkoop may never see a child's row, yet a scenario needs the matching on the
region's waiting children.  The region is read here with system rights, on the
user's behalf, and the read is audited twice: the system read lists the
pseudonyms as every read of children does, with the inkoop user named in its
purpose; the inkoop user gets an entry "aggregaat" with the number of children
and no refs.  Whatever is built on it must hand back suppressed counts only
(`aggregates.protect`, `aggregates.small_cell`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from matcher.domain import Scenario
from providers import reference
from providers.convert import budget_name, scenario_from_db
from providers.store.access import AccessDenied, Principal, audit, search_offerings
from providers.store.models import AuditAction, Role
from providers.store.purchase import purchase_tables


@dataclass(frozen=True)
class RegionOptions:
    """What the scenario form may offer: no case data, only the region's supply."""

    region: str
    care_types: tuple[str, ...]  # care types with an offering in the region
    regions: tuple[str, ...]  # regions of those offerings
    budgets: tuple[tuple[str, int], ...]  # (budget id, what is left in cents)
    gemeenten: tuple[str, ...]
    # (care type, region) pairs where extra places can go: a purchased offering there
    # that takes new children
    placeable: tuple[tuple[str, str], ...] = ()
    # budget id -> the ceiling's name for people ("Plafond Dordrecht 2027")
    budget_names: Mapping[str, str] = field(default_factory=dict)


def system_for(user: Principal, region: str) -> Principal:
    return Principal(
        username=f"systeem voor {user.username}"[:80],
        role=Role.BEHEER,
        organisation_id=user.organisation_id,
        region_code=region,
    )


def region_codes() -> tuple[str, ...]:
    """Every youth-care region by code: what beheer may choose from."""
    return tuple(sorted(reference.jeugdregios()))


def default_region() -> str:
    """Beheer's region when it names none: the first region by code, so what beheer
    sees does not move with the data (it used to be the region with the most waiting
    children)."""
    return region_codes()[0]


def region_of(session: Session, user: Principal, region: str | None) -> str:
    """The region `user` may compute aggregates for: inkoop its own, beheer the one it
    chose (any region; without a choice its own, else `default_region`)."""
    if user.role is Role.INKOOP:
        if not user.region_code:
            raise AccessDenied("Uw account hoort niet bij een regio.")
        if region and region != user.region_code:
            raise AccessDenied("U ziet alleen cijfers van uw eigen regio.")
        return user.region_code
    if user.role is Role.BEHEER:
        chosen = region or user.region_code or default_region()
        if chosen not in reference.jeugdregios():
            raise AccessDenied("Deze regio bestaat niet. Kies een regio uit de lijst.")
        return chosen
    raise AccessDenied("Deze rol kan geen inkoopscenario's berekenen.")


def load_region(
    session: Session, user: Principal, *, today: dt.date, region: str | None = None
) -> Scenario:
    """The region's scenario, read with system rights on behalf of `user` (inkoop or
    beheer), audited; never hand it to a route."""
    code = region_of(session, user, region)
    system = system_for(user, code)
    sc = scenario_from_db(session, system, evaluation_date=today, region_code=code)
    audit(
        session,
        user,
        AuditAction.READ,
        "kinderen (aggregaat)",
        (),
        count=len(sc.children),
        detail="inkoop-scenario: alleen totalen, cellen onder 5 verborgen",
    )
    # Not flushed here: written with the commit of the caller's transaction, so a job
    # does not hold SQLite's write lock while it computes (see wijzer.jobs).
    return sc


def region_options(
    session: Session, user: Principal, *, today: dt.date, region: str | None = None
) -> RegionOptions:
    """The supply side of the region, for the form (offerings and budgets are not case
    data; the gemeenten come from the reference list)."""
    code = region_of(session, user, region)
    system = system_for(user, code)
    offerings = [
        o
        for o in search_offerings(session, system)
        if o.region_code == code or code in o.service_regions
    ]
    tables = purchase_tables(session, region_code=code)
    gem = reference.gemeenten()
    cts = sorted({o.care_type for o in offerings})
    regions = sorted({gem[o.gemeente_code].region_code for o in offerings})
    budgets = tuple((b.ext_id, b.ceiling_cents - b.spent_cents) for b in tables.budgets)
    region_ref = reference.jeugdregios().get(code)
    gemeenten = tuple(region_ref.gemeente_codes) if region_ref else ()
    contracted = {(c.provider, c.care_type) for c in tables.contracts}
    placeable = sorted(
        {
            (o.care_type, gem[o.gemeente_code].region_code)
            for o in offerings
            if not o.intake_stop and (o.provider_ext_id, o.care_type) in contracted
        }
    )
    names = {b.ext_id: budget_name(b, today.year, tables.provider_names) for b in tables.budgets}
    return RegionOptions(
        code, tuple(cts), tuple(regions), budgets, gemeenten, tuple(placeable), names
    )
