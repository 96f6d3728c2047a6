"""The casus form has an optional field for the family's wish to stay on one
provider's waiting list; it is stored with the case and reaches the matching."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from providers.convert import scenario_from_db
from providers.store.access import Principal
from providers.store.models import Child, Provider
from tests.wijzer.conftest import TODAY, csrf_from, login
from tests.wijzer.test_casus import CASE_FORM


@pytest.fixture
def verwijzer(app: FastAPI) -> Iterator[TestClient]:
    c = TestClient(app, base_url="http://testserver")
    login(c, "test-verwijzer")
    yield c
    c.close()


def _sessions(app: FastAPI) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = app.state.sessions
    return sessions


def _post(c: TestClient, data: dict[str, object]) -> object:
    token = csrf_from(c.get("/").text)
    return c.post("/casussen/nieuw", data={**data, "csrf_token": token}, follow_redirects=False)


def test_the_form_offers_the_providers_and_no_wish(app: FastAPI, verwijzer: TestClient) -> None:
    html = verwijzer.get("/casussen/nieuw").text
    field = html.split('name="gezinswens"')[1].split("</select>")[0]
    assert '<option value="">Geen wens</option>' in field
    with _sessions(app)() as s:
        provider = s.scalars(select(Provider)).first()
    assert provider is not None
    assert f'<option value="{provider.ext_id}">{provider.name}</option>' in field


def test_the_wish_is_stored_and_reaches_the_matching(app: FastAPI, verwijzer: TestClient) -> None:
    with _sessions(app)() as s:
        provider = s.scalars(select(Provider).order_by(Provider.ext_id)).first()
    assert provider is not None
    form = {**CASE_FORM, "kenmerk": "GI-WENS-01", "gezinswens": provider.ext_id}
    r = _post(verwijzer, form)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    with _sessions(app)() as s, s.begin():
        child = s.scalar(select(Child).where(Child.ref == "GI-WENS-01"))
        assert child is not None
        assert child.family_prefers_provider_id == provider.id
        sc = scenario_from_db(s, Principal.system("test"), evaluation_date=TODAY)
    needs = sc.child_by_ref["GI-WENS-01"].needs
    assert needs
    assert {n.family_prefers_waitlist_at for n in needs} == {provider.ext_id}


def test_no_wish_stores_none(app: FastAPI, verwijzer: TestClient) -> None:
    r = _post(verwijzer, {**CASE_FORM, "kenmerk": "GI-WENS-02", "gezinswens": ""})
    assert r.status_code == 303  # type: ignore[attr-defined]
    with _sessions(app)() as s:
        child = s.scalar(select(Child).where(Child.ref == "GI-WENS-02"))
        assert child is not None
        assert child.family_prefers_provider_id is None


def test_an_unknown_provider_names_the_field_and_stores_nothing(
    app: FastAPI, verwijzer: TestClient
) -> None:
    with _sessions(app)() as s:
        before = s.scalar(select(func.count()).select_from(Child))
    r = _post(verwijzer, {**CASE_FORM, "kenmerk": "GI-WENS-03", "gezinswens": "BESTAAT-NIET"})
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert "Kies de aanbieder uit de lijst, of kies geen." in html
    assert 'href="#veld-gezinswens"' in html
    with _sessions(app)() as s:
        assert s.scalar(select(func.count()).select_from(Child)) == before
