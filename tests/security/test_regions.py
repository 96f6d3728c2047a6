"""Two regions in one deployment: no row or total of one region reaches the other.

The test data set holds Zuid-Holland Zuid (JZ31) and Utrecht Stad (JZ22), each
with its own GI, provider, tafel, inkoop team, budget and waiting children
(tests/wijzer/data.py). Each tafel starts a matching and each inkoop team a
scenario and an advice; then every user of each region calls every GET route of
the role matrix its role may use (pages, API and exports, with its own runs and
offering filled in) and the answer may hold no marker of the other region (a
child's ref, a budget id, an organisation's name). Where a route shows a total
of waiting children, it must be the own region's. Beheer is national and sees
both: the positive check that the markers do show up where they may.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from providers.store.aggregates import SMALL_CELL
from tests.security.conftest import csrf_from, login
from tests.wijzer.data import (
    CARE,
    CARE_2,
    MARKERS,
    REGION,
    REGION_2,
    REGIONAL_ROLES,
    WAITING,
    username,
)
from tests.wijzer.test_role_matrix import GET_MATRIX
from wijzer.auth import Role

REGIONS = (REGION, REGION_2)
OFFERING = {REGION: "offering:snel", REGION_2: "offering:dom"}
SCENARIO_CARE = {REGION: CARE, REGION_2: CARE_2}
CHILD_REF = re.compile(r"K-\d{3}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def other(region: str) -> str:
    return REGION_2 if region == REGION else REGION


def refs_of(region: str) -> set[str]:
    return {m for m in MARKERS[region] if CHILD_REF.fullmatch(m)}


@dataclass
class Jobs:
    """Finished background jobs per region: a tafel matching, an inkoop scenario."""

    run: dict[str, str]
    scenario: dict[str, str]


def _client(app: FastAPI, name: str) -> TestClient:
    c = TestClient(app, base_url="http://testserver")
    login(c, name)
    c.headers["X-CSRF-Token"] = csrf_from(c.get("/").text)
    return c


def _wait(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        body: dict[str, Any] = client.get(location).json()
        if body["done"]:
            assert body["status"] == "klaar", body
            return body
        assert time.monotonic() < deadline, location
        time.sleep(0.05)


def _start_jobs(app: FastAPI) -> Jobs:
    jobs = Jobs({}, {})
    for region in REGIONS:
        tafel = _client(app, username(Role.TAFEL, region))
        # Refs of the other region (and one of each) are left out, not matched.
        for refs in (sorted(refs_of(other(region))), ["K-001", "K-004"]):
            started = tafel.post("/api/v1/tafel/runs", json={"refs": refs})
            assert started.status_code == 202, started.text
            body = _wait(tafel, started.headers["location"])
            shown = {row["child_ref"] for row in body["outcome"]["rows"]}
            assert shown == set(refs) & refs_of(region), (region, refs, shown)
        # The run whose pages are checked below names the own children only: a run
        # echoes the refs it was asked for.
        started = tafel.post("/api/v1/tafel/runs", json={"refs": sorted(refs_of(region))})
        body = _wait(tafel, started.headers["location"])
        assert {row["child_ref"] for row in body["outcome"]["rows"]} == refs_of(region)
        jobs.run[region] = body["id"]
        tafel.close()
        inkoop = _client(app, username(Role.INKOOP, region))
        extra = {"care_type": SCENARIO_CARE[region], "region": region, "places": 2}
        started = inkoop.post("/api/v1/inkoop/scenarios", json={"extra_places": [extra]})
        assert started.status_code == 202, started.text
        body = _wait(inkoop, started.headers["location"])
        assert body["result"]["region"] == region
        jobs.scenario[region] = body["id"]
        advice = inkoop.post("/api/v1/inkoop/advies", json={"budget_euro": 50_000})
        assert advice.status_code == 202, advice.text
        assert _wait(inkoop, advice.headers["location"])["advice"]["region"] == region
        inkoop.close()
    return jobs


@pytest.fixture
def jobs(app: FastAPI) -> Jobs:
    return _start_jobs(app)


def _concrete(template: str, region: str, ids: dict[str, int], jobs: Jobs) -> str:
    job = jobs.scenario[region] if template.startswith(("/inkoop", "/api/v1/inkoop")) else ""
    job = job or jobs.run[region]
    if template in ("/tafel/kind/geen", "/casussen/geen", "/api/v1/casussen/geen"):
        return template.replace("geen", sorted(refs_of(region))[0])
    return (
        template.replace("{snel}", str(ids[OFFERING[region]]))
        .replace("a=geen&b=geen", f"a={job}&b={job}")
        .replace("geen", job)
    )


# Routes of one stored record the seed does not give this role: the seed's children
# belong to no verwijzer's organisation and no aanmelding exists. Who sees which case
# and aanmelding is tested in tests/providers/test_referrals.py.
NO_SEED_RECORD: dict[Role, set[str]] = {
    Role.VERWIJZER: {"/casussen/{ref}", "/api/v1/casussen/{ref}"},
    Role.AANBIEDER: {"/aanmeldingen/{aanmelding_id}", "/api/v1/aanmeldingen/{aanmelding_id}"},
    Role.TAFEL: set(),
    Role.INKOOP: set(),
}


def _urls(role: Role) -> Iterator[tuple[str, str]]:
    """(route, URL template) of every GET route `role` may use, each export in csv
    and in xlsx."""
    for path, (url, allowed) in GET_MATRIX.items():
        if allowed is not None and role not in allowed:
            continue
        if path in NO_SEED_RECORD.get(role, set()):
            continue
        yield path, url
        if "{fmt}" in path:
            yield path, url.replace(".csv", ".xlsx")


def _text(response: Any) -> str:
    """The answer as text; an XLSX export as the values of all its cells."""
    if not response.headers.get("content-type", "").startswith(XLSX):
        return str(response.text)
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row]
    return "\n".join(cells)


def _assert_no_markers(text: str, region: str, where: str) -> None:
    leaked = [m for m in MARKERS[other(region)] if m in text]
    assert not leaked, (where, leaked)


def _small_or(n: int) -> int | None:
    return None if 0 < n < SMALL_CELL else n


def _check_totals(path: str, region: str, response: Any) -> int:
    """Totals a route shows must be the own region's; returns how many were checked."""
    if path == "/api/v1/ik":
        # A provider's organisation has no region; every other regional account has one.
        assert response.json()["region_code"] in (region, None)
        return 0
    if path == "/api/v1/inkoop/wachtenden":
        body = response.json()
        assert body["region"] == region
        for breakdown in body["breakdowns"]:
            assert breakdown["total"] == _small_or(WAITING[region]), breakdown
        return len(body["breakdowns"])
    if path == "/api/v1/rapportage/uitvraag":
        body = response.json()
        assert body["region"] == region
        assert {c["child_ref"] for c in body["children"]} == refs_of(region)
        assert sum(s["waiting"] for s in body["by_gemeente"]) == WAITING[region]
        assert sum(s["waiting"] for s in body["by_gi"]) == WAITING[region]
        return 3
    if path == "/api/v1/inkoop/scenario-opties":
        body = response.json()
        assert body["region"] == region
        own_budgets = {m for m in MARKERS[region] if m.startswith("B-")}
        assert {b["budget"] for b in body["budgets"]} == own_budgets
        return 1
    if path == "/api/v1/inkoop/scenarios/{job_id}":
        result = response.json()["result"]
        assert result["region"] == region
        # Hidden when the within/blocked split would give a small cell away.
        assert result["needs"] in (None, _small_or(WAITING[region]))
        return 1
    if path in ("/tafel", "/rapportage/uitvraag.{fmt}", "/api/v1/tafel/runs/{job_id}"):
        assert set(CHILD_REF.findall(response.text)) == refs_of(region), path
        return 1
    return 0


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("role", REGIONAL_ROLES, ids=lambda r: r.value)
def test_no_row_or_total_of_another_region(
    app: FastAPI, ids: dict[str, int], jobs: Jobs, role: Role, region: str
) -> None:
    client = _client(app, username(role, region))
    calls = totals = 0
    for path, template in _urls(role):
        url = _concrete(template, region, ids, jobs)
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 200, (role, region, url, response.status_code)
        text = _text(response)
        _assert_no_markers(text, region, url)
        if url.endswith(".xlsx") and path == "/rapportage/uitvraag.{fmt}":
            assert set(CHILD_REF.findall(text)) == refs_of(region), url
        else:
            totals += _check_totals(path, region, response)
        calls += 1
    # The other region's runs and scenarios are not found, under every route.
    for _path, template in _urls(role):
        if "geen" not in template:
            continue
        url = _concrete(template, other(region), ids, jobs).replace("{snel}", "0")
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 404, (role, region, url, response.status_code)
        _assert_no_markers(response.text, region, url)
    client.close()
    assert calls >= 3
    if role in (Role.TAFEL, Role.INKOOP):
        assert totals >= 3  # the routes with totals were reached


