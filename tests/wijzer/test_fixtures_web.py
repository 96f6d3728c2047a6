"""The acceptance fixtures u1 and u3-u6 (tests/fixtures/scenarios) through the store
and the web app: each fixture is written as import files, imported into a fresh
database, matched by a tafel through the JSON API, and read back as JSON and as the
HTML run page.  The decisive reason, the change that would help and the totals must
be the same as the domain gives them (tests/domain/test_truthful.py).

u2 (a family that prefers another waiting list) is checked in the domain only: the
import format has no column for that preference.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.domain import Scenario
from matcher.domain.caretypes import UNCLASSIFIED_CODE
from matcher.domain.scenario_file import load
from providers import reference
from providers.io import export_tables
from providers.store import Principal, accounts, import_files
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import OrganisationKind, Role
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.test_no_raw_codes import visible_text
from wijzer.app import create_app
from wijzer.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
PASSWORD = "correct paard batterij niet"
MEASURE = {str(i.get("matcher")): c for c, i in reference.measures().items()}
GI = next(iter(reference.gis()))


def _ref_region(sc: Scenario, code: str) -> tuple[str, str]:
    """(reference region, a gemeente in it) for a fixture region: the fixture may give
    a region its own code; the store places a gemeente by the reference list."""
    gem = reference.gemeenten()
    own = next((r for r in sc.regions if r.code == code), None)
    if own and own.gemeenten:
        g = own.gemeenten[0]
        return gem[g].region_code, g
    g = next(c for c, x in gem.items() if x.region_code == code)
    return code, g


def records(sc: Scenario) -> dict[str, list[dict[str, Any]]]:
    """The fixture in the import format (only what that format can say)."""
    ev = sc.evaluation_date
    out: dict[str, list[dict[str, Any]]] = {
        "aanbieders": [],
        "aanbod": [],
        "contracten": [],
        "budgetten": [],
        "kinderen": [],
    }
    for o in sc.offerings:
        region, gemeente = _ref_region(sc, o.region)
        if not any(p["aanbieder_id"] == o.provider for p in out["aanbieders"]):
            out["aanbieders"].append(
                {"aanbieder_id": o.provider, "naam": o.provider_name, "regio": region}
            )
        # one release after a wait becomes the published wait (providers.convert.releases)
        wait = (o.releases[0].on - ev).days if o.free_now == 0 and o.releases else 0
        out["aanbod"].append(
            {
                "aanbod_id": o.id,
                "aanbieder_id": o.provider,
                "zorgvorm": o.care_type.value,
                "gemeente": o.location_gemeente or gemeente,
                "plaatsen_vrij": o.free_now,
                "vrijkomend_per_week": 0.0,
                "leeftijd_min": o.age_min,
                "leeftijd_max": o.age_max,
                "prijs_per_plaatsing": o.price_cents,
                "intake_dagen": o.intake_lead_days,
                "verwachte_wachttijd_dagen": wait,
                "bevestigd_door": "planning",
                "bevestigd_op": ev,
            }
        )
    for c in sc.contracts:
        out["contracten"].append(
            {
                "contract_id": c.id,
                "aanbieder_id": c.provider,
                "regio": _ref_region(sc, c.buyer)[0],
                "zorgvorm": c.care_type.value,
                "geldig_van": dt.date(ev.year - 1, 1, 1),
                "geldig_tot": dt.date(ev.year + 1, 12, 31),
            }
        )
    for b in sc.budgets:
        region = _ref_region(sc, sc.regions[0].code)[0]
        out["budgetten"].append(
            {
                "budget_id": b.id,
                "niveau": "perceel" if b.perceel else "aanbieder",
                "regio": region,
                "aanbieder_id": b.provider,
                "perceel": b.perceel,
                "plafond": b.ceiling_cents,
                "besteed": b.spent_cents,
                "bevestigd_door": "inkoop",
                "bevestigd_op": ev,
            }
        )
    for i, k in enumerate(sc.children, start=1):
        age = k.age_on(ev)
        codes = [n.care_type.value for n in k.needs] + [
            UNCLASSIFIED_CODE for _ in k.unclassified_needs
        ]
        assert k.ruling_date is not None
        out["kinderen"].append(
            {
                "kind_ref": pseudonym(i),
                "gemeente": k.gemeente,
                "geboortemaand": f"{ev.year - age:04d}-{ev.month:02d}",
                "gi": GI,
                "maatregel": MEASURE[k.measure.value],
                "uitspraakdatum": k.ruling_date,
                "zorgvorm": codes[0],
                "zorgvorm_2": codes[1] if len(codes) > 1 else None,
                "zorgvorm_3": codes[2] if len(codes) > 2 else None,
            }
        )
    return {t: rows for t, rows in out.items() if rows}


def pseudonym(i: int) -> str:
    """The store takes pseudonyms with digits only: the fixture's refs are letters."""
    return f"K-{i:05d}"


@dataclass
class Site:
    app: FastAPI
    refs: dict[str, str]  # fixture ref -> stored pseudonym
    username: str


