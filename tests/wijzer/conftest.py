"""In-process app fixtures: a migrated SQLite database with the test data set,
copied per test, and a TestClient per test."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from providers.store.engine import make_engine, migrate, session_factory
from tests.wijzer.data import PASSWORD, TODAY, seed
from wijzer.app import create_app
from wijzer.auth import Role
from wijzer.settings import Settings

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

__all__ = ["PASSWORD", "TODAY", "csrf_from", "login", "username_for"]


def username_for(role: Role) -> str:
    return f"test-{role.value}"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    # Migrating and hashing passwords is slow; do it once and copy the file per test.
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_factory(engine).begin() as session:
        ids = seed(session)
    engine.dispose()
    return path, ids


@pytest.fixture
def ids(template_db: tuple[Path, dict[str, int]]) -> dict[str, int]:
    return template_db[1]


@pytest.fixture
def settings(tmp_path: Path, template_db: tuple[Path, dict[str, int]]) -> Settings:
    db = tmp_path / "wijzer.sqlite3"
    shutil.copy(template_db[0], db)
    return Settings(
        secret_key="test-secret-" + "x" * 32,
        login_max_failures=3,
        database_url=f"sqlite:///{db}",
        today=TODAY,
        # Jobs on threads: a process pool spawns workers that import the whole app
        # (seconds per test); tests/wijzer/test_jobs.py runs the process pool itself.
        jobs_executor="thread",
        # The role tables start more jobs per user at once than the quota allows;
        # the quota itself is tested with its default in tests/wijzer/test_jobs.py.
        jobs_max_active=20,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = csrf_from(client.get("/inloggen").text)
    response = client.post(
        "/inloggen",
        data={"gebruikersnaam": username, "wachtwoord": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def login_as(client: TestClient) -> Callable[[Role], TestClient]:
    def do(role: Role) -> TestClient:
        login(client, username_for(role))
        return client

    return do
