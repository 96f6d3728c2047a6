"""Every role against every endpoint. The table below is the specification:
a new endpoint makes this test fail until it is added here."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.wijzer.conftest import login, username_for
from wijzer.auth import Role
from wijzer.routers import all_routes
from wijzer.security import SAFE_METHODS

V, A, T, INK, B = Role.VERWIJZER, Role.AANBIEDER, Role.TAFEL, Role.INKOOP, Role.BEHEER
ALL = frozenset(Role)
PUBLIC = None  # no login needed

# route path -> (a concrete URL to call, roles that may use it)
GET_MATRIX: dict[str, tuple[str, frozenset[Role] | None]] = {
    "/": ("/", PUBLIC),
    "/toegankelijkheid": ("/toegankelijkheid", PUBLIC),
    "/inloggen": ("/inloggen", PUBLIC),
    "/zoeken": ("/zoeken", frozenset({V, T, B})),
    "/tafel": ("/tafel", frozenset({T, B})),
    "/inkoop": ("/inkoop", frozenset({INK, B})),
    "/aanbieder": ("/aanbieder", frozenset({A, B})),
    "/rapportage": ("/rapportage", frozenset({T, INK, B})),
    "/api/v1/ik": ("/api/v1/ik", ALL),
    "/api/v1/zoeken": ("/api/v1/zoeken", frozenset({V, T, B})),
}


def _get_routes() -> set[str]:
    return {r.path_format for r in all_routes() if r.methods & {"GET"}}


def test_matrix_covers_every_get_route() -> None:
    assert _get_routes() == set(GET_MATRIX)


def test_every_unsafe_route_is_known() -> None:
    unsafe = {r.path_format for r in all_routes() if r.methods - SAFE_METHODS}
    assert unsafe <= {"/inloggen", "/uitloggen"} | set(UNSAFE_MATRIX)


UNSAFE_MATRIX: dict[str, frozenset[Role]] = {}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_matrix(client: TestClient, role: Role) -> None:
    login(client, username_for(role))
    for path, (url, allowed) in GET_MATRIX.items():
        response = client.get(url, follow_redirects=False)
        if allowed is None or role in allowed:
            assert response.status_code == 200, (role, path, response.status_code)
        else:
            assert response.status_code == 403, (role, path, response.status_code)
            if not url.startswith("/api/"):
                assert "niet gebruiken met uw rol" in response.text


def test_anonymous_matrix(client: TestClient) -> None:
    for path, (url, allowed) in GET_MATRIX.items():
        response = client.get(url, follow_redirects=False)
        if allowed is None:
            assert response.status_code == 200, path
        elif url.startswith("/api/"):
            assert response.status_code == 401, path
        else:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/inloggen?volgende=")
