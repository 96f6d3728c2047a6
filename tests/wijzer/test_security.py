"""Security headers on every kind of response and CSRF on every state-changing route."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.wijzer.conftest import csrf_from, login
from wijzer.routers import all_routes
from wijzer.security import SAFE_METHODS

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _check_headers(response) -> None:
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    for name, value in EXPECTED.items():
        assert response.headers[name] == value


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/inloggen",
        "/zoeken",
        "/bestaat-niet",
        "/api/v1/ik",
        "/api/v1/openapi.json",
        "/static/wijzer.css",
        "/static/vendor/htmx/htmx.min.js",
    ],
)
def test_headers_everywhere(client: TestClient, path: str) -> None:
    _check_headers(client.get(path, follow_redirects=False))


def test_pages_are_not_cached_but_static_files_may_be(client: TestClient) -> None:
    assert client.get("/inloggen").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/wijzer.css").headers.get("cache-control", "")


def test_session_cookie_flags(client: TestClient) -> None:
    cookie = client.get("/inloggen").headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def _unsafe_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in all_routes():
        for method in route.methods - SAFE_METHODS:
            found.append((method, route.path_format))
    return sorted(found)


def test_there_are_state_changing_routes(app: FastAPI) -> None:
    assert ("POST", "/inloggen") in _unsafe_routes(app)
    assert ("POST", "/uitloggen") in _unsafe_routes(app)


def test_every_unsafe_route_rejects_a_missing_or_wrong_token(
    app: FastAPI, client: TestClient
) -> None:
    login(client, "test-beheer")
    for method, path in _unsafe_routes(app):
        url = path.replace("{", "").replace("}", "")
        missing = client.request(method, url, data={"x": "1"}, follow_redirects=False)
        assert missing.status_code == 403, (method, path, missing.status_code)
        wrong = client.request(
            method, url, data={"csrf_token": "niet-goed"}, follow_redirects=False
        )
        assert wrong.status_code == 403, (method, path)
        header = client.request(
            method, url, headers={"X-CSRF-Token": "niet-goed"}, follow_redirects=False
        )
        assert header.status_code == 403, (method, path)
    # Still logged in: the failed attempts changed nothing.
    assert client.get("/api/v1/ik").status_code == 200


def test_csrf_error_is_b1_html_for_pages_and_json_for_api(client: TestClient) -> None:
    html = client.post("/uitloggen", data={}, follow_redirects=False)
    assert html.status_code == 403
    assert "Laad de pagina opnieuw" in html.text


def test_token_in_header_is_accepted(client: TestClient) -> None:
    login(client, "test-beheer")
    token = csrf_from(client.get("/").text)
    response = client.post("/uitloggen", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_token_from_another_session_is_rejected(app: FastAPI) -> None:
    with TestClient(app) as a, TestClient(app) as b:
        login(a, "test-beheer")
        login(b, "test-beheer")
        token_b = csrf_from(b.get("/").text)
        assert a.post("/uitloggen", data={"csrf_token": token_b}).status_code == 403


def test_openapi_has_only_api_routes(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert paths
    assert all(p.startswith("/api/v1/") for p in paths)


def test_skip_link_and_language(client: TestClient) -> None:
    html = client.get("/inloggen").text
    assert '<html lang="nl">' in html
    assert 'href="#inhoud"' in html
    assert 'id="inhoud"' in html
    assert "cdn" not in html.lower()


def test_bad_path_values_get_a_b1_page_or_json(client: TestClient) -> None:
    login(client, "test-aanbieder")
    page = client.get("/aanbieder/aanbod/geen-getal")
    assert page.status_code == 404
    assert "kloppen niet" in page.text
    assert "<html" in page.text
    token = csrf_from(client.get("/aanbieder").text)
    api = client.put(
        "/api/v1/aanbod/geen-getal", json={"version": "x"}, headers={"X-CSRF-Token": token}
    )
    assert api.status_code == 422
    detail = api.json()["detail"]
    assert {d["msg"] for d in detail} == {"De gegevens in uw verzoek kloppen niet."}
    assert ["path", "offering_id"] in [d["loc"] for d in detail]
