"""Names, not codes, on the pages and exports of the demo region: a tafel run with
explanations, the inkoop form and a scenario with a raised ceiling.  No budget id
("B000001") and no GM code may appear where a person reads."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from providers.store import accounts
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import Child, ChildStatus, OrganisationKind, Role
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.test_no_raw_codes import visible_text
from wijzer.app import create_app
from wijzer.demo_site import load_demo_data
from wijzer.settings import Settings

TODAY = dt.date(2026, 11, 20)
REGION = "JZ31"
PASSWORD = "correct paard batterij niet"
CODES = re.compile(r"\bB\d{6}\b|\bGM\d{4}\b")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, list[str]]]:
    db: Path = tmp_path_factory.mktemp("demo_names") / "demo.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    factory = session_factory(engine)
    load_demo_data(factory, TODAY, io.StringIO())
    with factory.begin() as s:
        for role in (Role.TAFEL, Role.INKOOP):
            org = accounts.create_organisation(
                s, f"org {role.value}", OrganisationKind.REGIO, region_code=REGION
            )
            accounts.create_account(s, f"demo-{role.value}", PASSWORD, role, org)
        refs = list(
            s.scalars(
                select(Child.ref)
                .where(Child.region_code == REGION, Child.status == ChildStatus.WAITING.value)
                .order_by(Child.ref)
                .limit(60)
            )
        )
    engine.dispose()
    app = create_app(
        Settings(secret_key="test-secret-" + "x" * 32, database_url=f"sqlite:///{db}", today=TODAY)
    )
    yield app, refs
    app.state.engine.dispose()


def _wait(c: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    body: dict[str, Any] = c.get(location).json()
    while not body["done"] and time.monotonic() < deadline:
        time.sleep(0.3)
        body = c.get(location).json()
    assert body["status"] == "klaar", body
    return body


def _codes(text: str) -> list[str]:
    return sorted({m.group(0) for m in CODES.finditer(text)})


def test_the_tafel_run_of_the_demo_names_everything(
    demo_app: tuple[FastAPI, list[str]],
) -> None:
    app, refs = demo_app
    with TestClient(app) as c:
        login(c, "demo-tafel", PASSWORD)
        token = csrf_from(c.get("/tafel").text)
        started = c.post("/api/v1/tafel/runs", json={"refs": refs}, headers={"X-CSRF-Token": token})
        body = _wait(c, started.headers["location"])
        rows = body["outcome"]["rows"]
        assert any(not r["placed"] and len(r["sentences"]) > 1 for r in rows)
        readable = " ".join(
            " ".join([*r["sentences"], r["smallest_change"] or "", r["provider"] or ""])
            + " "
            + (r["location"] or "")
            for r in rows
        )
        page = visible_text(c.get(f"/tafel/runs/{body['id']}").text)
        export = c.get(f"/tafel/runs/{body['id']}/besluitenlijst.csv").content.decode("utf-8-sig")
    assert _codes(readable) == []
    assert _codes(page) == []
    assert _codes(export) == []


def test_the_inkoop_pages_of_the_demo_name_the_ceilings(
    demo_app: tuple[FastAPI, list[str]],
) -> None:
    app, _ = demo_app
    with TestClient(app) as c:
        login(c, "demo-inkoop", PASSWORD)
        form = c.get("/inkoop").text
        text = visible_text(form)
        assert "Plafond " in text
        assert _codes(text) == []
        response = c.post(
            "/inkoop/scenario",
            data={"csrf_token": csrf_from(form), "plafond_1": "10000"},
            follow_redirects=False,
        )
        assert response.status_code in (302, 303), response.text
        scenario = response.headers["location"].rsplit("/", 1)[1]
        _wait(c, f"/api/v1/inkoop/scenarios/{scenario}")
        page = visible_text(c.get(f"/inkoop/scenario/{scenario}").text)
        export = c.get(f"/inkoop/scenario/{scenario}/totalen.csv").content.decode("utf-8-sig")
    assert "€ 10.000 hoger" in page
    assert _codes(page) == []
    assert _codes(export) == []
