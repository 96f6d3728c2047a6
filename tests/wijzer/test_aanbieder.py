"""Aanbieder: own offerings only, validation, and no lost update when two people edit at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from providers.store.models import AuditEntry, Offering
from tests.wijzer.conftest import csrf_from, login
from wijzer.routers import aanbieder as router
from wijzer.views import aanbieder as view


def _form(client: TestClient, oid: int) -> tuple[str, dict[str, str]]:
    html = client.get(f"/aanbieder/aanbod/{oid}").text
    version = html.split('name="version" value="')[1].split('"')[0]
    return csrf_from(html), {"version": version}


def _fields(**overrides: str) -> dict[str, str]:
    values = {
        "places_free": "4",
        "release_per_week": "0,5",
        "expected_wait_days": "21",
        "intake_days": "7",
        "age_min": "4",
        "age_max": "18",
    }
    values.update(overrides)
    return values


def _stored(app: FastAPI, oid: int) -> Offering:
    with app.state.sessions() as s:
        row = s.get(Offering, oid)
        assert row is not None
        s.expunge(row)
        return row


@pytest.fixture
def provider(client: TestClient) -> TestClient:
    login(client, "test-aanbieder")
    return client


def test_list_shows_only_own_offerings(provider: TestClient) -> None:
    rows = provider.get("/api/v1/aanbod").json()["offerings"]
    assert {r["ext_id"] for r in rows} == {"O-SNEL", "O-OUD"}
    html = provider.get("/aanbieder").text
    assert "Traumatherapie" in html
    assert "Opnamestop Zorg" not in html


def test_other_providers_offering_is_not_found(
    provider: TestClient, app: FastAPI, ids: dict[str, int]
) -> None:
    oid = ids["offering:stop"]
    assert provider.get(f"/aanbieder/aanbod/{oid}").status_code == 404
    token = csrf_from(provider.get("/aanbieder").text)
    before = _stored(app, oid)
    post = provider.post(
        f"/aanbieder/aanbod/{oid}",
        data={**_fields(), "version": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert post.status_code == 404
    after = _stored(app, oid)
    assert (after.places_free, after.version) == (before.places_free, before.version)


def test_save_stores_confirms_and_audits(
    provider: TestClient, app: FastAPI, ids: dict[str, int]
) -> None:
    oid = ids["offering:snel"]
    token, hidden = _form(provider, oid)
    response = provider.post(
        f"/aanbieder/aanbod/{oid}",
        data={
            **_fields(intake_stop="1"),
            **hidden,
            "csrf_token": token,
            "contra_indications": ["AGRESSIE", "ZEDENVERLEDEN"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/aanbieder?opgeslagen={oid}"
    row = _stored(app, oid)
    assert row.places_free == 4
    assert row.release_per_week == 0.5
    assert row.expected_wait_days == 21
    assert row.intake_stop is True
    assert row.contra_indications == "AGRESSIE,ZEDENVERLEDEN"
    assert row.version == 2
    assert row.confirmed_by == "test-aanbieder"
    with app.state.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "offerings")).all()
    assert [a.actor for a in audit] == ["test-aanbieder"]
    assert "Opgeslagen" in provider.get(response.headers["location"]).text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"places_free": "-1"}, "places_free", "heel getal in van 0 tot en met"),
        ({"places_free": "veel"}, "places_free", "heel getal"),
        ({"places_free": ""}, "places_free", "Vul het aantal vrije plekken in."),
        ({"release_per_week": "nan"}, "release_per_week", "bijvoorbeeld 0,5"),
        ({"release_per_week": "-0,5"}, "release_per_week", "bijvoorbeeld 0,5"),
        ({"expected_wait_days": "9999"}, "expected_wait_days", "de wachttijd"),
        ({"age_min": "12", "age_max": "8"}, "age_max", "De oudste leeftijd moet"),
    ],
)
def test_bad_input_changes_nothing(
    provider: TestClient,
    app: FastAPI,
    ids: dict[str, int],
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    oid = ids["offering:snel"]
    before = _stored(app, oid)
    token, hidden = _form(provider, oid)
    response = provider.post(
        f"/aanbieder/aanbod/{oid}", data={**_fields(**overrides), **hidden, "csrf_token": token}
    )
    assert response.status_code == 422
    assert f'href="#veld-{field}"' in response.text
    assert message in response.text
    after = _stored(app, oid)
    assert (after.version, after.places_free) == (before.version, before.places_free)


def test_unknown_contra_indication_is_refused(provider: TestClient, ids: dict[str, int]) -> None:
    oid = ids["offering:snel"]
    token, hidden = _form(provider, oid)
    response = provider.post(
        f"/aanbieder/aanbod/{oid}",
        data={**_fields(), **hidden, "csrf_token": token, "contra_indications": "ROOD_HAAR"},
    )
    assert response.status_code == 422
    assert "kennen we niet" in response.text


def test_two_editors_one_conflict_no_lost_update(app: FastAPI, ids: dict[str, int]) -> None:
    oid = ids["offering:snel"]
    with TestClient(app) as anna, TestClient(app) as bert:
        login(anna, "test-aanbieder")
        login(bert, "test-beheer")
        token_a, hidden_a = _form(anna, oid)
        token_b, hidden_b = _form(bert, oid)
        assert hidden_a == hidden_b == {"version": "1"}
        first = anna.post(
            f"/aanbieder/aanbod/{oid}",
            data={**_fields(places_free="7"), **hidden_a, "csrf_token": token_a},
            follow_redirects=False,
        )
        assert first.status_code == 303
        second = bert.post(
            f"/aanbieder/aanbod/{oid}",
            data={**_fields(places_free="1"), **hidden_b, "csrf_token": token_b},
            follow_redirects=False,
        )
        assert second.status_code == 409
        html = second.text
        assert "Uw wijziging is niet opgeslagen" in html
        assert "Laatst opgeslagen door test-aanbieder" in html
        # The stored value (7) and what Bert typed (1) are both on the page.
        assert (
            '<td class="utrecht-table__cell">7</td><td class="utrecht-table__cell">1</td>' in html
        )
        assert _stored(app, oid).places_free == 7
        # Bert's form now carries the new version: saving again is a deliberate choice.
        assert 'name="version" value="2"' in html
        assert 'value="1"' in html.split('id="veld-places_free"')[1][:80]
        again = bert.post(
            f"/aanbieder/aanbod/{oid}",
            data={**_fields(places_free="1"), "version": "2", "csrf_token": token_b},
            follow_redirects=False,
        )
        assert again.status_code == 303
        assert _stored(app, oid).places_free == 1
        assert _stored(app, oid).version == 3


def _body(version: int, places: int) -> dict[str, Any]:
    return {
        "version": version,
        "places_free": places,
        "release_per_week": 0.0,
        "expected_wait_days": 0,
        "intake_days": 14,
        "intake_stop": False,
        "lvb_expertise": False,
        "age_min": 0,
        "age_max": 18,
        "contra_indications": [],
    }


def test_api_conflict_is_409_with_current_state(provider: TestClient, ids: dict[str, int]) -> None:
    oid = ids["offering:snel"]
    token = csrf_from(provider.get("/aanbieder").text)
    headers = {"X-CSRF-Token": token}
    ok = provider.put(f"/api/v1/aanbod/{oid}", json=_body(1, 5), headers=headers)
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = provider.put(f"/api/v1/aanbod/{oid}", json=_body(1, 9), headers=headers)
    assert stale.status_code == 409
    body = stale.json()
    assert body["current"]["places_free"] == 5
    assert body["current"]["version"] == 2
    assert "niet opgeslagen" in body["detail"]


def test_api_validation_errors(provider: TestClient, ids: dict[str, int]) -> None:
    oid = ids["offering:snel"]
    token = csrf_from(provider.get("/aanbieder").text)
    bad = _body(1, -3) | {"age_min": 20, "age_max": 3}
    response = provider.put(f"/api/v1/aanbod/{oid}", json=bad, headers={"X-CSRF-Token": token})
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]["items"]]
    assert fields == ["places_free", "age_max"]


def test_twenty_parallel_saves_one_winner_every_loser_told(
    app: FastAPI, ids: dict[str, int]
) -> None:
    oid = ids["offering:snel"]
    user = app.state.accounts.get("test-aanbieder")
    assert user is not None

    def attempt(places: int) -> router.SaveOutcome:
        changes = {"places_free": places}
        return router.save(app.state.sessions, user, oid, 1, changes)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(100, 120)))
    winners = [o for o in outcomes if o.saved is not None]
    losers = [o for o in outcomes if o.current is not None]
    assert len(winners) == 1
    assert len(losers) == 19
    stored = _stored(app, oid)
    assert stored.version == 2
    assert stored.places_free == winners[0].saved.places_free  # type: ignore[union-attr]
    assert all(o.current.version == 2 for o in losers)  # type: ignore[union-attr]
    assert view.CONFLICT_MESSAGE
