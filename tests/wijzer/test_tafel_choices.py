"""The run page of the tafel: each row pins or forbids its place for the next run,
aanmelden from the proposal, and column headers that sort."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from matcher.domain import Scenario
from matcher.domain.eligibility import ScenarioIndex
from providers import convert
from providers.store.access import Principal
from providers.store.jobs import JobKind
from providers.store.models import Role
from services import matching, proposal
from services.matching import NeedRow, OfferChoice, RunOutcome, RunParams, RunSummary
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.data import DORDRECHT, REGION, TODAY
from tests.wijzer.test_tafel import _run, _wait
from wijzer.views import tafel as view

TAFEL = Principal("test-tafel", Role.TAFEL, None, REGION)
PIN = re.compile(r'name="vastzetten" value="([^"|]+\|[^"]+)"')
FORBID = re.compile(r'name="uitsluiten" value="([^"]+)"')


@pytest.fixture
def tafel(client: TestClient) -> TestClient:
    login(client, "test-tafel")
    return client


def _choose(client: TestClient, run: str, **fields: str) -> str:
    html = client.get(run).text
    response = client.post(
        f"{run}/keuze", data={**fields, "csrf_token": csrf_from(html)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def _rerun(client: TestClient, run: str) -> str:
    html = client.get(run).text
    response = client.post(
        f"{run}/opnieuw", data={"csrf_token": csrf_from(html)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return _wait(client, response.headers["location"])


def _placed_and_unplaced(html: str) -> tuple[list[str], list[str]]:
    placed = FORBID.findall(html)
    unplaced = [k for k in PIN.findall(html) if k not in placed]
    return placed, unplaced


def test_a_row_pins_its_place_for_the_next_run(tafel: TestClient) -> None:
    run = _run(tafel, ["K-001", "K-002", "K-003"])
    placed, _ = _placed_and_unplaced(tafel.get(run).text)
    key = placed[0]
    back = _choose(tafel, run, vastzetten=key)
    need = key.split("|")[1].replace("/", "-")
    assert back == f"{run}#rij-{need}"
    page = tafel.get(run).text
    row = page.split(f'id="rij-{need}"')[1].split("</tr>")[0]
    assert "Volgende berekening: vast bij" in row
    assert 'name="terug"' in row
    assert "Klaargezet voor de volgende berekening: 1 vastgezet, 0 uitgesloten." in page
    second = _rerun(tafel, run)
    html2 = tafel.get(second).text
    assert "1 vastgezet, 0 uitgesloten" in html2
    row2 = html2.split(f'id="rij-{need}"')[1].split("</tr>")[0]
    assert "Vastgezet" in row2
    # Running again used the choices up: the first run's page has none waiting.
    assert "Nog niets klaargezet" in tafel.get(run).text


def test_a_row_forbids_its_place_and_undo_takes_it_back(tafel: TestClient) -> None:
    run = _run(tafel, ["K-001", "K-002", "K-003"])
    placed, _ = _placed_and_unplaced(tafel.get(run).text)
    _choose(tafel, run, uitsluiten=placed[0])
    assert "0 vastgezet, 1 uitgesloten" in tafel.get(run).text
    _choose(tafel, run, terug=placed[0])
    assert "Nog niets klaargezet" in tafel.get(run).text
    _choose(tafel, run, uitsluiten=placed[0])
    second = _rerun(tafel, run)
    assert "0 vastgezet, 1 uitgesloten" in tafel.get(second).text


def _job_id(run: str) -> str:
    return run.rsplit("/", 1)[1]


def test_an_unplaced_row_pins_one_of_its_eligible_offerings(
    tafel: TestClient, app: FastAPI
) -> None:
    # A finished run in which K-001 got no place although one offering fits it: the
    # real run's outcome with K-001's place taken away.
    real = _run(tafel, ["K-001", "K-002", "K-003"])
    job = app.state.jobs.get(TAFEL, _job_id(real))
    outcome = RunOutcome.model_validate_json(job.result)
    row = next(r for r in outcome.rows if r.child_ref == "K-001" and r.placed)
    assert row.offering is not None
    unplaced = NeedRow(
        child_ref=row.child_ref,
        need_id=row.need_id,
        care_type_label=row.care_type_label,
        placed=False,
        deadline=row.deadline,
        eligible=[
            OfferChoice(offering=row.offering, name="Hulp Zuid (Dordrecht)", earliest_start=TODAY)
        ],
    )
    outcome.rows = [unplaced if r is row else r for r in outcome.rows]
    fake = app.state.jobs.submit(
        TAFEL,
        JobKind.TAFEL_RUN,
        "Zonder plek",
        RunParams(refs=["K-001", "K-002", "K-003"]),
        lambda _ctx: outcome,
        today=TODAY,
    )
    run = _wait(tafel, f"/tafel/runs/{fake.id}")
    html = tafel.get(run).text
    key = f"K-001|{row.need_id}"
    need = row.need_id.replace("/", "-")
    cell = html.split(f'id="rij-{need}"')[1].split("</tr>")[0]
    assert re.findall(r'<option value="([^"]+)"', cell) == [row.offering]
    assert "Plek om vast te zetten" in cell
    refused = tafel.post(
        f"{run}/keuze",
        data={"vastzetten": key, "aanbod": "BESTAAT-NIET", "csrf_token": csrf_from(html)},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "Kies bij kind K-001 een plek uit de lijst" in refused.text
    _choose(tafel, run, vastzetten=key, aanbod=row.offering)
    assert "Volgende berekening: vast bij Hulp Zuid (Dordrecht)" in tafel.get(run).text
    second = _rerun(tafel, run)
    job2 = app.state.jobs.get(TAFEL, _job_id(second))
    pinned = RunOutcome.model_validate_json(job2.result)
    again = next(r for r in pinned.rows if r.need_id == row.need_id)
    assert again.pinned
    assert again.offering == row.offering


def test_a_choice_needs_the_csrf_token_and_a_row_of_the_run(tafel: TestClient) -> None:
    run = _run(tafel, ["K-001", "K-002", "K-003"])
    html = tafel.get(run).text
    placed, _ = _placed_and_unplaced(html)
    no_token = tafel.post(f"{run}/keuze", data={"vastzetten": placed[0]}, follow_redirects=False)
    assert no_token.status_code == 403
    unknown = tafel.post(
        f"{run}/keuze",
        data={"vastzetten": "K-404|K-404/1", "csrf_token": csrf_from(html)},
        follow_redirects=False,
    )
    assert unknown.status_code == 422
    assert "staat niet in deze berekening" in unknown.text


def test_run_table_sorts_by_its_headers(tafel: TestClient) -> None:
    run = _run(tafel, ["K-001", "K-002", "K-003"])
    refs = re.compile(r'<th scope="row" class="utrecht-table__header-cell wijzer-ref">([^<]+)</th>')
    down = tafel.get(f"{run}?sorteer=kind&volgorde=aflopend").text
    assert refs.findall(down) == sorted(refs.findall(down), reverse=True)
    assert 'aria-sort="descending"' in down
    up = tafel.get(f"{run}?sorteer=kind").text
    assert refs.findall(up) == sorted(refs.findall(up))
    header = up.split('aria-sort="ascending"')[1].split("</th>")[0]
    assert "sorteer=kind&amp;volgorde=aflopend" in header
    assert "▲" in header


def test_waiting_list_headers_sort_and_keep_filters_and_page(tafel: TestClient) -> None:
    html = tafel.get(f"/tafel?gemeente={DORDRECHT}&per_pagina=25&sorteer=gemeente").text
    head = html.split("<thead")[1].split("</thead>")[0]
    assert 'aria-sort="ascending"' in head
    kind = re.search(r'href="(/tafel\?[^"]*sorteer=kind[^"]*)"', head)
    assert kind is not None
    assert f"gemeente={DORDRECHT}" in kind.group(1)
    assert "per_pagina=25" in kind.group(1)
    gemeente = re.search(r'href="(/tafel\?[^"]*sorteer=gemeente[^"]*)"', head)
    assert gemeente is not None
    assert "volgorde=aflopend" in gemeente.group(1)
    paged = tafel.get("/tafel?per_pagina=25&pagina=2").text.split("<thead")[1]
    assert "pagina=2" in paged.split("</thead>")[0]


def _propose(client: TestClient, run: str, keys: list[str]) -> str:
    html = client.get(run).text
    response = client.post(
        f"{run}/aanmelden", data={"aanmelden": keys, "csrf_token": csrf_from(html)}
    )
    assert response.status_code == 200, response.text
    return str(response.text)


def test_aanmelden_from_the_proposal_once_per_need(tafel: TestClient) -> None:
    run = _run(tafel, ["K-001", "K-002", "K-003"])
    placed, _ = _placed_and_unplaced(tafel.get(run).text)
    first = _propose(tafel, run, placed)
    assert "Verstuurd" in first
    ref = placed[0].split("|")[0]
    assert re.search(rf'href="/casussen/{ref}#hulp-\d+"', first)
    # The same children again: each need has an active aanmelding now.
    again = _propose(tafel, run, placed[:1])
    assert "0 aanmeldingen verstuurd, 1 kind niet aangemeld" in again
    assert "er loopt al een aanmelding voor deze hulpvraag" in again


def test_aanmelden_needs_a_chosen_child(tafel: TestClient) -> None:
    run = _run(tafel, ["K-001", "K-002", "K-003"])
    html = tafel.get(run).text
    response = tafel.post(f"{run}/aanmelden", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 422
    assert "Kies 1 tot 50 kinderen met een plek" in response.text


def test_a_child_without_a_case_is_listed_with_the_reason(app: FastAPI) -> None:
    row = NeedRow(
        child_ref="K-GEEN",
        need_id="K-GEEN/1",
        care_type_label="Traumatherapie",
        placed=True,
        offering="O-1",
        provider="Hulp Zuid",
        location="Dordrecht",
        start=TODAY + dt.timedelta(days=7),
    )
    with app.state.sessions() as session:
        lines = proposal.send_proposal(session, TAFEL, [row], today=TODAY, answer_days=5)
    assert [(x.child_ref, x.sent, x.reason) for x in lines] == [("K-GEEN", False, proposal.NO_CASE)]


def test_eligible_offers_leave_out_what_the_table_forbade(app: FastAPI) -> None:
    with app.state.sessions() as session:
        scenario = convert.scenario_from_db(
            session, TAFEL, evaluation_date=TODAY, region_code=REGION
        )
    scenario = matching.select_children(scenario, ["K-001"])
    need = scenario.child_by_ref["K-001"].needs[0]

    def offers(s: Scenario) -> list[str]:
        got = matching.eligible_offers(s, ScenarioIndex(s), "K-001", need.id, None, str)
        return [o.offering for o in got]

    before = offers(scenario)
    assert before, "K-001 has an offering that fits"
    forbid = matching.Choice(child_ref="K-001", need_id=need.id, offering=before[0])
    assert before[0] not in offers(matching.with_choices(scenario, [], [forbid]))


def test_aanmelden_takes_at_most_fifty_children(tafel: TestClient, app: FastAPI) -> None:
    rows = [
        NeedRow(
            child_ref=f"K-{i:03d}",
            need_id=f"K-{i:03d}/1",
            care_type_label="Traumatherapie",
            placed=True,
            offering="O-1",
            provider="Hulp Zuid",
            location="Dordrecht",
        )
        for i in range(51)
    ]
    summary = RunSummary(
        count_date=TODAY,
        needs=51,
        placed=51,
        within_norm=51,
        placed_late=0,
        unplaced=0,
        unclassified=0,
        children=51,
        children_placed=51,
        children_unplaced=0,
        children_unclassified=0,
        children_not_waiting=0,
        solver_status="OPTIMAL",
        solver_status_text="Beste verdeling gevonden",
        wall_time_s=0.1,
        strategy="exact",
    )
    outcome = RunOutcome(summary=summary, rows=rows)
    job = app.state.jobs.submit(
        TAFEL, JobKind.TAFEL_RUN, "Groot", RunParams(refs=[]), lambda _c: outcome, today=TODAY
    )
    run = _wait(tafel, f"/tafel/runs/{job.id}")
    html = tafel.get(run).text
    response = tafel.post(f"{run}/aanmelden", data={"alles": "1", "csrf_token": csrf_from(html)})
    assert response.status_code == 422
    assert "Kies 1 tot 50 kinderen met een plek" in response.text


def test_the_choices_waiting_fit_in_the_session_cookie() -> None:
    # The worst case: the longest refs and offering ids the store takes (40 characters).
    ref = "K" * 40
    p = view.Pending(
        run="r" * 16,
        pins=[
            matching.Choice(child_ref=ref, need_id=f"{ref}/{i}", offering="O" * 40)
            for i in range(view.MAX_PENDING)
        ],
    )
    session: dict[str, Any] = {"user": "u" * 100, "sid": "s" * 43, "csrf": "c" * 43}
    view.save_pending(session, p)
    # What Starlette's SessionMiddleware writes: base64 JSON, timestamped and signed.
    data = base64.b64encode(json.dumps(session).encode())
    cookie = TimestampSigner("x" * 40).sign(data)
    attributes = "wijzer_sessie=; path=/; Max-Age=28800; httponly; samesite=strict; secure"
    assert len(cookie) + len(attributes) < 4096
    assert view.pending(session, "r" * 16) == p


def test_choices_waiting_replace_the_earlier_run_s_pin_of_that_need() -> None:
    def c(need: str, offering: str) -> matching.Choice:
        return matching.Choice(child_ref="K-001", need_id=need, offering=offering)

    earlier = RunParams(refs=["K-001"], pins=[c("K-001/1", "A"), c("K-001/2", "B")])
    waiting = view.Pending(run="x", pins=[c("K-001/1", "C")], forbids=[c("K-001/2", "B")])
    got = view.with_pending(earlier, waiting)
    # The new pin wins for need 1; need 2's place is forbidden now, so no longer pinned.
    assert got.pins == [c("K-001/1", "C")]
    assert got.forbids == [c("K-001/2", "B")]
    assert got.refs == ["K-001"]
