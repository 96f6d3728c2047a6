""" "Binnen de norm" on every surface: an overdue child placed within the objective's
grace days is late, with its days late, and counts as placed but not within the norm
(the tafel page, its besluitenlijst, the comparison, the search, the uitvraag, inkoop
and the JSON API).  The data: tests/wijzer/overdue.py."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from providers.store.engine import make_engine, session_factory
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.data import CARE, DORDRECHT, REGION
from tests.wijzer.overdue import DAYS_LATE, DAYS_PAST, ON_TIME, OVERDUE, make_overdue_region
from wijzer.app import create_app
from wijzer.settings import Settings

LATE_TEXT = f"Te laat: start {DAYS_LATE} dagen na de deadline"


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    engine = make_engine(settings.database_url)
    make_overdue_region(session_factory(engine))
    engine.dispose()
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def _wait_api(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    body: dict[str, Any] = client.get(location).json()
    while not body["done"] and time.monotonic() < deadline:
        time.sleep(0.2)
        body = client.get(location).json()
    assert body["status"] == "klaar", body
    return body


def _run(client: TestClient, refs: list[str]) -> dict[str, Any]:
    token = csrf_from(client.get("/tafel").text)
    started = client.post(
        "/api/v1/tafel/runs", json={"refs": refs}, headers={"X-CSRF-Token": token}
    )
    assert started.status_code == 202, started.text
    return _wait_api(client, started.headers["location"])


def _row(html: str, ref: str) -> str:
    return html.split(f">{ref}</th>")[1].split("</tr>")[0]


def test_tafel_run_page_api_and_besluitenlijst(client: TestClient) -> None:
    login(client, "test-tafel")
    body = _run(client, [*OVERDUE, *ON_TIME])
    s = body["outcome"]["summary"]
    assert (s["needs"], s["placed"], s["within_norm"], s["placed_late"]) == (10, 10, 5, 5)
    rows = {r["child_ref"]: r for r in body["outcome"]["rows"]}
    for ref in OVERDUE:
        assert rows[ref]["placed"]
        assert rows[ref]["within_norm"] is False
        assert rows[ref]["days_late"] == DAYS_LATE
        assert rows[ref]["norm"] == LATE_TEXT
    for ref in ON_TIME:
        assert (rows[ref]["within_norm"], rows[ref]["days_late"]) == (True, 0)
        assert rows[ref]["norm"] == "Binnen de norm"

    page = f"/tafel/runs/{body['id']}"
    html = client.get(page).text
    assert "Uitkomst: 5 van 10 hulpvragen binnen de norm" in html
    assert "Peildatum: " in html
    assert "Een plek, maar te laat (start na de deadline): 5" in html
    for ref in OVERDUE:
        row = _row(html, ref)
        assert LATE_TEXT in row
        assert "Binnen de norm" not in row

    table = _csv(client.get(f"{page}/besluitenlijst.csv").text)
    head = table[0]
    by_ref = {r[0]: dict(zip(head, r, strict=True)) for r in table[1:]}
    for ref in OVERDUE:
        assert by_ref[ref]["binnen_norm"] == "nee"
        assert by_ref[ref]["norm"] == LATE_TEXT
        assert by_ref[ref]["dagen_te_laat"] == str(DAYS_LATE)
    assert by_ref[ON_TIME[0]]["norm"] == "Binnen de norm"
    sheet = load_workbook(io.BytesIO(client.get(f"{page}/besluitenlijst.xlsx").content)).active
    assert sheet is not None
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    xhead = cells[0]
    late_rows = [dict(zip(xhead, r, strict=True)) for r in cells[1:] if r[0] in OVERDUE]
    assert len(late_rows) == len(OVERDUE)
    assert all(r["norm"] == LATE_TEXT for r in late_rows)
    assert all(int(str(r["dagen_te_laat"])) == DAYS_LATE for r in late_rows)


def test_comparison_shows_the_overdue_child_late(client: TestClient) -> None:
    login(client, "test-tafel")
    a = _run(client, [*OVERDUE, *ON_TIME])
    b = _run(client, [OVERDUE[0], ON_TIME[0]])
    html = client.get(f"/tafel/vergelijk?a={a['id']}&b={b['id']}").text
    row = _row(html, OVERDUE[0])
    assert LATE_TEXT in row
    assert "Binnen de norm" not in row
    assert "Een plek, maar te laat" in html
    api = client.get("/api/v1/tafel/vergelijk", params={"a": a["id"], "b": b["id"]}).json()
    late = next(r for r in api["rows"] if r["child_ref"] == OVERDUE[0])
    assert (late["a_within_norm"], late["a_norm"]) == (False, LATE_TEXT)


def test_search_badge_says_late_with_days_late(client: TestClient) -> None:
    login(client, "test-verwijzer")
    params = {"zorgvorm": CARE, "leeftijd": "10", "gemeente": DORDRECHT, "uitspraak": "2026-07-01"}
    body = client.get("/api/v1/zoeken", params=params).json()
    assert body["deadline"] == "2026-10-01"
    fast = next(r for r in body["results"] if r["provider"] == "Hulp Zuid")
    assert fast["verdict"] == "PAST_DEADLINE"
    assert fast["days_late"] >= DAYS_LATE
    assert fast["verdict_text"].startswith("Te laat: start ")
    assert f"{fast['days_late']} dagen na de deadline" in fast["verdict_text"]
    assert not fast["uncertain"]
    html = client.get("/zoeken", params=params).text
    results = html.split('id="resultaten-titel"')[1].split("niet-passend-titel")[0]
    assert fast["verdict_text"] in results
    assert "Binnen de norm" not in results


def test_uitvraag_page_and_export_say_late_with_days(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    for ref in OVERDUE:
        row = _row(html, ref)
        assert f"Te laat ({DAYS_PAST} dagen)" in row
        assert "Binnen de norm" not in row
    body = client.get("/api/v1/rapportage/uitvraag").json()
    late = next(c for c in body["children"] if c["child_ref"] == OVERDUE[0])
    assert (late["norm_status"], late["days_late"]) == (f"Te laat ({DAYS_PAST} dagen)", DAYS_PAST)
    table = _csv(client.get("/rapportage/uitvraag.csv").text)
    head = table[0]
    by_ref = {r[0]: dict(zip(head, r, strict=True)) for r in table[1:]}
    assert by_ref[OVERDUE[0]]["norm"] == f"Te laat ({DAYS_PAST} dagen)"
    assert by_ref[OVERDUE[0]]["dagen_te_laat"] == str(DAYS_PAST)


def test_inkoop_scenario_counts_overdue_children_placed_but_late(client: TestClient) -> None:
    login(client, "test-inkoop")
    token = csrf_from(client.get("/inkoop").text)
    response = client.post(
        "/inkoop/scenario",
        data={"csrf_token": token, "zorgvorm_1": CARE, "regio_1": REGION, "plekken_1": "5"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    body = _wait_api(client, f"/api/v1/inkoop/scenarios/{url.rsplit('/', 1)[1]}")
    r = body["result"]
    assert r["needs"] == 10
    assert (r["within"]["baseline"], r["within"]["scenario"]) == (5, 5)
    assert (r["blocked"]["baseline"], r["blocked"]["scenario"]) == (5, 5)
    assert (r["placed_late"]["baseline"], r["placed_late"]["scenario"]) == (5, 5)
    html = client.get(url).text
    row = html.split("Waarvan een plek, maar te laat")[1].split("</tr>")[0]
    assert ">5</td>" in row
    table = _csv(client.get(f"{url}/totalen.csv").text)
    late = next(x for x in table if "Waarvan een plek, maar te laat" in x[1])
    assert late[5:7] == ["5", "5"]
