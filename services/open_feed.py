"""Use case: the open catalogue as HSDS 3.1 (Open Referral's Human Services Data
Specification), for anyone, without signing in.

Mapping (docs/open-data.md):

- organization: a provider (aanbieder);
- service: the help one provider offers, one per care type, with the ages it
  accepts (`minimum_age`, `maximum_age`) and its organization;
- location: where, at gemeente level only (name and CBS code, never an address),
  so that no gezinshuis or other protected location can be found;
- service_at_location: the service in that gemeente;
- service_capacity: per offering, `available` free places (0 during an intake
  stop), `unit` "plekken", `updated` = when the provider last confirmed the figure.

Identifiers are UUIDs derived from the stable ids (the same offering keeps the same
id in every response).  Lists are pages as in the HSDS API: `page` counts from 1,
`per_page` items per page.  No child data is read: the data layer's open read
(`providers.store.open_data`) gives nothing else.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from matcher.domain.caretypes import care_type_label
from providers import reference
from providers.store.open_data import OpenOffering, open_offerings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

HSDS_VERSION = "3.1"
PER_PAGE = 50
MAX_PER_PAGE = 200
_NS = uuid.UUID("3f1c5a52-8d0e-4c3b-9a57-0e4b1f6a2d10")
UNIT = {"id": str(uuid.uuid5(_NS, "unit:plekken")), "name": "plekken"}


def hsds_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{key}"))


@dataclass(frozen=True)
class Catalogue:
    organizations: list[dict[str, Any]]
    services: list[dict[str, Any]]


def _gemeente_name(code: str) -> str:
    g = reference.gemeenten().get(code)
    return g.name if g else code


def _location(o: OpenOffering) -> dict[str, Any]:
    name = _gemeente_name(o.gemeente_code)
    return {
        "id": hsds_id("location", f"{o.provider_id}:{o.gemeente_code}"),
        "location_type": "physical",
        "name": name,
        "description": f"In de gemeente {name}. Het adres publiceren we niet.",
        "external_identifier": o.gemeente_code,
        "external_identifier_type": "CBS-gemeentecode",
    }


def _capacity(o: OpenOffering, service_id: str) -> dict[str, Any]:
    return {
        "id": hsds_id("capacity", o.offering_id),
        "service_id": service_id,
        "unit": UNIT,
        "available": 0 if o.intake_stop else o.places_free,
        "description": f"Vrije plekken in {_gemeente_name(o.gemeente_code)}"
        + (" (nu geen aanmeldingen: opnamestop)" if o.intake_stop else ""),
        "updated": o.confirmed_at.isoformat(),
    }


def _organization(provider_id: str, name: str) -> dict[str, Any]:
    return {
        "id": hsds_id("organization", provider_id),
        "name": name,
        "description": f"Aanbieder van jeugdhulp: {name}.",
        "additional_websites": [],
    }


def catalogue(session: Session, region_code: str | None = None) -> Catalogue:
    """The whole catalogue (of one region, when given) as HSDS objects."""
    offerings = open_offerings(session, region_code)
    orgs: dict[str, dict[str, Any]] = {}
    by_service: dict[tuple[str, str], list[OpenOffering]] = defaultdict(list)
    for o in offerings:
        orgs.setdefault(o.provider_id, _organization(o.provider_id, o.provider_name))
        by_service[(o.provider_id, o.care_type)].append(o)
    services = []
    for (provider_id, care_type), offs in sorted(by_service.items()):
        sid = hsds_id("service", f"{provider_id}:{care_type}")
        org = orgs[provider_id]
        low, high = min(o.age_min for o in offs), max(o.age_max for o in offs)
        label = care_type_label(care_type, capital=True)
        locations = {o.gemeente_code: _location(o) for o in offs}
        services.append(
            {
                "id": sid,
                "organization_id": org["id"],
                "name": label,
                "description": f"{label}, aangeboden door {org['name']}.",
                "status": "active",
                "minimum_age": low,
                "maximum_age": high,
                "eligibility_description": f"Voor kinderen en jongeren van {low} tot en met "
                f"{high} jaar.",
                "additional_urls": [],
                "last_modified": max(o.confirmed_at for o in offs).isoformat(),
                "organization": org,
                "service_at_locations": [
                    {
                        "id": hsds_id("service_at_location", f"{sid}:{code}"),
                        "service_id": sid,
                        "location_id": loc["id"],
                        "location": loc,
                    }
                    for code, loc in sorted(locations.items())
                ],
                "capacities": [_capacity(o, sid) for o in offs],
            }
        )
    return Catalogue(
        organizations=sorted(orgs.values(), key=lambda x: x["name"]), services=services
    )


def page(items: list[dict[str, Any]], number: int, per_page: int) -> dict[str, Any]:
    """One page as the HSDS API's `Page`: the counts, whether it is the first or the
    last page, and the items (`contents`).  A page past the end is empty."""
    size = max(1, min(per_page, MAX_PER_PAGE))
    number = max(1, number)
    pages = max(1, math.ceil(len(items) / size))
    contents = items[(number - 1) * size : number * size]
    return {
        "total_items": len(items),
        "total_pages": pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= pages,
        "empty": not contents,
        "contents": contents,
    }


def summary(service: dict[str, Any]) -> dict[str, Any]:
    """A service in a list: without its nested organization (the list of organizations
    has those)."""
    return {k: v for k, v in service.items() if k != "organization"}
