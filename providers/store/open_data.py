"""The open catalogue: what anyone may read without signing in.

Only the fields below leave this module: who offers which help, in which gemeente,
for which ages, how many places are free and when that was last confirmed.  No child
data, no prices, no contra-indications and not the name of the person who confirmed.
The store holds no street address of any location, and this read gives the gemeente
code only, so a gezinshuis or another protected location is never findable from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from providers.store.models import Offering, Provider


def _aware(t: dt.datetime) -> dt.datetime:
    # SQLite gives naive datetimes back; the store writes UTC
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class OpenOffering:
    provider_id: str
    provider_name: str
    offering_id: str
    care_type: str
    gemeente_code: str
    region_code: str
    places_free: int
    intake_stop: bool
    age_min: int
    age_max: int
    confirmed_at: dt.datetime


def open_offerings(session: Session, region_code: str | None = None) -> list[OpenOffering]:
    """Every offering (of one region, when given), by provider and offering id."""
    q = select(Offering, Provider).join(Provider, Offering.provider_id == Provider.id)
    if region_code:
        q = q.where(Offering.region_code == region_code)
    q = q.order_by(Provider.ext_id, Offering.ext_id)
    return [
        OpenOffering(
            provider_id=p.ext_id,
            provider_name=p.name,
            offering_id=o.ext_id,
            care_type=o.care_type,
            gemeente_code=o.gemeente_code,
            region_code=o.region_code,
            places_free=o.places_free,
            intake_stop=o.intake_stop,
            age_min=o.age_min,
            age_max=o.age_max,
            confirmed_at=_aware(o.confirmed_at),
        )
        for o, p in session.execute(q)
    ]