def test_beheer_sees_both_regions(app: FastAPI, ids: dict[str, int], jobs: Jobs) -> None:
    """The markers are real: where a national role may look, both regions show up."""
    client = _client(app, username(Role.BEHEER))
    page = client.get("/tafel").text
    assert refs_of(REGION) | refs_of(REGION_2) <= set(CHILD_REF.findall(page))
    for region in REGIONS:
        run = client.get(f"/api/v1/tafel/runs/{jobs.run[region]}").json()
        assert {r["child_ref"] for r in run["outcome"]["rows"]} == refs_of(region)
        scenario = client.get(f"/api/v1/inkoop/scenarios/{jobs.scenario[region]}").json()
        assert scenario["result"]["region"] == region
    client.close()


def test_region_two_accounts_are_of_region_two(
    client_for: Callable[[Role | str], TestClient],
) -> None:
    for role in REGIONAL_ROLES:
        me = client_for(username(role, REGION_2)).get("/api/v1/ik").json()
        assert me["role"] == role.value
        if role is not Role.AANBIEDER:
            assert me["region_code"] == REGION_2


@pytest.mark.parametrize("region", REGIONS)
def test_changes_cannot_reach_into_another_region(app: FastAPI, jobs: Jobs, region: str) -> None:
    """Re-running the other region's matching, or a scenario with its budget, its
    region or its gemeente: refused, and the answer names nothing of it."""
    theirs = other(region)
    tafel = _client(app, username(Role.TAFEL, region))
    rerun = tafel.post(f"/api/v1/tafel/runs/{jobs.run[theirs]}/opnieuw", json={})
    assert rerun.status_code == 404
    page = tafel.post(f"/tafel/runs/{jobs.run[theirs]}/opnieuw", follow_redirects=False)
    assert page.status_code == 404
    # the page of a child of the other region: not found, and nothing of it named
    for ref in sorted(refs_of(theirs)):
        child = tafel.get(f"/tafel/kind/{ref}")
        assert child.status_code == 404, ref
        _assert_no_markers(child.text.replace(ref, ""), region, ref)
    tafel.close()
    inkoop = _client(app, username(Role.INKOOP, region))
    budget = next(m for m in MARKERS[theirs] if m.startswith("B-"))
    gemeente = {REGION: "GM0505", REGION_2: "GM0344"}[theirs]
    for scenario in (
        {"ceiling_lifts": [{"budget": budget, "amount_euro": 1000}]},
        {"extra_places": [{"care_type": SCENARIO_CARE[theirs], "region": theirs, "places": 1}]},
        {"gemeenten_leave": [gemeente]},
    ):
        answer = inkoop.post("/api/v1/inkoop/scenarios", json=scenario)
        assert answer.status_code == 422, (scenario, answer.text)
        _assert_no_markers(answer.text.replace(budget, ""), region, str(scenario))
    inkoop.close()
