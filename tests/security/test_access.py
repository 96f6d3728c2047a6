"""Authorization, sessions, login rate limit, headers and the append-only audit log.

The role x endpoint matrix here calls every route of the app (HTML, API and
the framework's own OpenAPI/docs routes) with every method it has, as every
role, as a second provider, and without a session; tests/wijzer/test_role_matrix.py
holds the allowed roles per route, and this file checks that table covers the
app and then enforces it on every combination. Object-level checks follow:
nobody reaches another organisation's offering or another region's run.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from providers.store import accounts
from providers.store.access import Principal
from providers.store.models import AuditEntry, Offering, OrganisationKind
from tests.security.conftest import (
    PASSWORD,
    csrf_from,
    drop_role,
    logged_in,
    login,
    username_for,
)
from tests.wijzer.data import MARKERS, REGION, REGION_2, REGIONAL_ROLES, username
from tests.wijzer.test_role_matrix import GET_MATRIX, OPEN_UNSAFE, UNSAFE_MATRIX
from wijzer.auth import Role
from wijzer.security import SAFE_METHODS

OTHER_PROVIDER = "test-ander-aanbieder"
# The regional roles' users of the second region of the test data (beheer is national).
REGION_2_USERS = {username(r, REGION_2): r for r in REGIONAL_ROLES}
# Tests of the web layer only: the database behind it does not change the answer.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
# Routes the framework adds for the API documentation; open on purpose (no data).
FRAMEWORK_GET = {"/api/v1/openapi.json"}
PRINCIPALS: list[Role | str | None] = [*Role, *REGION_2_USERS, OTHER_PROVIDER, None]


def _pid(p: Role | str | None) -> str:
    return p.value if isinstance(p, Role) else (p or "anoniem")


def _app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers: its own routes and those of included routers."""
    out = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(list(inner.routes))
            elif isinstance(route, APIRoute) or getattr(route, "methods", None):
                out.extend((m, route.path) for m in route.methods)

    walk(list(app.routes))
    return sorted(set(out))


def _allowed(method: str, path: str) -> frozenset[Role] | None:
    """Roles that may call this route; None means open to everyone."""
    if method in SAFE_METHODS:
        if path in FRAMEWORK_GET:
            return None
        return GET_MATRIX[path][1]
    if (method, path) in OPEN_UNSAFE:
        return None
    return UNSAFE_MATRIX[(method, path)]


def _concrete(path: str, ids: dict[str, int], offering: str = "offering:snel") -> str:
    return (
        path.replace("{offering_id}", str(ids[offering]))
        .replace("{job_id}", "geen")
        .replace("{fmt}", "csv")
    )


def test_matrix_table_covers_every_route_of_the_app(app: FastAPI) -> None:
    for method, path in _app_routes(app):
        if method == "HEAD":
            continue
        _allowed(method, path)  # KeyError = a route without a rule


def _principal_role(p: Role | str | None) -> Role | None:
    if isinstance(p, Role) or p is None:
        return p
    return Role.AANBIEDER if p == OTHER_PROVIDER else REGION_2_USERS[p]


def _region_of(p: Role | str | None) -> str | None:
    """The region of a principal's account; None for beheer and anonymous."""
    if not isinstance(p, Role) and p in REGION_2_USERS:
        return REGION_2
    if p == OTHER_PROVIDER or (isinstance(p, Role) and p in REGIONAL_ROLES):
        return REGION
    return None


def _check_principal(app: FastAPI, ids: dict[str, int], principal: Role | str | None) -> int:
    client = TestClient(app, base_url="http://testserver")
    if principal is not None:
        login(client, username_for(principal) if isinstance(principal, Role) else principal)
    token = csrf_from(client.get("/inloggen").text)
    role = _principal_role(principal)
    checked = 0
    for method, path in _app_routes(app):
        if method == "HEAD" or (method, path) == ("POST", "/uitloggen"):
            continue
        allowed = _allowed(method, path)
        own = "offering:dom" if principal in REGION_2_USERS else "offering:snel"
        url = _concrete(path, ids, own)
        kwargs: dict[str, Any] = {"headers": {"X-CSRF-Token": token}, "follow_redirects": False}
        if method == "PUT":
            kwargs["json"] = {}
        elif method == "POST":
            kwargs["data"] = {"csrf_token": token}
        response = client.request(method, url, **kwargs)
        checked += 1
        code = response.status_code
        region = _region_of(principal)
        if region is not None:
            # No ref, budget or organisation of the other region, whatever the answer.
            theirs = MARKERS[REGION_2 if region == REGION else REGION]
            leaked = [m for m in theirs if m in response.text]
            assert not leaked, (_pid(principal), method, path, leaked)
        if allowed is None or (role is not None and role in allowed):
            assert code not in (401, 403), (_pid(principal), method, path, code)
            assert code < 500, (_pid(principal), method, path, code)
        elif principal is None:
            expected = 401 if path.startswith("/api/") else 303
            assert code == expected, (method, path, code)
        else:
            assert code == 403, (_pid(principal), method, path, code)
    client.close()
    return checked


