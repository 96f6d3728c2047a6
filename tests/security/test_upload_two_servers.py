"""An upload previewed on one server process is confirmed through another (or the
same one after a restart): the pending upload is in the database. Still all or
nothing, once only, and refused when the data changed since the preview."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from providers.io import export_tables
from providers.store.access import Principal
from providers.store.dump import load_records
from providers.store.models import ImportBatch, Offering, PendingUploadRow
from tests.security.conftest import _settings, csrf_from, login, username_for
from wijzer.app import create_app
from wijzer.auth import Role


@pytest.fixture
def two_servers(seeded_url: tuple[str, dict[str, int]]) -> Iterator[tuple[FastAPI, FastAPI]]:
    apps = (create_app(_settings(seeded_url[0])), create_app(_settings(seeded_url[0])))
    yield apps
    for app in apps:
        app.state.jobs.shutdown()
        app.state.engine.dispose()


def _offerings_csv(app: FastAPI, tmp_path: Path, places: str) -> bytes:
    with app.state.sessions() as s:
        records = load_records(s, Principal.system(), ["aanbod"])
    rows = [r for r in records["aanbod"] if r.get("aanbieder_id") == "P-HOOFD"]
    for r in rows:
        if r["aanbod_id"] == "O-SNEL":
            r["plaatsen_vrij"] = places
    (path,) = export_tables({"aanbod": rows}, "csv", tmp_path)
    return path.read_bytes()


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, name
    return match.group(1)


def _places(app: FastAPI) -> int:
    with app.state.sessions() as s:
        return s.scalars(select(Offering.places_free).where(Offering.ext_id == "O-SNEL")).one()


def _preview(client: TestClient, data: bytes) -> dict[str, str]:
    token = csrf_from(client.get("/inlezen").text)
    answer = client.post(
        "/inlezen",
        data={"csrf_token": token},
        files=[("bestanden", ("aanbod.csv", data, "text/csv"))],
    )
    assert answer.status_code == 200, answer.text[:300]
    assert "Controleer wat er verandert" in answer.text
    return {k: _hidden(answer.text, k) for k in ("csrf_token", "token", "digest")}


def test_preview_on_one_server_confirmed_on_another(
    two_servers: tuple[FastAPI, FastAPI], tmp_path: Path
) -> None:
    first, second = two_servers
    with TestClient(first, base_url="http://testserver") as one:
        login(one, username_for(Role.AANBIEDER))
        form = _preview(one, _offerings_csv(first, tmp_path, "7"))
        cookies = dict(one.cookies.items())
    assert _places(first) != 7  # the preview stored nothing
    with first.state.sessions() as s:
        assert s.scalars(select(PendingUploadRow.owner)).all() == [username_for(Role.AANBIEDER)]
    # the same signed-in user reaches the other server process
    with TestClient(second, base_url="http://testserver", cookies=cookies) as two:
        confirm = two.post("/inlezen/bevestigen", data=form, follow_redirects=False)
        assert confirm.status_code == 303, confirm.text[:300]
        assert confirm.headers["location"].startswith("/inlezen?opgeslagen=")
        assert _places(second) == 7
        again = two.post("/inlezen/bevestigen", data=form, follow_redirects=False)
        assert again.status_code != 303
        assert "verlopen of al gebruikt" in again.text
    with second.state.sessions() as s:
        assert s.scalars(select(PendingUploadRow.token)).all() == []


def test_a_preview_outdated_on_the_other_server_stores_nothing(
    two_servers: tuple[FastAPI, FastAPI], tmp_path: Path
) -> None:
    first, second = two_servers
    with TestClient(first, base_url="http://testserver") as one:
        login(one, username_for(Role.AANBIEDER))
        form = _preview(one, _offerings_csv(first, tmp_path, "7"))
        cookies = dict(one.cookies.items())
    with second.state.sessions.begin() as s:  # someone else changes the data meanwhile
        s.execute(update(Offering).where(Offering.ext_id == "O-SNEL").values(places_free=7))
        batches = s.scalar(select(func.count()).select_from(ImportBatch))
    with TestClient(second, base_url="http://testserver", cookies=cookies) as two:
        refused = two.post("/inlezen/bevestigen", data=form, follow_redirects=False)
    assert refused.status_code != 303
    assert "Er is niets ingelezen" in refused.text or "niets opgeslagen" in refused.text
    with second.state.sessions() as s:  # no import batch: nothing was stored
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == batches