@pytest.fixture
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    sc = load(FIXTURES / request.param)
    ev = sc.evaluation_date
    files = tmp_path / "data.json"
    export_tables(records(sc), "json", files)
    db = tmp_path / "wijzer.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    factory = session_factory(engine)
    import_files(factory, Principal.system("test"), files, today=ev)
    region = reference.gemeenten()[sc.children[0].gemeente].region_code
    with factory.begin() as s:
        org = accounts.create_organisation(s, "Tafel", OrganisationKind.REGIO, region_code=region)
        accounts.create_account(s, "tafel-u", PASSWORD, Role.TAFEL, org)
    engine.dispose()
    app = create_app(
        Settings(
            secret_key="test-secret-" + "x" * 32,
            database_url=f"sqlite:///{db}",
            today=ev,
        )
    )
    yield Site(app, {c.ref: pseudonym(i) for i, c in enumerate(sc.children, 1)}, "tafel-u")
    app.state.engine.dispose()


def _run(site: Site) -> tuple[dict[str, Any], str]:
    """A tafel run of every child: its JSON answer and its HTML page's text."""
    with TestClient(site.app) as c:
        login(c, site.username, PASSWORD)
        token = csrf_from(c.get("/tafel").text)
        started = c.post(
            "/api/v1/tafel/runs",
            json={"refs": list(site.refs.values())},
            headers={"X-CSRF-Token": token},
        )
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 90
        body: dict[str, Any] = c.get(started.headers["location"]).json()
        while not body["done"] and time.monotonic() < deadline:
            time.sleep(0.2)
            body = c.get(started.headers["location"]).json()
        assert body["status"] == "klaar", body
        page = visible_text(c.get(f"/tafel/runs/{body['id']}").text)
    return body["outcome"], " ".join(page.split())


def _row(outcome: dict[str, Any], ref: str) -> dict[str, Any]:
    (row,) = [r for r in outcome["rows"] if r["child_ref"] == ref]
    return row


def _totals_add_up(outcome: dict[str, Any], page: str) -> None:
    s = outcome["summary"]
    assert s["needs"] == s["placed"] + s["unplaced"] + s["unclassified"] == len(outcome["rows"])
    assert (
        s["children_placed"]
        + s["children_unplaced"]
        + s["children_unclassified"]
        + s["children_not_waiting"]
        == s["children"]
    )
    assert f"Nog geen plek: {s['unplaced']}" in page
    assert f"Kinderen: {s['children']}." in page


def _on_page(row: dict[str, Any], page: str) -> None:
    for line in row["sentences"]:
        assert " ".join(line.split()) in page, line


@pytest.mark.parametrize("site", ["u1_unclassified_batch.json"], indirect=True)
def test_u1_every_child_counted(site: Site) -> None:
    outcome, page = _run(site)
    _totals_add_up(outcome, page)
    s = outcome["summary"]
    assert (s["children"], s["children_unclassified"], s["unclassified"]) == (4, 1, 1)
    row = _row(outcome, site.refs["H4"])
    assert row["unclassified"] is True
    assert row["placed"] is False
    assert "Hulpvraag nog niet bepaald (niet gematcht, wel geteld): 1" in page
    _on_page(row, page)


@pytest.mark.parametrize("site", ["u3_third_in_queue.json"], indirect=True)
def test_u3_three_places(site: Site) -> None:
    outcome, page = _run(site)
    _totals_add_up(outcome, page)
    row = _row(outcome, site.refs["C"])
    assert row["placed"] is False
    assert "Alle plekken die passen zijn vol" in row["summary_text"]
    assert row["sentences"][1] == "Doorslaggevend: er is geen plek vrij: de plekken zijn vol."
    assert row["smallest_change"] is not None
    assert "er bij Gezinshuis De Linde" in row["smallest_change"]
    assert "3 plekken bij komt" in row["smallest_change"]
    _on_page(row, page)


@pytest.mark.parametrize("site", ["u4_ceiling_search.json"], indirect=True)
def test_u4_the_smallest_raise_by_name(site: Site) -> None:
    outcome, page = _run(site)
    _totals_add_up(outcome, page)
    row = _row(outcome, site.refs["B"])
    assert row["placed"] is False
    assert row["sentences"][1].startswith("Doorslaggevend: het budgetplafond is bereikt.")
    change = row["smallest_change"]
    assert change is not None
    assert "Plafond GGZ Drechtsteden, ambulante hulp 2021 met € 1.002 omhoog gaat" in change
    assert "DORD-GGZ" not in page
    _on_page(row, page)


@pytest.mark.parametrize("site", ["u5_overdue_late.json"], indirect=True)
def test_u5_a_late_start_said_as_late(site: Site) -> None:
    outcome, page = _run(site)
    _totals_add_up(outcome, page)
    row = _row(outcome, site.refs["D"])
    assert row["placed"] is False
    change = row["smallest_change"]
    assert change is not None
    # one extra place now: the earliest start, still after the deadline
    assert change.endswith(
        "kan het kind starten bij Behandelcentrum Lombardijen (Rotterdam) "
        "op 1 maart 2022, maar dat is te laat."
    )
    _on_page(row, page)


@pytest.mark.parametrize("site", ["u6_no_gezinshuis_in_region.json"], indirect=True)
def test_u6_nobody_in_the_region(site: Site) -> None:
    outcome, page = _run(site)
    _totals_add_up(outcome, page)
    row = _row(outcome, site.refs["G"])
    assert row["placed"] is False
    assert row["sentences"][1].startswith(
        "Niemand in de regio biedt gezinshuis; inkoop kan dit inkopen."
    )
    _on_page(row, page)
