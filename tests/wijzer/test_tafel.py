"""Tafel: the region's waiting list, a matching run with progress, explanations,
pin/forbid and run again, compare, export."""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from providers.store import jobs as jobstore
from providers.store.access import Principal
from providers.store.jobs import JobKind
from providers.store.models import AuditEntry, Role
from services.matching import RunOutcome, RunParams, RunSummary
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.data import REGION, TODAY
from wijzer.jobs import WorkContext

TAFEL = Principal("test-tafel", Role.TAFEL, None, REGION)


@pytest.fixture
def tafel(client: TestClient) -> TestClient:
    login(client, "test-tafel")
    return client


def _run(client: TestClient, refs: list[str]) -> str:
    token = csrf_from(client.get("/tafel").text)
    response = client.post(
        "/tafel/runs", data={"kind": refs, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return _wait(client, response.headers["location"])


def _wait(client: TestClient, location: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        html = client.get(location).text
        if 'hx-trigger="every 1s"' not in html:
            return location
        time.sleep(0.2)
    raise AssertionError("the run did not finish")


def test_waiting_list_is_the_own_region_only(tafel: TestClient, app: FastAPI) -> None:
    html = tafel.get("/tafel").text
    for ref in ("K-001", "K-002", "K-003"):
        assert ref in html
    assert "K-004" not in html
    assert "3 wachtende kinderen" in html
    with app.state.sessions() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.entity == "children")).all()
    assert reads
    assert reads[-1].actor == "test-tafel"
    assert "K-004" not in reads[-1].record_refs


def test_run_places_and_explains(tafel: TestClient) -> None:
    location = _run(tafel, ["K-001", "K-002", "K-003"])
    html = tafel.get(location).text
    assert "Uitkomst:" in html
    # K-002 has zedenverleden: Hulp Zuid's fast offering refuses it.
    assert "Vastzetten" in html
    assert "besluitenlijst.xlsx" in html
    match = re.search(r"Uitkomst: (\d+) van (\d+) hulpvragen? binnen de norm", html)
    assert match
    # K-001 and K-003 take the two free places at Hulp Zuid. K-002 (zedenverleden) is
    # refused there; the only other route starts in February, after its 1 December
    # deadline, so K-002 stays without a place and gets an explanation.
    assert (match.group(1), match.group(2)) == ("2", "3")
    row = html.split(">K-002</th>")[1].split("</tr>")[0]
    assert "Nog geen plek" in row
    assert "Kind K-002 heeft nog geen plek" in row
    for ref in ("K-001", "K-003"):
        placed = html.split(f">{ref}</th>")[1].split("</tr>")[0]
        assert "Hulp Zuid (Dordrecht)" in placed
        assert "Binnen de norm" in placed


def _stored_job(app: FastAPI, refs: list[str]) -> str:
    """A waiting run of the test table, stored without a worker (the test plays the worker)."""
    with app.state.sessions.begin() as s:
        return jobstore.create(
            s, TAFEL, JobKind.TAFEL_RUN, "Proef", RunParams(refs=refs).model_dump_json()
        ).id


def test_progress_page_while_running_has_a_live_status(tafel: TestClient, app: FastAPI) -> None:
    job_id = _stored_job(app, ["K-001"])
    with app.state.sessions.begin() as s:
        jobstore.mark_running(s, job_id)
        jobstore.mark_progress(s, job_id, "Rekenen", 35)
    html = tafel.get(f"/tafel/runs/{job_id}").text
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="voortgang" max="100" value="35">' in html
    assert 'role="status">Rekenen (35%)' in html
    assert "Vernieuwen" in html
    partial = tafel.get(f"/tafel/runs/{job_id}", headers={"HX-Request": "true"}).text
    assert "<html" not in partial
    assert "<progress" in partial
    outcome = RunOutcome(
        summary=RunSummary(
            count_date=TODAY,
            needs=0,
            placed=0,
            within_norm=0,
            placed_late=0,
            unplaced=0,
            solver_status="OPTIMAL",
            solver_status_text="optimaal",
            wall_time_s=0.0,
            strategy="flow",
        ),
        rows=[],
    )
    with app.state.sessions.begin() as s:
        jobstore.mark_done(s, job_id, outcome.model_dump_json())
    assert 'hx-trigger="every 1s"' not in tafel.get(f"/tafel/runs/{job_id}").text


def test_no_children_selected_is_a_b1_error(tafel: TestClient) -> None:
    token = csrf_from(tafel.get("/tafel").text)
    response = tafel.post("/tafel/runs", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Kies 1 tot 600 kinderen" in response.text
    assert 'href="#veld-kinderen"' in response.text


def test_pin_forbid_rerun_and_compare(tafel: TestClient) -> None:
    first = _run(tafel, ["K-001", "K-002", "K-003"])
    html = tafel.get(first).text
    placed = re.findall(r'name="uitsluiten" value="([^"]+)"', html)
    assert placed
    token = csrf_from(html)
    job_id = first.rsplit("/", 1)[1]
    response = tafel.post(
        f"/tafel/runs/{job_id}/opnieuw",
        data={"uitsluiten": placed[0], "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    second = _wait(tafel, response.headers["location"])
    html2 = tafel.get(second).text
    assert "1 uitgesloten" in html2
    compare = tafel.get(f"/tafel/vergelijk?a={job_id}&b={second.rsplit('/', 1)[1]}")
    assert compare.status_code == 200
    assert "Twee berekeningen naast elkaar" in compare.text
    child = placed[0].split("|")[0]
    # The forbidden placement is gone for that child in run B.
    row = compare.text.split(f">{child}</th>")[1].split("</tr>")[0]
    assert "Anders" in row


def test_export_csv_and_xlsx_are_audited(tafel: TestClient, app: FastAPI) -> None:
    location = _run(tafel, ["K-001", "K-003"])
    csv_response = tafel.get(f"{location}/besluitenlijst.csv")
    assert csv_response.status_code == 200
    assert "attachment" in csv_response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(csv_response.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["kind", "behoefte", "hulp", "uitkomst"]
    assert {r[0] for r in rows[1:]} == {"K-001", "K-003"}
    xlsx = tafel.get(f"{location}/besluitenlijst.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "kind"
    with app.state.sessions() as s:
        exports = s.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
    assert len(exports) == 2
    assert "K-001" in exports[0].record_refs


def test_other_region_cannot_open_a_run(app: FastAPI, tafel: TestClient) -> None:
    location = _run(tafel, ["K-001"])
    with TestClient(app) as other:
        login(other, "test-verwijzer")
        assert other.get(location).status_code == 403
    with TestClient(app) as unknown:
        login(unknown, "test-tafel")
        assert unknown.get("/tafel/runs/bestaat-niet").status_code == 404


def test_api_run_reports_progress_then_the_outcome(tafel: TestClient) -> None:
    token = csrf_from(tafel.get("/tafel").text)
    started = tafel.post(
        "/api/v1/tafel/runs",
        json={"refs": ["K-001", "K-002", "K-003"]},
        headers={"X-CSRF-Token": token},
    )
    assert started.status_code == 202
    location = started.headers["location"]
    deadline = time.monotonic() + 60
    body = tafel.get(location).json()
    while not body["done"] and time.monotonic() < deadline:
        time.sleep(0.2)
        body = tafel.get(location).json()
    assert body["status"] == "klaar"
    assert body["outcome"]["summary"]["within_norm"] == 2
    unplaced = [r for r in body["outcome"]["rows"] if not r["placed"]]
    assert [r["child_ref"] for r in unplaced] == ["K-002"]
    assert unplaced[0]["sentences"][0] == "Kind K-002 heeft nog geen plek voor traumatherapie."


def test_api_run_needs_children(tafel: TestClient) -> None:
    token = csrf_from(tafel.get("/tafel").text)
    response = tafel.post("/api/v1/tafel/runs", json={"refs": []}, headers={"X-CSRF-Token": token})
    assert response.status_code == 422
    assert "Kies 1 tot 600 kinderen" in response.json()["detail"]


def fail_the_run(ctx: WorkContext) -> RunOutcome:
    raise RuntimeError("kapot")


def test_a_failed_run_says_so(tafel: TestClient, app: FastAPI) -> None:
    job = app.state.jobs.submit(
        TAFEL, JobKind.TAFEL_RUN, "Proef", RunParams(refs=[]), fail_the_run, today=TODAY
    )
    deadline = time.monotonic() + 60
    while app.state.jobs.get(TAFEL, job.id).status.value != "mislukt":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    html = tafel.get(f"/tafel/runs/{job.id}").text
    assert "Er ging iets mis bij het rekenen" in html
    assert "kapot" not in html  # no internals on the page


def test_runner_works_again_after_the_app_restarts(app: FastAPI) -> None:
    for _ in range(2):
        with TestClient(app) as c:  # each context runs startup and shutdown
            login(c, "test-tafel")
            token = csrf_from(c.get("/tafel").text)
            r = c.post(
                "/api/v1/tafel/runs", json={"refs": ["K-001"]}, headers={"X-CSRF-Token": token}
            )
            assert r.status_code == 202


def _api_wait(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    body = client.get(location).json()
    while not body["done"] and time.monotonic() < deadline:
        time.sleep(0.2)
        body = client.get(location).json()
    assert body["status"] == "klaar", body
    return body  # type: ignore[no-any-return]


def test_api_pin_forbid_rerun_and_compare(tafel: TestClient) -> None:
    token = csrf_from(tafel.get("/tafel").text)
    headers = {"X-CSRF-Token": token}
    started = tafel.post(
        "/api/v1/tafel/runs", json={"refs": ["K-001", "K-002", "K-003"]}, headers=headers
    )
    first = _api_wait(tafel, started.headers["location"])
    placed = [r for r in first["outcome"]["rows"] if r["placed"]]
    pin, forbid = placed[0], placed[1]
    rerun = tafel.post(
        f"/api/v1/tafel/runs/{first['id']}/opnieuw",
        json={
            "vastzetten": [{"child_ref": pin["child_ref"], "need_id": pin["need_id"]}],
            "uitsluiten": [{"child_ref": forbid["child_ref"], "need_id": forbid["need_id"]}],
        },
        headers=headers,
    )
    assert rerun.status_code == 202, rerun.text
    second = _api_wait(tafel, rerun.headers["location"])
    assert second["params"]["parent"] == first["id"]
    rows = {r["child_ref"]: r for r in second["outcome"]["rows"]}
    assert rows[pin["child_ref"]]["pinned"]
    assert rows[pin["child_ref"]]["offering"] == pin["offering"]
    assert rows[forbid["child_ref"]]["offering"] != forbid["offering"]
    compare = tafel.get("/api/v1/tafel/vergelijk", params={"a": first["id"], "b": second["id"]})
    assert compare.status_code == 200
    changed = {r["child_ref"] for r in compare.json()["rows"] if r["changed"]}
    assert forbid["child_ref"] in changed
    assert pin["child_ref"] not in changed
    missing = tafel.get("/api/v1/tafel/vergelijk", params={"a": first["id"], "b": "geen"})
    assert missing.status_code == 404


def test_explanation_names_providers_not_offering_ids(tafel: TestClient) -> None:
    token = csrf_from(tafel.get("/tafel").text)
    started = tafel.post(
        "/api/v1/tafel/runs", json={"refs": ["K-002"]}, headers={"X-CSRF-Token": token}
    )
    body = _api_wait(tafel, started.headers["location"])
    (row,) = body["outcome"]["rows"]
    text = " ".join(row["sentences"])
    assert "Budget Zorg (Dordrecht): het budgetplafond is bereikt." in row["sentences"]
    assert "Hulp Zuid (Dordrecht): de aanbieder noemt een contra-indicatie" in text
    assert "O-BUDGET" not in text
    assert "O-SNEL" not in text


def test_a_forbidden_place_is_excluded_by_the_table_not_full(tafel: TestClient) -> None:
    token = csrf_from(tafel.get("/tafel").text)
    headers = {"X-CSRF-Token": token}
    started = tafel.post("/api/v1/tafel/runs", json={"refs": ["K-001"]}, headers=headers)
    first = _api_wait(tafel, started.headers["location"])
    assert first["label"] == "Matching van 1 kind"
    (row,) = first["outcome"]["rows"]
    assert row["provider"] == "Hulp Zuid"
    rerun = tafel.post(
        f"/api/v1/tafel/runs/{first['id']}/opnieuw",
        json={"uitsluiten": [{"child_ref": "K-001", "need_id": row["need_id"]}]},
        headers=headers,
    )
    second = _api_wait(tafel, rerun.headers["location"])
    (after,) = second["outcome"]["rows"]
    # Hulp Zuid's two free places are still there: the table chose against them.
    assert not after["placed"]
    assert after["forbidden_names"] == ["Hulp Zuid (Dordrecht)"]
    lines = [s for s in after["sentences"] if s.startswith("Hulp Zuid (Dordrecht):")]
    assert any("uitgesloten door de tafel" in line for line in lines)
    assert not any("vol" in line for line in lines)
    html = tafel.get(f"/tafel/runs/{second['id']}").text
    assert "Uitgesloten door de tafel: Hulp Zuid (Dordrecht)" in html
