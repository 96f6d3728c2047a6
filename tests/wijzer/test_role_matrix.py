"""Every role against every endpoint. The tables below are the specification:
a new endpoint makes this test fail until it is added here.

Each regional role runs as a user of either region of the test data (beheer is
national), with its own region's offering, children and purchase options."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.open_feed import hsds_id
from tests.wijzer.conftest import csrf_from, login, username_for
from tests.wijzer.data import CARE, CARE_2, REGION, REGION_2, REGIONAL_ROLES, username
from wijzer.auth import Role
from wijzer.routers import all_routes
from wijzer.security import SAFE_METHODS

V, A, T, INK, B = Role.VERWIJZER, Role.AANBIEDER, Role.TAFEL, Role.INKOOP, Role.BEHEER
ALL = frozenset(Role)
PUBLIC = None  # no login needed

# a service and an organization of the test data in the open feed
_SERVICE = hsds_id("service", "P-HOOFD:TRAUMATHERAPIE")
_ORG = hsds_id("organization", "P-HOOFD")

# route path -> (a concrete URL to call, roles that may use it). A run that does not
# exist gives 404 to a role that passes the role check, 403 to the others.
GET_MATRIX: dict[str, tuple[str, frozenset[Role] | None]] = {
    "/tafel/runs/{job_id}": ("/tafel/runs/geen", frozenset({T, B})),
    "/tafel/vergelijk": ("/tafel/vergelijk?a=geen&b=geen", frozenset({T, B})),
    "/tafel/runs/{job_id}/besluitenlijst.{fmt}": (
        "/tafel/runs/geen/besluitenlijst.csv",
        frozenset({T, B}),
    ),
    "/tafel/runs/{job_id}/uitkomst-per-groep.{fmt}": (
        "/tafel/runs/geen/uitkomst-per-groep.csv",
        frozenset({T, B}),
    ),
    "/": ("/", PUBLIC),
    "/toegankelijkheid": ("/toegankelijkheid", PUBLIC),
    "/inloggen": ("/inloggen", PUBLIC),
    "/zoeken": ("/zoeken", frozenset({V, T, B})),
    "/tafel": ("/tafel", frozenset({T, B})),
    "/tafel/kind/{ref}": ("/tafel/kind/geen", frozenset({T, B})),
    "/inkoop": ("/inkoop", frozenset({INK, B})),
    "/inkoop/scenario/{job_id}": ("/inkoop/scenario/geen", frozenset({INK, B})),
    "/inkoop/scenario/{job_id}/totalen.{fmt}": (
        "/inkoop/scenario/geen/totalen.csv",
        frozenset({INK, B}),
    ),
    "/aanbieder": ("/aanbieder", frozenset({A, B})),
    "/aanbieder/aanbod/{offering_id}": ("/aanbieder/aanbod/{snel}", frozenset({A, B})),
    "/rapportage": ("/rapportage", frozenset({T, INK, B})),
    "/rapportage/uitvraag.{fmt}": ("/rapportage/uitvraag.csv", frozenset({T, B})),
    "/rapportage/stroom.{fmt}": ("/rapportage/stroom.csv", frozenset({T, B})),
    "/api/v1/rapportage/uitvraag": ("/api/v1/rapportage/uitvraag", frozenset({T, B})),
    "/api/v1/tafel/vergelijk": ("/api/v1/tafel/vergelijk?a=geen&b=geen", frozenset({T, B})),
    "/api/v1/ik": ("/api/v1/ik", ALL),
    "/api/v1/zoeken": (
        "/api/v1/zoeken?zorgvorm=TRAUMATHERAPIE&leeftijd=9&gemeente=GM0505",
        frozenset({V, T, B}),
    ),
    "/api/v1/aanbod": ("/api/v1/aanbod", frozenset({A, B})),
    "/api/v1/inkoop/wachtenden": ("/api/v1/inkoop/wachtenden", frozenset({INK, B})),
    "/api/v1/inkoop/scenario-opties": ("/api/v1/inkoop/scenario-opties", frozenset({INK, B})),
    "/api/v1/inkoop/scenarios/{job_id}": ("/api/v1/inkoop/scenarios/geen", frozenset({INK, B})),
    "/api/v1/tafel/runs/{job_id}": ("/api/v1/tafel/runs/geen", frozenset({T, B})),
    "/open/hsds": ("/open/hsds", PUBLIC),
    "/open/hsds/services": ("/open/hsds/services", PUBLIC),
    "/open/hsds/services/{service_id}": (f"/open/hsds/services/{_SERVICE}", PUBLIC),
    "/open/hsds/organizations": ("/open/hsds/organizations", PUBLIC),
    "/open/hsds/organizations/{organization_id}": (f"/open/hsds/organizations/{_ORG}", PUBLIC),
    "/open/hsds/service_at_locations": ("/open/hsds/service_at_locations", PUBLIC),
    "/inlezen": ("/inlezen", frozenset({A, T, B})),
    "/beheer": ("/beheer", frozenset({B})),
    "/beheer/logboek": ("/beheer/logboek", frozenset({B})),
    "/beheer/logboek.csv": ("/beheer/logboek.csv", frozenset({B})),
    "/beheer/gebruikers": ("/beheer/gebruikers", frozenset({B})),
    "/beheer/organisaties": ("/beheer/organisaties", frozenset({B})),
    "/aanbieder/organisatie": ("/aanbieder/organisatie", frozenset({A})),
    "/account/wachtwoord": ("/account/wachtwoord", ALL),
    "/casussen": ("/casussen", frozenset({V, T, B})),
    "/casussen/nieuw": ("/casussen/nieuw", frozenset({V, B})),
    "/casussen/{ref}": ("/casussen/geen", frozenset({V, T, B})),
    "/casussen/aanmelden/{offering_id}": ("/casussen/aanmelden/{snel}", frozenset({V, T, B})),
    "/aanmeldingen": ("/aanmeldingen", frozenset({A, B})),
    "/aanmeldingen/{aanmelding_id}": ("/aanmeldingen/geen", frozenset({A, B})),
    "/meldingen": ("/meldingen", ALL),
    "/wachttijden": ("/wachttijden", ALL),
    "/api/v1/casussen": ("/api/v1/casussen", frozenset({V, T, B})),
    "/api/v1/casussen/{ref}": ("/api/v1/casussen/geen", frozenset({V, T, B})),
    "/api/v1/aanmeldingen": ("/api/v1/aanmeldingen", frozenset({A, B})),
    "/api/v1/aanmeldingen/{aanmelding_id}": ("/api/v1/aanmeldingen/999999?geen", frozenset({A, B})),
    "/api/v1/wachttijden": ("/api/v1/wachttijden", ALL),
    "/api/v1/meldingen": ("/api/v1/meldingen", ALL),
}

# (method, route path) -> roles that may use it. Login and logout are for everyone.
UNSAFE_MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/tafel/runs"): frozenset({T, B}),
    ("POST", "/tafel/runs/{job_id}/opnieuw"): frozenset({T, B}),
    ("POST", "/tafel/runs/{job_id}/herstart"): frozenset({T, B}),
    ("POST", "/tafel/runs/{job_id}/keuze"): frozenset({T, B}),
    ("POST", "/tafel/runs/{job_id}/aanmelden"): frozenset({T, B}),
    ("POST", "/inkoop/scenario/{job_id}/herstart"): frozenset({INK, B}),
    ("POST", "/aanbieder/aanbod/{offering_id}"): frozenset({A, B}),
    ("PUT", "/api/v1/aanbod/{offering_id}"): frozenset({A, B}),
    ("POST", "/api/v1/tafel/runs"): frozenset({T, B}),
    ("POST", "/api/v1/tafel/runs/{job_id}/opnieuw"): frozenset({T, B}),
    ("POST", "/inkoop/scenario"): frozenset({INK, B}),
    ("POST", "/api/v1/inkoop/scenarios"): frozenset({INK, B}),
    ("POST", "/inkoop/advies"): frozenset({INK, B}),
    ("POST", "/api/v1/inkoop/advies"): frozenset({INK, B}),
    ("POST", "/inlezen"): frozenset({A, T, B}),
    ("POST", "/inlezen/bevestigen"): frozenset({A, T, B}),
    ("POST", "/beheer/gebruikers"): frozenset({B}),
    ("POST", "/beheer/organisaties"): frozenset({B}),
    ("POST", "/beheer/organisaties/{organisation_id}/email"): frozenset({B}),
    ("POST", "/aanbieder/organisatie/email"): frozenset({A}),
    ("POST", "/beheer/gebruikers/{account_id}/uitzetten"): frozenset({B}),
    ("POST", "/beheer/gebruikers/{account_id}/aanzetten"): frozenset({B}),
    ("POST", "/beheer/gebruikers/{account_id}/wachtwoord"): frozenset({B}),
    ("POST", "/account/wachtwoord"): ALL,
    ("POST", "/rapportage/momentopname"): frozenset({T, B}),
    ("POST", "/aanbieder/alles-klopt"): frozenset({A}),
    ("POST", "/casussen/nieuw"): frozenset({V, B}),
    ("POST", "/casussen/aanmelden/{offering_id}"): frozenset({V, T, B}),
    ("POST", "/casussen/aanmeldingen/{aanmelding_id}/beeindigen"): frozenset({V, T, B}),
    ("POST", "/aanmeldingen/{aanmelding_id}"): frozenset({A, B}),
    ("POST", "/api/v1/casussen"): frozenset({V, B}),
    ("POST", "/api/v1/aanmeldingen"): frozenset({V, T, B}),
    ("POST", "/api/v1/aanmeldingen/voorstel"): frozenset({V, T, B}),
    ("POST", "/api/v1/aanmeldingen/{aanmelding_id}/antwoord"): frozenset({A, B}),
    ("POST", "/api/v1/aanmeldingen/{aanmelding_id}/beeindigen"): frozenset({V, T, B}),
}
OPEN_UNSAFE = {("POST", "/inloggen"), ("POST", "/uitloggen")}


# (role, region): every role in the first region, the regional roles in the second too.
PRINCIPALS = [(r, REGION) for r in Role] + [(r, REGION_2) for r in REGIONAL_ROLES]
# Per region: the offering of its provider, a waiting child, a care type it buys.
OWN = {
    REGION: ("offering:snel", "K-001", CARE),
    REGION_2: ("offering:dom", "K-004", CARE_2),
}


def _pid(principal: tuple[Role, str]) -> str:
    return f"{principal[0].value}-{principal[1]}"


def _url(template: str, ids: dict[str, int], region: str = REGION) -> str:
    return template.replace("{snel}", str(ids[OWN[region][0]]))


def test_matrix_covers_every_get_route() -> None:
    assert {r.path_format for r in all_routes() if "GET" in r.methods} == set(GET_MATRIX)


def test_matrix_covers_every_unsafe_route() -> None:
    unsafe = {(m, r.path_format) for r in all_routes() for m in r.methods - SAFE_METHODS}
    assert unsafe == set(UNSAFE_MATRIX) | OPEN_UNSAFE


@pytest.mark.parametrize("principal", PRINCIPALS, ids=_pid)
def test_get_matrix(client: TestClient, ids: dict[str, int], principal: tuple[Role, str]) -> None:
    role, region = principal
    login(client, username(role, region))
    for path, (url, allowed) in GET_MATRIX.items():
        response = client.get(_url(url, ids, region), follow_redirects=False)
        if allowed is None or role in allowed:
            expected = 404 if "geen" in url else 200
            assert response.status_code == expected, (role, path, response.status_code)
        else:
            assert response.status_code == 403, (role, path, response.status_code)
            if not url.startswith("/api/"):
                assert "niet gebruiken met uw rol" in response.text


def _offering_body(version: int) -> dict[str, Any]:
    return {
        "version": version,
        "places_free": 3,
        "release_per_week": 0.5,
        "expected_wait_days": 5,
        "intake_days": 14,
        "intake_stop": False,
        "lvb_expertise": False,
        "age_min": 0,
        "age_max": 18,
        "contra_indications": [],
    }


@pytest.mark.parametrize("principal", PRINCIPALS, ids=_pid)
def test_unsafe_matrix(
    client: TestClient, ids: dict[str, int], principal: tuple[Role, str]
) -> None:
    role, region = principal
    offering, child, care = OWN[region]
    login(client, username(role, region))
    token = csrf_from(client.get("/").text)
    oid = ids[offering]
    allowed = UNSAFE_MATRIX[("POST", "/aanbieder/aanbod/{offering_id}")]
    form = {k: str(v) for k, v in _offering_body(1).items() if k != "contra_indications"}
    form = {k: v for k, v in form.items() if v != "False"}
    post = client.post(
        f"/aanbieder/aanbod/{oid}", data={**form, "csrf_token": token}, follow_redirects=False
    )
    assert post.status_code == (303 if role in allowed else 403), (role, post.status_code)
    current = 2 if role in allowed else 1
    put = client.put(
        f"/api/v1/aanbod/{oid}", json=_offering_body(current), headers={"X-CSRF-Token": token}
    )
    allowed = UNSAFE_MATRIX[("PUT", "/api/v1/aanbod/{offering_id}")]
    assert put.status_code == (200 if role in allowed else 403), (role, put.status_code)
    run = client.post(
        "/tafel/runs", data={"kind": child, "csrf_token": token}, follow_redirects=False
    )
    allowed = UNSAFE_MATRIX[("POST", "/tafel/runs")]
    assert run.status_code == (303 if role in allowed else 403), (role, run.status_code)
    rerun = client.post(
        "/tafel/runs/geen/opnieuw", data={"csrf_token": token}, follow_redirects=False
    )
    allowed = UNSAFE_MATRIX[("POST", "/tafel/runs/{job_id}/opnieuw")]
    assert rerun.status_code == (404 if role in allowed else 403), (role, rerun.status_code)
    for path, route in (
        ("/tafel/runs/geen/herstart", "/tafel/runs/{job_id}/herstart"),
        ("/inkoop/scenario/geen/herstart", "/inkoop/scenario/{job_id}/herstart"),
    ):
        restart = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        allowed = UNSAFE_MATRIX[("POST", route)]
        assert restart.status_code == (404 if role in allowed else 403), (role, path)
    api_run = client.post(
        "/api/v1/tafel/runs", json={"refs": [child]}, headers={"X-CSRF-Token": token}
    )
    allowed = UNSAFE_MATRIX[("POST", "/api/v1/tafel/runs")]
    assert api_run.status_code == (202 if role in allowed else 403), (role, api_run.status_code)
    api_rerun = client.post(
        "/api/v1/tafel/runs/geen/opnieuw", json={}, headers={"X-CSRF-Token": token}
    )
    allowed = UNSAFE_MATRIX[("POST", "/api/v1/tafel/runs/{job_id}/opnieuw")]
    assert api_rerun.status_code == (404 if role in allowed else 403), (
        role,
        api_rerun.status_code,
    )
    chosen: dict[str, str] = {}
    if role is Role.BEHEER:
        # Beheer names the region it computes for (here the second one).
        _, _, care = OWN[REGION_2]
        region = REGION_2
        chosen = {"regio": REGION_2}
    scenario = client.post(
        "/inkoop/scenario",
        data={
            "zorgvorm_1": care,
            "regio_1": region,
            "plekken_1": "2",
            "csrf_token": token,
            **chosen,
        },
        follow_redirects=False,
    )
    allowed = UNSAFE_MATRIX[("POST", "/inkoop/scenario")]
    assert scenario.status_code == (303 if role in allowed else 403), (role, scenario.status_code)
    api_scenario = client.post(
        "/api/v1/inkoop/scenarios",
        params=chosen,
        json={"extra_places": [{"care_type": care, "region": region, "places": 2}]},
        headers={"X-CSRF-Token": token},
    )
    allowed = UNSAFE_MATRIX[("POST", "/api/v1/inkoop/scenarios")]
    assert api_scenario.status_code == (202 if role in allowed else 403), (
        role,
        api_scenario.status_code,
    )
    advice = client.post(
        "/inkoop/advies",
        data={"budget": "100000", "max_plekken": "2", "csrf_token": token},
        follow_redirects=False,
    )
    allowed = UNSAFE_MATRIX[("POST", "/inkoop/advies")]
    assert advice.status_code == (303 if role in allowed else 403), (role, advice.status_code)
    api_advice = client.post(
        "/api/v1/inkoop/advies", json={"budget_euro": 100000}, headers={"X-CSRF-Token": token}
    )
    allowed = UNSAFE_MATRIX[("POST", "/api/v1/inkoop/advies")]
    assert api_advice.status_code == (202 if role in allowed else 403), (
        role,
        api_advice.status_code,
    )


def test_anonymous_matrix(client: TestClient, ids: dict[str, int]) -> None:
    for path, (url, allowed) in GET_MATRIX.items():
        response = client.get(_url(url, ids), follow_redirects=False)
        if allowed is None:
            assert response.status_code == 200, path
        elif url.startswith("/api/"):
            assert response.status_code == 401, path
        else:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/inloggen?volgende=")


# The beheer, upload and account forms: a role outside the matrix gets 403 before the
# form is read; a role inside gets the page's own answer to an empty form.
FORM_POSTS: dict[tuple[str, str], tuple[str, int]] = {
    ("POST", "/inlezen"): ("/inlezen", 422),
    ("POST", "/inlezen/bevestigen"): ("/inlezen/bevestigen", 422),
    ("POST", "/beheer/gebruikers"): ("/beheer/gebruikers", 422),
    ("POST", "/beheer/organisaties"): ("/beheer/organisaties", 422),
    ("POST", "/beheer/gebruikers/{account_id}/uitzetten"): (
        "/beheer/gebruikers/999999/uitzetten",
        422,
    ),
    ("POST", "/beheer/gebruikers/{account_id}/aanzetten"): (
        "/beheer/gebruikers/999999/aanzetten",
        422,
    ),
    ("POST", "/beheer/gebruikers/{account_id}/wachtwoord"): (
        "/beheer/gebruikers/999999/wachtwoord",
        422,
    ),
    ("POST", "/account/wachtwoord"): ("/account/wachtwoord", 422),
    ("POST", "/rapportage/momentopname"): ("/rapportage/momentopname", 200),
    ("POST", "/aanbieder/alles-klopt"): ("/aanbieder/alles-klopt", 303),
    # an organisation that does not exist; an empty field clears the own address
    ("POST", "/beheer/organisaties/{organisation_id}/email"): (
        "/beheer/organisaties/999999/email",
        404,
    ),
    ("POST", "/aanbieder/organisatie/email"): ("/aanbieder/organisatie/email", 303),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_form_posts_of_beheer_upload_and_account(client: TestClient, role: Role) -> None:
    login(client, username_for(role))
    token = csrf_from(client.get("/").text)
    for key, (url, status) in FORM_POSTS.items():
        response = client.post(url, data={"csrf_token": token}, follow_redirects=False)
        expected = status if role in UNSAFE_MATRIX[key] else 403
        assert response.status_code == expected, (role, url, response.status_code)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_unsafe_matrix_of_the_referral_loop(
    client: TestClient, ids: dict[str, int], role: Role
) -> None:
    """Each POST of the loop: a role that may use it gets past the role check (an
    answer about the form or a missing record), the others get 403."""
    login(client, username_for(role))
    token = csrf_from(client.get("/").text)
    calls = {
        ("POST", "/casussen/nieuw"): ("/casussen/nieuw", (422,)),
        ("POST", "/casussen/aanmelden/{offering_id}"): (
            f"/casussen/aanmelden/{ids['offering:snel']}",
            (422,),
        ),
        ("POST", "/casussen/aanmeldingen/{aanmelding_id}/beeindigen"): (
            "/casussen/aanmeldingen/999999/beeindigen",
            (404,),
        ),
        ("POST", "/aanmeldingen/{aanmelding_id}"): ("/aanmeldingen/999999", (404, 422)),
        ("POST", "/api/v1/casussen"): ("/api/v1/casussen", (422,)),
        ("POST", "/api/v1/aanmeldingen"): ("/api/v1/aanmeldingen", (404,)),
        ("POST", "/api/v1/aanmeldingen/voorstel"): ("/api/v1/aanmeldingen/voorstel", (404,)),
        ("POST", "/api/v1/aanmeldingen/{aanmelding_id}/antwoord"): (
            "/api/v1/aanmeldingen/999999/antwoord",
            (404,),
        ),
        ("POST", "/api/v1/aanmeldingen/{aanmelding_id}/beeindigen"): (
            "/api/v1/aanmeldingen/999999/beeindigen",
            (404,),
        ),
    }
    bodies: dict[str, dict[str, object]] = {
        "/api/v1/casussen": {
            "birth_month": "2015-04",
            "gemeente": "GM0505",
            "measure": "OTS",
            "ruling_date": "2026-10-01",
            "needs": ["ONBEKEND"],
        },
        "/api/v1/aanmeldingen": {"ref": "geen", "need_id": 1, "offering_id": 1},
        "/api/v1/aanmeldingen/voorstel": {
            "items": [{"ref": "geen", "need_id": 1, "offering_id": 1}]
        },
        "/api/v1/aanmeldingen/999999/antwoord": {"kind": "start", "on": "2026-11-20"},
    }
    for key, (url, codes) in calls.items():
        if url.startswith("/api/"):
            response = client.post(url, json=bodies.get(url, {}), headers={"X-CSRF-Token": token})
            if role in UNSAFE_MATRIX[key]:
                assert response.status_code in codes, (role, key, response.status_code)
            else:
                assert response.status_code == 403, (role, key, response.status_code)
            continue
        response = client.post(url, data={"csrf_token": token}, follow_redirects=False)
        if role in UNSAFE_MATRIX[key]:
            assert response.status_code in codes, (role, key, response.status_code)
        else:
            assert response.status_code == 403, (role, key, response.status_code)
