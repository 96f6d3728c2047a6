"""Login, logout, rate limit and redirects."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from providers.store.accounts import hash_password, verify_password
from providers.store.models import Account
from tests.wijzer.conftest import PASSWORD, csrf_from, login
from wijzer.auth import LoginRateLimiter, Role
from wijzer.routers.login import WRONG_LOGIN, safe_next


def _post_login(client: TestClient, username: str, password: str, **extra: str):
    token = csrf_from(client.get("/inloggen").text)
    data = {"gebruikersnaam": username, "wachtwoord": password, "csrf_token": token, **extra}
    return client.post("/inloggen", data=data, follow_redirects=False)


def test_login_then_me(client: TestClient) -> None:
    login(client, "test-verwijzer")
    me = client.get("/api/v1/ik").json()
    assert me["role"] == "verwijzer"
    assert me["username"] == "test-verwijzer"


def test_wrong_password_gives_b1_message_and_no_session(client: TestClient) -> None:
    response = _post_login(client, "test-verwijzer", "fout")
    assert response.status_code == 401
    assert WRONG_LOGIN in response.text
    assert client.get("/api/v1/ik").status_code == 401


def test_unknown_user_gets_the_same_message(client: TestClient) -> None:
    response = _post_login(client, "bestaat-niet", "fout")
    assert response.status_code == 401
    assert WRONG_LOGIN in response.text


def test_empty_fields_get_an_error_summary_linked_to_fields(client: TestClient) -> None:
    response = _post_login(client, "", "")
    assert response.status_code == 422
    html = response.text
    assert 'href="#veld-gebruikersnaam"' in html
    assert 'href="#veld-wachtwoord"' in html
    assert 'id="veld-gebruikersnaam"' in html
    assert 'aria-describedby="fout-gebruikersnaam"' in html
    assert 'aria-invalid="true"' in html


def test_rate_limit_blocks_even_the_right_password(client: TestClient) -> None:
    # The fixture allows 3 failures.
    for _ in range(3):
        assert _post_login(client, "test-tafel", "fout").status_code == 401
    blocked = _post_login(client, "test-tafel", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "te vaak" in blocked.text
    assert client.get("/api/v1/ik").status_code == 401


def test_rate_limit_window_expires() -> None:
    now = [0.0]
    limiter = LoginRateLimiter(2, 60, clock=lambda: now[0])
    keys = ["user:a"]
    limiter.record_failure(keys)
    limiter.record_failure(keys)
    assert limiter.retry_after(keys) == 60
    now[0] = 59.5
    assert limiter.retry_after(keys) == 1
    now[0] = 60.0
    assert limiter.retry_after(keys) == 0


def test_login_redirects_only_to_local_paths(client: TestClient) -> None:
    ok = _post_login(client, "test-verwijzer", PASSWORD, volgende="/zoeken?leeftijd=9")
    assert ok.headers["location"] == "/zoeken?leeftijd=9"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        assert safe_next(evil) == "/"


def test_session_changes_on_login_and_ends_on_logout(client: TestClient) -> None:
    client.get("/inloggen")
    before = client.cookies.get("wijzer_sessie")
    login(client, "test-inkoop")
    after = client.cookies.get("wijzer_sessie")
    assert before != after
    token = csrf_from(client.get("/").text)
    out = client.post("/uitloggen", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/ik").status_code == 401


def test_csrf_token_rotates_on_login(client: TestClient) -> None:
    old = csrf_from(client.get("/inloggen").text)
    login(client, "test-beheer")
    new = csrf_from(client.get("/").text)
    assert old != new


def test_passwords_are_argon2() -> None:
    hashed = hash_password("geheim wachtwoord")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "geheim wachtwoord")
    assert not verify_password(hashed, "ander wachtwoord")
    assert not verify_password("geen hash", "x")


def test_protected_page_redirects_to_login_with_return_path(client: TestClient) -> None:
    response = client.get("/zoeken?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?volgende=/zoeken%3Fx%3D1"


def test_a_deactivated_account_loses_its_session_at_once(client: TestClient, app) -> None:
    login(client, "test-verwijzer")
    assert client.get("/zoeken").status_code == 200
    with app.state.sessions.begin() as session:
        session.execute(
            update(Account).where(Account.username == "test-verwijzer").values(active=False)
        )
    assert client.get("/api/v1/ik").status_code == 401
    assert client.get("/zoeken", follow_redirects=False).status_code == 303


def test_me_shows_scope(client: TestClient) -> None:
    login(client, "test-aanbieder")
    me = client.get("/api/v1/ik").json()
    assert me["role"] == Role.AANBIEDER.value
    assert me["provider_id"] is not None


def _copy_of_cookie(app, client: TestClient) -> TestClient:  # type: ignore[no-untyped-def]
    replay = TestClient(app, base_url="http://testserver")
    replay.cookies.set("wijzer_sessie", client.cookies.get("wijzer_sessie"))
    return replay


def test_a_copied_cookie_stops_working_after_logout(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    login(client, "test-beheer")
    copy = _copy_of_cookie(app, client)
    assert copy.get("/api/v1/ik").status_code == 200  # the copy works while signed in
    token = csrf_from(client.get("/").text)
    client.post("/uitloggen", data={"csrf_token": token})
    assert copy.get("/api/v1/ik").status_code == 401
    # Signing in again gives a new session; the old copy stays dead.
    login(client, "test-beheer")
    assert client.get("/api/v1/ik").status_code == 200
    assert copy.get("/api/v1/ik").status_code == 401


def test_a_password_change_ends_every_session_of_the_account(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    from providers.store import access
    from providers.store.sessions import change_password

    login(client, "test-tafel")
    other = TestClient(app, base_url="http://testserver")
    login(other, "test-tafel")
    bystander = TestClient(app, base_url="http://testserver")
    login(bystander, "test-verwijzer")
    with app.state.sessions.begin() as db:
        change_password(
            db, access.Principal.system(), "test-tafel", "een nieuw wachtwoord van 2026"
        )
    assert client.get("/api/v1/ik").status_code == 401
    assert other.get("/api/v1/ik").status_code == 401
    assert bystander.get("/api/v1/ik").status_code == 200
    login(client, "test-tafel", "een nieuw wachtwoord van 2026")
    assert client.get("/api/v1/ik").status_code == 200


def test_only_the_account_itself_or_beheer_changes_a_password(app) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from providers.store import access
    from providers.store.sessions import change_password

    someone = access.Principal("test-verwijzer", Role.VERWIJZER, None)
    with app.state.sessions.begin() as db, pytest.raises(access.AccessDenied):
        change_password(db, someone, "test-tafel", "een nieuw wachtwoord van 2026")
    with app.state.sessions.begin() as db, pytest.raises(ValueError, match="12 tekens"):
        change_password(db, someone, "test-verwijzer", "kort")
