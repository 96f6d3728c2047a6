"""Beheer chooses the region of its inkoop scenarios and advice (a select on the page,
`regio` in the API); without a choice the first region by code, never the region with
the most waiting children. The region is always in the page's headings."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from providers import reference
from providers.store import regional
from providers.store.access import Principal
from providers.store.models import Child, ChildStatus, Role
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.data import CARE_2, REGION, REGION_2, WAITING, username

FIRST = sorted(reference.jeugdregios())[0]


def _name(code: str) -> str:
    return reference.jeugdregios()[code].name


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    for _ in range(150):
        body: dict[str, Any] = client.get(f"/api/v1/inkoop/scenarios/{job_id}").json()
        if body["done"]:
            return body
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_default_is_the_first_region_by_code_not_the_busiest(app: FastAPI) -> None:
    beheer = Principal(username="b", role=Role.BEHEER, organisation_id=None, region_code=None)
    with app.state.sessions.begin() as session:
        waiting = session.scalars(
            select(Child.region_code).where(Child.status == ChildStatus.WAITING.value)
        ).all()
        # the test data's busiest region is not the first by code
        assert max(WAITING, key=lambda r: WAITING[r]) == REGION_2 != FIRST
        assert FIRST not in waiting
        assert regional.region_of(session, beheer, None) == FIRST
        assert regional.region_of(session, beheer, REGION) == REGION


def test_beheer_page_has_a_region_select_and_names_the_region(client: TestClient) -> None:
    login(client, username(Role.BEHEER))
    page = client.get("/inkoop").text
    assert 'name="regio"' in page
    assert 'id="veld-regio"' in page
    assert f"Rekenen met een scenario voor regio {_name(FIRST)}" in page
    chosen = client.get("/inkoop", params={"regio": REGION_2}).text
    assert f"Rekenen met een scenario voor regio {_name(REGION_2)}" in chosen
    assert f"Inkoopadvies voor regio {_name(REGION_2)}" in chosen
    assert f'<input type="hidden" name="regio" value="{REGION_2}">' in chosen
    unknown = client.get("/inkoop", params={"regio": "JZ99"})
    assert unknown.status_code == 422
    assert "Deze regio bestaat niet" in unknown.text


def test_inkoop_has_no_choice_and_no_other_region(client: TestClient) -> None:
    login(client, username(Role.INKOOP))
    page = client.get("/inkoop").text
    assert 'id="veld-regio"' not in page
    assert f"Rekenen met een scenario voor regio {_name(REGION)}" in page
    assert client.get("/inkoop", params={"regio": REGION_2}).status_code == 403
    assert (
        client.get("/api/v1/inkoop/scenario-opties", params={"regio": REGION_2}).status_code == 403
    )
    own = client.get("/api/v1/inkoop/scenario-opties").json()
    assert own["region"] == REGION
    assert own["choosable_regions"] == [REGION]


def test_beheer_scenario_and_advice_run_for_the_chosen_region(client: TestClient) -> None:
    login(client, username(Role.BEHEER))
    token = csrf_from(client.get("/inkoop", params={"regio": REGION_2}).text)
    opts = client.get("/api/v1/inkoop/scenario-opties", params={"regio": REGION_2}).json()
    assert opts["region"] == REGION_2
    assert REGION in opts["choosable_regions"]
    assert FIRST in opts["choosable_regions"]
    default = client.get("/api/v1/inkoop/scenario-opties").json()
    assert default["region"] == FIRST
    form = client.post(
        "/inkoop/scenario",
        data={
            "csrf_token": token,
            "regio": REGION_2,
            "zorgvorm_1": CARE_2,
            "regio_1": REGION_2,
            "plekken_1": "2",
        },
        follow_redirects=False,
    )
    assert form.status_code == 303, form.text[:500]
    done = _wait(client, form.headers["location"].rsplit("/", 1)[1])
    assert done["status"] == "klaar"
    assert done["result"]["region"] == REGION_2
    client.headers["X-CSRF-Token"] = token
    api = client.post(
        "/api/v1/inkoop/advies", params={"regio": REGION}, json={"budget_euro": 50_000}
    )
    assert api.status_code == 202
    advice = _wait(client, api.json()["id"])
    assert advice["advice"]["region"] == REGION
    page = client.get(f"/inkoop/scenario/{api.json()['id']}").text
    assert f"Inkoopadvies voor regio {_name(REGION)}" in page
