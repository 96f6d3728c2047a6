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
from services.waiting_list import ListRequest, Sort, choices_from_keys, waiting_list
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


# ------------------------------------------------------------------ the list's tools

ROW_REF = re.compile(r'type="checkbox" name="kind" value="([^"]+)"')


def test_filter_by_gemeente_search_and_status(tafel: TestClient) -> None:
    html = tafel.get("/tafel?gemeente=GM0642").text
    assert ROW_REF.findall(html) == ["K-002"]
    assert "3 wachtende kinderen" in html  # the heading counts the whole list
    assert "1 kind past bij het filter" in html
    assert ROW_REF.findall(tafel.get("/tafel?zoek=003").text) == ["K-003"]
    assert ROW_REF.findall(tafel.get("/tafel?zoek=k-00").text) == ["K-002", "K-001", "K-003"]
    # K-002's deadline is 1 December, 11 days after TODAY; the others are later.
    assert ROW_REF.findall(tafel.get("/tafel?status=binnenkort").text) == ["K-002"]
    late = tafel.get("/tafel?status=te_laat").text
    assert ROW_REF.findall(late) == []
    assert "Geen kind past bij dit filter" in late


def test_sort_by_ref_both_ways(tafel: TestClient) -> None:
    assert ROW_REF.findall(tafel.get("/tafel?sorteer=kind").text) == ["K-001", "K-002", "K-003"]
    down = tafel.get("/tafel?sorteer=kind&volgorde=aflopend").text
    assert ROW_REF.findall(down) == ["K-003", "K-002", "K-001"]


def test_bad_days_late_is_a_dutch_message_not_an_error(tafel: TestClient) -> None:
    response = tafel.get("/tafel?dagen_te_laat=tien")
    assert response.status_code == 422
    assert "Vul bij dagen te laat een heel getal in van 0 tot en met 3650." in response.text
    # The list is still there, without that filter.
    assert ROW_REF.findall(response.text) == ["K-002", "K-001", "K-003"]


def test_run_button_at_the_top_and_the_bottom(tafel: TestClient) -> None:
    html = tafel.get("/tafel").text
    form = html.split('id="matchen"')[1].split("</form>")[0]
    before, after = form.split("<table", 1)
    assert "Matching berekenen" in before
    assert "Matching berekenen" in after


def test_pages_of_the_list(app: FastAPI) -> None:
    with app.state.sessions() as s:
        user = Principal("test-tafel", Role.TAFEL, organisation_id=None, region_code=REGION)
        first = waiting_list(s, user, ListRequest(sort=Sort.REF, page_size=2), today=TODAY)
        last = waiting_list(s, user, ListRequest(sort=Sort.REF, page=9, page_size=2), today=TODAY)
    assert (first.total, first.matched, first.pages, first.page) == (3, 3, 2, 1)
    assert [r.ref for r in first.rows] == ["K-001", "K-002"]
    assert first.matched_refs == ["K-001", "K-002", "K-003"]
    assert (last.page, [r.ref for r in last.rows]) == (2, ["K-003"])


def test_child_page_shows_clocks_and_why_offerings_do_not_fit(tafel: TestClient) -> None:
    html = re.sub(r"<[^>]+>", "", tafel.get("/tafel/kind/K-001").text)
    assert "Kind K-001" in html
    assert "norm 3, 3 maanden na de uitspraak" in html
    assert "1 plek past" in html
    assert "Vastzetten bij Hulp Zuid (Dordrecht)" in html
    assert "Er is een opnamestop: de aanbieder neemt nu geen nieuwe kinderen aan" in html
    assert "De plek ligt buiten de regio" in html


def test_child_of_another_region_is_not_found(tafel: TestClient) -> None:
    response = tafel.get("/tafel/kind/K-004")
    assert response.status_code == 404
    assert "K-004" not in response.text.split('id="inhoud"')[1]


def test_beheer_sees_every_region(client: TestClient) -> None:
    login(client, "test-beheer")
    assert "K-004" in client.get("/tafel").text
    assert client.get("/tafel/kind/K-004").status_code == 200


def test_pin_from_the_child_page_holds_in_the_run(tafel: TestClient) -> None:
    html = tafel.get("/tafel/kind/K-001").text
    pin = re.search(r'name="(vastzetten_aanbod_1)" value="(K-001\|[^"]+)"', html)
    assert pin
    data = {"kind": ["K-001", "K-002", "K-003"], pin.group(1): pin.group(2)}
    data["csrf_token"] = csrf_from(html)
    response = tafel.post("/tafel/runs", data=data, follow_redirects=False)
    assert response.status_code == 303
    run = tafel.get(_wait(tafel, response.headers["location"])).text
    assert "1 vastgezet, 0 uitgesloten" in run
    row = run.split(">K-001</th>")[1].split("</tr>")[0]
    assert "Vastgezet" in row


def test_filters_fold_away_until_one_is_chosen(tafel: TestClient) -> None:
    plain = tafel.get("/tafel").text
    assert '<details class="wijzer-details">' in plain
    chosen = tafel.get("/tafel?gemeente=GM0642&sorteer=kind").text
    assert '<details class="wijzer-details" open>' in chosen
    assert "Filteren en sorteren (2 gekozen)" in chosen


def test_choices_from_a_child_page_stay_within_the_run() -> None:
    keys = ["K-001|n1|O-SNEL", "K-009|n1|O-SNEL", "K-001|n1", "K-001||O-SNEL"]
    chosen = choices_from_keys(keys, ["K-001", "K-002"])
    assert [(c.child_ref, c.need_id, c.offering) for c in chosen] == [("K-001", "n1", "O-SNEL")]
