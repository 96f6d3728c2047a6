"""In-process app fixtures: a TestClient per test and one account per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wijzer.app import create_app
from wijzer.auth import MemoryAccountDirectory, Principal, Role
from wijzer.settings import Settings

PASSWORD = "correct paard batterij niet"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def principal_for(role: Role) -> Principal:
    return Principal(
        username=f"test-{role.value}",
        role=role,
        organisation_id="ORG-1" if role is Role.AANBIEDER else None,
        regions=("ZHZ",),
    )


@pytest.fixture(scope="session")
def _hashed_accounts() -> MemoryAccountDirectory:
    # argon2 is slow on purpose; hash once per test run and copy per test.
    directory = MemoryAccountDirectory()
    for role in Role:
        directory.add(principal_for(role), PASSWORD)
    return directory


@pytest.fixture
def accounts(_hashed_accounts: MemoryAccountDirectory) -> MemoryAccountDirectory:
    return MemoryAccountDirectory(dict(_hashed_accounts._accounts))


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="test-secret-" + "x" * 32, login_max_failures=3)


@pytest.fixture
def app(settings: Settings, accounts: MemoryAccountDirectory) -> FastAPI:
    return create_app(settings, accounts=accounts)


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
        login(client, principal_for(role).username)
        return client

    return do
