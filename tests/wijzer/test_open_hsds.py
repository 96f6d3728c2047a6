"""The open HSDS feed: valid HSDS 3.1 objects, paged as the HSDS API says,
anonymous and cacheable, with no child data and no address of any location."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select

from providers.store.models import Child, Offering, Provider
from tests.wijzer.data import DORDRECHT, REGION

MODELS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "hsds" / "hsds_validator_models.py"
# Foreign keys of HSDS 3.1 that the vendored models leave out; every other field of
# the feed must be a field of the model.
FOREIGN_KEYS = {
    "Service": {"organization_id"},
    "Service_At_Location": {"location_id"},
}


@pytest.fixture(scope="module")
def hsds() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hsds_models", MODELS_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["hsds_models"] = module
    spec.loader.exec_module(module)
    for model in module.HSDS_MODELS.values():
        model.model_rebuild()
    return module


def _check(hsds: ModuleType, name: str, obj: dict[str, Any]) -> None:
    """Valid for the model, and no field the model (or HSDS's foreign keys) lacks;
    nested objects are checked with their own model."""
    model: type[BaseModel] = hsds.HSDS_MODELS[name]
    model.model_validate(obj)
    unknown = set(obj) - set(model.model_fields) - FOREIGN_KEYS.get(name, set())
    assert not unknown, (name, unknown)
    nested = {
        "organization": "Organization",
        "location": "Location",
        "unit": "Unit",
    }
    lists = {
        "service_at_locations": "Service_At_Location",
        "capacities": "Service_Capacity",
        "services": "Service",
    }
    for key, sub in nested.items():
        if isinstance(obj.get(key), dict):
            _check(hsds, sub, obj[key])
    for key, sub in lists.items():
        for item in obj.get(key) or []:
            _check(hsds, sub, item)


@pytest.fixture
def gezinshuis(app: FastAPI) -> str:
    """A gezinshuis in Dordrecht: a protected location."""
    with app.state.sessions.begin() as s:
        provider = s.scalars(select(Provider).where(Provider.ext_id == "P-SUB")).one()
        s.add(
            Offering(
                ext_id="O-GEZINSHUIS",
                provider_id=provider.id,
                care_type="GEZINSHUIS",
                gemeente_code=DORDRECHT,
                region_code=REGION,
                places_free=1,
                age_min=4,
                age_max=17,
                confirmed_by="Jansen",
                confirmed_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC),
            )
        )
    return "O-GEZINSHUIS"


def test_every_object_of_the_feed_is_valid_hsds(
    client: TestClient, hsds: ModuleType, gezinshuis: str
) -> None:
    root = client.get("/open/hsds").json()
    assert root["version"] == "3.1"
    listing = client.get("/open/hsds/services?per_page=200").json()
    assert listing["total_items"] == len(listing["contents"]) > 0
    for summary in listing["contents"]:
        full = client.get(f"/open/hsds/services/{summary['id']}")
        assert full.status_code == 200
        _check(hsds, "Service", full.json())
    orgs = client.get("/open/hsds/organizations?per_page=200").json()["contents"]
    assert {o["name"] for o in orgs} >= {"Hulp Zuid", "Kleine Praktijk"}
    for org in orgs:
        _check(hsds, "Organization", org)
        one = client.get(f"/open/hsds/organizations/{org['id']}").json()
        _check(hsds, "Organization", {k: v for k, v in one.items() if k != "services"})
        for s in one["services"]:
            _check(hsds, "Service", s)
    for sal in client.get("/open/hsds/service_at_locations?per_page=200").json()["contents"]:
        _check(hsds, "Service_At_Location", sal)


def test_capacity_is_free_places_with_unit_and_last_confirmation(
    client: TestClient, gezinshuis: str
) -> None:
    services = client.get("/open/hsds/services?per_page=200&regio=JZ31").json()["contents"]
    house = next(s for s in services if s["name"] == "Gezinshuis")
    assert (house["minimum_age"], house["maximum_age"]) == (4, 17)
    [cap] = house["capacities"]
    assert cap["available"] == 1
    assert cap["unit"]["name"] == "plekken"
    assert dt.datetime.fromisoformat(cap["updated"]) == dt.datetime(
        2026, 11, 20, 9, 30, tzinfo=dt.UTC
    )
    stop = next(c for s in services for c in s["capacities"] if "opnamestop" in c["description"])
    assert stop["available"] == 0
    # the region filter leaves the other region's offering out
    assert all(s["organization_id"] for s in services)
    every = client.get("/open/hsds/services?per_page=200").json()["total_items"]
    other = client.get("/open/hsds/services?per_page=200&regio=JZ22").json()["contents"]
    assert other, "the second region of the seed has offerings of its own"
    assert not {s["id"] for s in other} & {s["id"] for s in services}
    assert every == len(services) + len(other)


def test_no_child_data_and_no_address_anywhere(
    client: TestClient, app: FastAPI, gezinshuis: str
) -> None:
    with app.state.sessions() as s:
        refs = list(s.scalars(select(Child.ref)))
        confirmers = set(s.scalars(select(Offering.confirmed_by)))
    assert refs
    urls = ["/open/hsds/services?per_page=200", "/open/hsds/organizations?per_page=200"]
    urls.append("/open/hsds/service_at_locations?per_page=200")
    bodies = [client.get(u).json() for u in urls]
    text = json.dumps(bodies, ensure_ascii=False)
    for ref in refs:
        assert ref not in text
    for name in confirmers:
        assert f'"{name}"' not in text
    for word in ("price", "prijs", "contra", "child", "kind", "bsn"):
        assert f'"{word}' not in text.lower()
    locations = [
        sal["location"] for s in bodies[0]["contents"] for sal in s["service_at_locations"]
    ]
    house = next(s for s in bodies[0]["contents"] if s["name"] == "Gezinshuis")
    [where] = [sal["location"] for sal in house["service_at_locations"]]
    assert where["name"] == "Dordrecht"
    assert where["external_identifier"] == DORDRECHT
    for loc in locations:
        assert "addresses" not in loc
        assert "latitude" not in loc
        assert "longitude" not in loc
    assert "address_1" not in text
    assert "postal_code" not in text


def test_pages_follow_the_hsds_api(client: TestClient) -> None:
    first = client.get("/open/hsds/services?per_page=1").json()
    total = first["total_items"]
    assert total >= 2
    assert first["total_pages"] == total
    assert (first["page_number"], first["size"], first["first_page"]) == (1, 1, True)
    assert not first["last_page"]
    last = client.get(f"/open/hsds/services?per_page=1&page={total}").json()
    assert last["last_page"]
    assert not last["first_page"]
    assert last["contents"][0]["id"] != first["contents"][0]["id"]
    past = client.get(f"/open/hsds/services?per_page=1&page={total + 1}").json()
    assert past["empty"]
    assert past["contents"] == []
    assert client.get("/open/hsds/services?per_page=0").status_code == 422


def test_anonymous_and_cacheable(client: TestClient) -> None:
    response = client.get("/open/hsds/services")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public, max-age=")
    etag = response.headers["etag"]
    assert "set-cookie" not in response.headers
    again = client.get("/open/hsds/services", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    missing = client.get("/open/hsds/services/geen")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/json")
