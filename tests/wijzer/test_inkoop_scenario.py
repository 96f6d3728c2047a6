"""Inkoop scenarios through the app: form, job, result, export, API, and who may not."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from providers.store.access import Principal
from providers.store.models import AuditEntry
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.data import CARE, REGION
from wijzer.auth import Role


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    for _ in range(150):
        body: dict[str, Any] = client.get(f"/api/v1/inkoop/scenarios/{job_id}").json()
        if body["done"]:
            return body
        time.sleep(0.1)
    raise AssertionError("the scenario did not finish")


def _start(client: TestClient, **fields: str) -> Any:
    token = csrf_from(client.get("/inkoop").text)
    return client.post(
        "/inkoop/scenario", data={"csrf_token": token, **fields}, follow_redirects=False
    )


def test_scenario_runs_and_shows_only_totals(client: TestClient, app: FastAPI) -> None:
    login(client, "test-inkoop")
    response = _start(client, zorgvorm_1=CARE, regio_1=REGION, plekken_1="3")
    assert response.status_code == 303
    url = response.headers["location"]
    job_id = url.rsplit("/", 1)[1]
    body = _wait(client, job_id)
    assert body["status"] == "klaar"
    assert body["params"]["extra_places"] == [[CARE, REGION, 3, None]]
    html = client.get(url).text
    assert "Uitkomst voor regio Zuid-Holland Zuid" in html
    assert "K-00" not in html
    assert "K-00" not in str(body)
    # three waiting children: every count is small, so everything is hidden
    assert "verborgen" in html
    assert re.search(r"<caption id=\"tabel-reden\">", html)
    csv = client.get(f"{url}/totalen.csv")
    assert csv.status_code == 200
    assert "K-00" not in csv.text
    assert csv.text.lstrip("\ufeff").startswith("tabel;groep;binnen de norm nu")
    xlsx = client.get(f"{url}/totalen.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    with app.state.sessions() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.actor == "test-inkoop")))
    assert any(e.entity == "kinderen (aggregaat)" and e.record_refs == "" for e in entries)
    assert any(e.action == "export" and e.entity == "inkoop_scenario" for e in entries)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"plekken_1": "abc", "zorgvorm_1": CARE}, "plekken_1", "heel getal"),
        ({"plekken_1": "-2", "zorgvorm_1": CARE}, "plekken_1", "heel getal"),
        ({"plekken_1": "3"}, "zorgvorm_1", "Kies de hulpvorm"),
        ({"plekken_1": "3", "zorgvorm_1": "ONBEKEND"}, "zorgvorm_1", "uit de lijst"),
        ({"plekken_1": "3", "zorgvorm_1": "PLEEGZORG"}, "prijs_1", "nog niet ingekocht"),
        ({"plekken_1": "3", "zorgvorm_1": "PLEEGZORG", "prijs_1": "veel"}, "prijs_1", "hele euro"),
        ({"plekken_1": "3", "zorgvorm_1": CARE, "regio_1": "JZ99"}, "regio_1", "uit de lijst"),
        ({"plafond_1": "veel"}, "plafond_1", "hele euro"),
        ({"uitstappen": "GM0344"}, "gemeenten", "uit de lijst"),
        ({}, "plekken_1", "minstens één wijziging"),
    ],
)
def test_bad_input_gets_b1_errors_and_starts_nothing(
    client: TestClient, app: FastAPI, fields: dict[str, str], field: str, message: str
) -> None:
    login(client, "test-inkoop")
    before = len(app.state.jobs.listing(Principal.system()))
    response = _start(client, **fields)
    assert response.status_code == 422
    html = response.text
    assert f'href="#veld-{field}"' in html
    assert message in html
    assert 'id="foutoverzicht-titel"' in html
    if field != "gemeenten":
        assert re.search(rf'id="veld-{field}"[^>]*aria-invalid="true"', html)
    assert len(app.state.jobs.listing(Principal.system())) == before


@pytest.mark.parametrize("role", [Role.VERWIJZER, Role.AANBIEDER, Role.TAFEL])
def test_other_roles_get_403(client: TestClient, role: Role) -> None:
    login(client, f"test-{role.value}")
    token = csrf_from(client.get("/").text)
    assert client.get("/inkoop").status_code == 403
    post = client.post(
        "/inkoop/scenario",
        data={"csrf_token": token, "zorgvorm_1": CARE, "regio_1": REGION, "plekken_1": "1"},
        follow_redirects=False,
    )
    assert post.status_code == 403
    api = client.post(
        "/api/v1/inkoop/scenarios",
        json={"extra_places": [{"care_type": CARE, "region": REGION, "places": 1}]},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 403
    assert client.get("/api/v1/inkoop/scenario-opties").status_code == 403


def test_a_table_run_is_not_an_inkoop_scenario(client: TestClient) -> None:
    login(client, "test-tafel")
    token = csrf_from(client.get("/").text)
    run = client.post(
        "/api/v1/tafel/runs", json={"refs": ["K-001"]}, headers={"X-CSRF-Token": token}
    )
    assert run.status_code == 202
    job_id = run.json()["id"]
    client.post("/uitloggen", data={"csrf_token": token})
    login(client, "test-inkoop")
    # same region, but a table run holds rows per child: never shown to inkoop
    assert client.get(f"/inkoop/scenario/{job_id}").status_code == 404
    assert client.get(f"/api/v1/inkoop/scenarios/{job_id}").status_code == 404
    assert client.get(f"/inkoop/scenario/{job_id}/totalen.csv").status_code == 404


def test_api_start_poll_and_errors(client: TestClient) -> None:
    login(client, "test-inkoop")
    token = csrf_from(client.get("/").text)
    opts = client.get("/api/v1/inkoop/scenario-opties").json()
    assert opts["region"] == REGION
    assert [c["value"] for c in opts["care_types"]] == [CARE]
    assert opts["budgets"][0]["budget"] == "B-BUDGET"
    bad = client.post(
        "/api/v1/inkoop/scenarios",
        json={"extra_places": [{"care_type": "ONBEKEND", "region": REGION, "places": 1}]},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "extra_places", 0, "care_type"]
    # pleegzorg is not purchased in the region: a new purchase, which needs a price
    no_price = client.post(
        "/api/v1/inkoop/scenarios",
        json={"extra_places": [{"care_type": "PLEEGZORG", "region": REGION, "places": 1}]},
        headers={"X-CSRF-Token": token},
    )
    assert no_price.status_code == 422
    detail = no_price.json()["detail"][0]
    assert detail["loc"] == ["body", "extra_places", 0, "price_euro"]
    assert "nog niet ingekocht" in detail["msg"]
    empty = client.post("/api/v1/inkoop/scenarios", json={}, headers={"X-CSRF-Token": token})
    assert empty.status_code == 422
    ok = client.post(
        "/api/v1/inkoop/scenarios",
        json={"ceiling_lifts": [{"budget": "B-BUDGET", "amount_euro": 5000}]},
        headers={"X-CSRF-Token": token},
    )
    assert ok.status_code == 202
    assert ok.headers["location"] == f"/api/v1/inkoop/scenarios/{ok.json()['id']}"
    body = _wait(client, ok.json()["id"])
    result = body["result"]
    assert result["region"] == REGION
    assert [t["id"] for t in result["tables"]] == ["reden", "zorgvorm", "gemeente"]
    assert "K-00" not in str(body)


def test_job_progress_page_without_javascript(client: TestClient) -> None:
    login(client, "test-inkoop")
    response = _start(client, uitstappen="GM0642")
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    # Either still running (progress with a plain refresh link) or done.
    assert ("Vernieuwen" in html and "<progress" in html) or "Uitkomst voor regio" in html


def test_advice_form_errors_and_run(client: TestClient, app: FastAPI) -> None:
    login(client, "test-inkoop")
    token = csrf_from(client.get("/inkoop").text)
    before = len(app.state.jobs.listing(Principal.system()))
    bad = client.post("/inkoop/advies", data={"csrf_token": token, "budget": "een ton"})
    assert bad.status_code == 422
    assert 'href="#veld-budget"' in bad.text
    assert "hele euro" in bad.text
    assert len(app.state.jobs.listing(Principal.system())) == before
    ok = client.post(
        "/inkoop/advies",
        data={"csrf_token": token, "budget": "1.000.000", "max_plekken": "3"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    job_id = ok.headers["location"].rsplit("/", 1)[1]
    body = _wait(client, job_id)
    assert body["status"] == "klaar"
    assert [r["rule"] for r in body["advice"]["rules"]] == ["advies", "langste_wachtlijst"]
    html = client.get(ok.headers["location"]).text
    assert "Inkoopadvies voor regio Zuid-Holland Zuid" in html
    assert "K-00" not in html
    csv = client.get(f"/inkoop/scenario/{job_id}/totalen.csv").text
    assert csv.lstrip("\ufeff").startswith("regel;hulpvorm;plekken")
