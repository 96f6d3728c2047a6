"""Security events of the login (ASVS V16.3.1) and the framework's unreadable-body answer."""

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.wijzer.conftest import PASSWORD, csrf_from, login


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("wijzer")]


def test_successful_and_failed_logins_are_logged_without_password(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="wijzer"):
        token = csrf_from(client.get("/inloggen").text)
        wrong = client.post(
            "/inloggen",
            data={
                "gebruikersnaam": "test-tafel",
                "wachtwoord": "fout-wachtwoord",
                "csrf_token": token,
            },
        )
        assert wrong.status_code == 401
        login(client, "test-tafel")
        token = csrf_from(client.get("/").text)
        assert client.post("/uitloggen", data={"csrf_token": token}).status_code in (200, 303)
    lines = _lines(caplog)
    assert any("login failed" in m and "test-tafel" in m for m in lines)
    assert any("login ok" in m and "test-tafel" in m for m in lines)
    assert any("logout" in m and "test-tafel" in m for m in lines)
    assert not any(PASSWORD in m or "fout-wachtwoord" in m for m in lines)


def test_unreadable_body_gets_a_dutch_answer(client: TestClient) -> None:
    login(client, "test-aanbieder")
    token = csrf_from(client.get("/aanbieder").text)
    # Not UTF-8: the framework cannot decode the JSON body at all.
    response = client.put(
        "/api/v1/aanbod/1",
        content=b'{"version": "\x80\x81"}',
        headers={"content-type": "application/json", "X-CSRF-Token": token},
    )
    assert response.status_code == 400
    assert "kon niet worden gelezen" in response.text
    assert "error parsing" not in response.text


def test_serve_migrates_an_old_or_empty_database_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from wijzer import cli, server
    from wijzer.settings import Settings

    started: list[object] = []
    monkeypatch.setattr(server, "run", lambda app, host, port: started.append(app))
    url = f"sqlite:///{tmp_path / 'leeg.sqlite3'}"
    cli.serve(Settings(database_url=url), "127.0.0.1", 0)
    assert len(started) == 1
    tables = sa.inspect(sa.create_engine(url)).get_table_names()
    assert "web_sessions" in tables
    assert "alembic_version" in tables