def test_every_route_every_method_every_role(app: FastAPI, ids: dict[str, int]) -> None:
    calls = sum(_check_principal(app, ids, p) for p in PRINCIPALS)
    # 11 principals x every (method, route) but HEAD and logout; grows with the app.
    assert calls >= 11 * 19


def test_provider_cannot_touch_another_providers_offering(
    app: FastAPI, ids: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    theirs = ids["offering:budget"]  # belongs to the other provider
    with sessions() as s:
        before = s.get(Offering, theirs)
        assert before is not None
        version, places = before.version, before.places_free
    client = logged_in(app, Role.AANBIEDER)
    token = csrf_from(client.get("/").text)
    assert client.get(f"/aanbieder/aanbod/{theirs}").status_code == 404
    body = {
        "version": version,
        "places_free": 9,
        "release_per_week": 0,
        "expected_wait_days": 0,
        "intake_days": 1,
        "intake_stop": False,
        "lvb_expertise": False,
        "age_min": 0,
        "age_max": 18,
    }
    put = client.put(f"/api/v1/aanbod/{theirs}", json=body, headers={"X-CSRF-Token": token})
    assert put.status_code == 404
    form = {k: str(v) for k, v in body.items() if v is not False}
    post = client.post(
        f"/aanbieder/aanbod/{theirs}", data={**form, "csrf_token": token}, follow_redirects=False
    )
    assert post.status_code == 404
    listed = {r["id"] for r in client.get("/api/v1/aanbod").json()["offerings"]}
    assert theirs not in listed
    assert ids["offering:snel"] in listed
    other = logged_in(app, OTHER_PROVIDER)
    assert {r["id"] for r in other.get("/api/v1/aanbod").json()["offerings"]} == {theirs}
    with sessions() as s:
        after = s.get(Offering, theirs)
        assert after is not None
        assert (after.version, after.places_free) == (version, places)
    client.close()
    other.close()


def test_table_sees_only_its_own_region(
    app: FastAPI, sessions: sessionmaker[Session], client_for: Callable[[Role | str], TestClient]
) -> None:
    with sessions.begin() as s:
        org = accounts.create_organisation(
            s, "Tafel Utrecht", OrganisationKind.REGIO, region_code="JZ22"
        )
        accounts.create_account(s, "tafel-utrecht", PASSWORD, Role.TAFEL, org)
    own = client_for(Role.TAFEL)
    other = client_for("tafel-utrecht")
    page = own.get("/tafel").text
    assert "K-001" in page
    assert "K-004" not in page  # a child of another region
    assert "K-004" in other.get("/tafel").text
    assert "K-001" not in other.get("/tafel").text
    token = csrf_from(page)
    run = own.post(
        "/tafel/runs", data={"kind": "K-001", "csrf_token": token}, follow_redirects=False
    )
    job = run.headers["location"].rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while app.state.jobs.get(Principal.system(), job).status.value not in ("klaar", "mislukt"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert own.get(f"/tafel/runs/{job}").status_code == 200
    for url in (
        f"/tafel/runs/{job}",
        f"/tafel/runs/{job}/besluitenlijst.csv",
        f"/tafel/vergelijk?a={job}&b={job}",
    ):
        assert other.get(url).status_code == 404, url
    assert job not in other.get("/tafel").text


@SQLITE_ONLY
def test_inkoop_sees_no_child_refs(client_for: Callable[[Role | str], TestClient]) -> None:
    page = client_for(Role.INKOOP).get("/inkoop").text
    assert not re.search(r"K-00\d", page)


# --- sessions ---------------------------------------------------------------------------


def _session_cookie(client: TestClient) -> str:
    return str(client.cookies.get("wijzer_sessie"))


@SQLITE_ONLY
def test_login_gives_a_new_session_and_the_old_one_stays_anonymous(app: FastAPI) -> None:
    client = TestClient(app, base_url="http://testserver")
    client.get("/inloggen")
    before = _session_cookie(client)
    login(client, username_for(Role.BEHEER))
    after = _session_cookie(client)
    assert before != after
    attacker = TestClient(app, base_url="http://testserver")
    attacker.cookies.set("wijzer_sessie", before)
    assert attacker.get("/api/v1/ik").status_code == 401
    assert client.get("/api/v1/ik").status_code == 200


@SQLITE_ONLY
def test_logout_ends_the_session_in_this_browser(app: FastAPI) -> None:
    client = logged_in(app, Role.BEHEER)
    token = csrf_from(client.get("/").text)
    assert client.post("/uitloggen", data={"csrf_token": token}).status_code == 200
    assert client.get("/api/v1/ik").status_code == 401


def test_a_copied_cookie_is_worthless_after_logout(app: FastAPI) -> None:
    """Sessions are ended on the server: a copy of the cookie stops working too."""
    client = logged_in(app, Role.BEHEER)
    copied = _session_cookie(client)
    token = csrf_from(client.get("/").text)
    client.post("/uitloggen", data={"csrf_token": token})
    replay = TestClient(app, base_url="http://testserver")
    replay.cookies.set("wijzer_sessie", copied)
    assert replay.get("/api/v1/ik").status_code == 401


@SQLITE_ONLY
def test_a_tampered_cookie_is_anonymous(app: FastAPI) -> None:
    client = logged_in(app, Role.VERWIJZER)
    value = _session_cookie(client)
    payload, rest = value.split(".", 1)
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    data["user"] = username_for(Role.BEHEER)
    forged = base64.b64encode(json.dumps(data).encode()).decode().rstrip("=")
    evil = TestClient(app, base_url="http://testserver")
    evil.cookies.set("wijzer_sessie", f"{forged}.{rest}")
    assert evil.get("/api/v1/ik").status_code == 401


@SQLITE_ONLY
def test_cookie_flags(app: FastAPI, settings: Any) -> None:
    client = TestClient(app, base_url="http://testserver")
    cookie = client.get("/inloggen").headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    max_age = int(re.search(r"max-age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert max_age <= 8 * 3600
    from wijzer.app import create_app

    secure_app = create_app(settings.model_copy(update={"https_only_cookies": True}))
    with TestClient(secure_app, base_url="https://testserver") as c:
        assert "secure" in c.get("/inloggen").headers["set-cookie"].lower()
    secure_app.state.engine.dispose()


@SQLITE_ONLY
def test_rate_limit_per_user_and_per_address(app: FastAPI) -> None:
    client = TestClient(app, base_url="http://testserver")
    token = csrf_from(client.get("/inloggen").text)

    def attempt(user: str, password: str) -> Any:
        data = {"gebruikersnaam": user, "wachtwoord": password, "csrf_token": token}
        return client.post("/inloggen", data=data, follow_redirects=False)

    for _ in range(3):  # login_max_failures=3 in the test settings
        assert attempt("test-tafel", "fout").status_code == 401
    blocked = attempt("test-tafel", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Probeer het over" in blocked.text
    # The same address is blocked for other names too (no spraying across accounts).
    assert attempt("test-beheer", PASSWORD).status_code == 429
    assert client.get("/api/v1/ik").status_code == 401


@SQLITE_ONLY
def test_unknown_and_known_users_get_the_same_answer(app: FastAPI) -> None:
    client = TestClient(app, base_url="http://testserver")
    token = csrf_from(client.get("/inloggen").text)
    answers = []
    for user in ("test-tafel", "bestaat-niet"):
        r = client.post(
            "/inloggen",
            data={"gebruikersnaam": user, "wachtwoord": "fout", "csrf_token": token},
            follow_redirects=False,
        )
        answers.append((r.status_code, r.text.replace(user, "X")))
    assert answers[0] == answers[1]


# --- headers --------------------------------------------------------------------------


def _check_headers(response: Any, where: str) -> None:
    h = response.headers
    csp = h.get("content-security-policy", "")
    assert "script-src 'self'" in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert "object-src 'none'" in csp, where
    assert "unsafe-inline" not in csp, where
    assert "unsafe-eval" not in csp, where
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin"), where
    assert h.get("x-frame-options") == "DENY", where


@SQLITE_ONLY
def test_headers_on_every_route_and_error(app: FastAPI, ids: dict[str, int]) -> None:
    for principal in (Role.BEHEER, None):
        _check_all_headers(app, ids, principal)


def _check_all_headers(app: FastAPI, ids: dict[str, int], principal: Role | None) -> None:
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    if principal is not None:
        login(client, username_for(principal))
    for method, path in _app_routes(app):
        if method in SAFE_METHODS:
            url = _concrete(path, ids)
            _check_headers(client.request(method, url, follow_redirects=False), url)
    for method, url in [
        ("GET", "/bestaat-niet"),
        ("DELETE", "/zoeken"),  # 405
        ("POST", "/uitloggen"),  # 403 CSRF
        ("GET", "/api/v1/zoeken?leeftijd=abc"),  # 422
        ("GET", "/static/wijzer.css"),
    ]:
        _check_headers(client.request(method, url, follow_redirects=False), url)


@SQLITE_ONLY
def test_headers_and_dutch_text_on_a_server_error(settings: Any) -> None:
    from wijzer.app import create_app

    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("kapot")

    app.add_api_route("/api/v1/kapot", boom)
    app.add_api_route("/kapot", boom)
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    for url in ("/kapot", "/api/v1/kapot"):
        response = client.get(url)
        assert response.status_code == 500
        _check_headers(response, url)
        assert "Er ging iets mis" in response.text
        assert "kapot" not in response.text  # no internals
    app.state.engine.dispose()


# --- the audit log is append-only ---------------------------------------------------------


def test_app_session_cannot_change_or_delete_the_audit_log(
    app: FastAPI, sessions: sessionmaker[Session], backend: str
) -> None:
    client = logged_in(app, Role.TAFEL)
    client.get("/tafel")  # reads the waiting list: one audit entry
    with sessions() as s:
        n = s.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
        assert n >= 1
    for statement in (
        update(AuditEntry).values(actor="iemand-anders"),
        text("UPDATE audit_log SET record_refs = ''"),
        text("DELETE FROM audit_log"),
    ):
        with pytest.raises(DBAPIError):
            _execute(sessions, statement)
    with sessions() as s:
        assert s.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == n
        assert (
            s.execute(
                text("SELECT count(*) FROM audit_log WHERE actor = 'iemand-anders'")
            ).scalar_one()
            == 0
        )
    if backend == "postgresql":
        with pytest.raises(DBAPIError):
            _execute(sessions, text("TRUNCATE audit_log"))


def _execute(sessions: sessionmaker[Session], statement: Any) -> None:
    with sessions() as s:
        s.execute(statement)
        s.commit()


APP_ROLE_SQL = re.compile(r"```sql\n(?P<sql>.*?)```", re.S)


def _app_role_sql() -> str:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    blocks = [m.group("sql") for m in APP_ROLE_SQL.finditer(doc) if "wijzer_app" in m.group("sql")]
    assert len(blocks) == 1, "docs/security.md holds one sql block for the app role"
    return blocks[0]


@pytest.mark.postgres
def test_postgres_app_role_has_no_update_or_delete_on_the_audit_log(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """The role from docs/security.md: the app works, the audit log stays append-only
    even if the triggers were gone (only the owner can drop them)."""
    if backend != "postgresql":
        pytest.skip("database roles are a PostgreSQL test")
    pg_admin: Engine = request.getfixturevalue("pg_admin")
    schema: str = request.getfixturevalue("pg_schema")
    app: FastAPI = request.getfixturevalue("app")
    role = f"{schema}_app"
    sql = _app_role_sql().replace("wijzer_app", role).replace("public", f'"{schema}"')
    try:
        with pg_admin.connect() as conn:
            for statement in (s.strip() for s in sql.split(";")):
                if statement:
                    conn.execute(text(statement))
        with app.state.engine.connect() as conn:
            conn.execute(text(f'SET ROLE "{role}"'))
            # What the app does: read, write case data, append to the log.
            conn.execute(text("SELECT count(*) FROM children"))
            conn.execute(text("UPDATE offerings SET places_free = places_free"))
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor, role, action, entity, record_count, "
                    "record_refs, detail) VALUES (now(), 'x', 'beheer', 'lezen', 't', 0, '', '')"
                )
            )
            conn.commit()
            for statement in (
                "UPDATE audit_log SET actor = 'y'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_update ON audit_log",
            ):
                conn.execute(text(f'SET ROLE "{role}"'))
                with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
                    conn.execute(text(statement))
                conn.rollback()
    finally:
        drop_role(pg_admin, role)


@SQLITE_ONLY
def test_refused_access_and_csrf_failures_are_logged(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    client = logged_in(app, Role.VERWIJZER)
    with caplog.at_level("WARNING", logger="wijzer"):
        assert client.get("/inkoop").status_code == 403
        assert client.post("/uitloggen", data={}).status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("wijzer")]
    assert any("access refused" in m and "test-verwijzer" in m and "/inkoop" in m for m in lines)
    assert any("csrf" in m and "/uitloggen" in m for m in lines)
    assert not any(PASSWORD in m for m in lines)
