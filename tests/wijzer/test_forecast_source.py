"""The start forecast reads the referral loop once an offering has a measured wait,
and the search result says which figures it used."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain.reasons import Reason
from providers.store import aanmeldingen, referrals, waits
from providers.store.access import Principal
from services import search
from services.search_cache import SearchCache
from tests.wijzer.conftest import TODAY, login, username_for
from wijzer.auth import Role

SYSTEM = Principal.system("test")
REQ = search.SearchRequest(care_type="TRAUMATHERAPIE", age=10, gemeente="GM0505")


def _sessions(app: FastAPI) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = app.state.sessions
    return sessions


def _request(s: Session, offering: int, asked: dt.date) -> int:
    ref = referrals.register_case(
        s,
        SYSTEM,
        referrals.CaseInput(
            None, "2016-02", "GM0505", "OTS", dt.date(2026, 6, 1), ("TRAUMATHERAPIE",)
        ),
        today=asked,
    )
    need = referrals.get_case(s, SYSTEM, ref, today=asked).needs[0].id
    return aanmeldingen.request_place(s, SYSTEM, ref, need, offering, today=asked)


def _forecast(app: FastAPI, cache: SearchCache, offering: int) -> search.StartForecast:
    with _sessions(app)() as s:
        found = search.search(s, SYSTEM, REQ, today=TODAY, cache=cache)
    f = next(c.forecast for c in found.fitting if c.view.id == offering)
    assert f is not None
    return f


def test_the_forecast_uses_the_measured_flow_and_says_so(app: FastAPI, ids: dict[str, int]) -> None:
    snel = ids["offering:snel"]
    cache = SearchCache(stale_after_days=14)
    before = _forecast(app, cache, snel)
    assert before.source == search.SOURCE_STATED
    with _sessions(app).begin() as s:
        for i in range(6):
            asked = TODAY - dt.timedelta(days=100 + i)
            aid = _request(s, snel, asked)
            yes = asked + dt.timedelta(days=5)
            start = yes + dt.timedelta(days=60 + 2 * i)
            aanmeldingen.accept(s, SYSTEM, aid, planned_intake=yes, planned_start=start, today=yes)
            aanmeldingen.register_start(s, SYSTEM, aid, on=start, today=TODAY)
        for i in range(2):
            asked = TODAY - dt.timedelta(days=20 + i)
            aid = _request(s, snel, asked)
            aanmeldingen.decline(s, SYSTEM, aid, reason=Reason.NO_CAPACITY, text="Vol", today=asked)
    with _sessions(app)() as s:
        flow = search.measured_flows(s, today=TODAY)[snel]
    assert (flow.starts, flow.requests, flow.answers, flow.declines) == (6, 8, 8, 2)
    # from the provider's yes to the start: 60, 62, ..., 70 days
    assert flow.lead_median_days == 65.0
    after = _forecast(app, cache, snel)
    assert after.source == search.SOURCE_MEASURED
    # the measured lead time (about 65 days) replaces the provider's intake time
    assert before.median is not None
    assert after.median is not None
    assert after.median > before.median + dt.timedelta(days=30)


def test_the_search_page_names_the_source(app: FastAPI, ids: dict[str, int]) -> None:
    with TestClient(app) as client:
        login(client, username_for(Role.VERWIJZER))
        page = client.get(
            "/zoeken", params={"zorgvorm": "TRAUMATHERAPIE", "leeftijd": "10", "gemeente": "GM0505"}
        )
        assert page.status_code == 200
        assert "Bron: opgegeven door de aanbieder" in page.text
        api = client.get(
            "/api/v1/zoeken",
            params={"zorgvorm": "TRAUMATHERAPIE", "leeftijd": "10", "gemeente": "GM0505"},
        )
        sources = {r["forecast"]["source"] for r in api.json()["results"] if r.get("forecast")}
        assert sources == {"opgegeven door de aanbieder"}


def test_the_loop_figures_are_read_again_only_after_an_aanmelding_changed(
    app: FastAPI, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.search_cache as search_cache

    reads: list[dt.date] = []
    real = search_cache.measured_waits

    def counted(session: Session, *, today: dt.date) -> dict[int, waits.MeasuredWait]:
        reads.append(today)
        return real(session, today=today)

    monkeypatch.setattr(search_cache, "measured_waits", counted)
    snel = ids["offering:snel"]
    cache = SearchCache(stale_after_days=14)
    for _ in range(3):
        assert _forecast(app, cache, snel).source == search.SOURCE_STATED
    assert len(reads) == 1
    with _sessions(app).begin() as s:
        for i in range(6):
            asked = TODAY - dt.timedelta(days=100 + i)
            aid = _request(s, snel, asked)
            yes = asked + dt.timedelta(days=5)
            start = yes + dt.timedelta(days=30)
            aanmeldingen.accept(s, SYSTEM, aid, planned_intake=yes, planned_start=start, today=yes)
            aanmeldingen.register_start(s, SYSTEM, aid, on=start, today=TODAY)
    # Six starts: the figures are read again and the forecast now uses them.
    assert _forecast(app, cache, snel).source == search.SOURCE_MEASURED
    assert len(reads) == 2
    with _sessions(app).begin() as s:
        _request(s, snel, TODAY - dt.timedelta(days=3))
    # A new aanmelding only (no new start) is a change too: read once more, then kept.
    _forecast(app, cache, snel)
    _forecast(app, cache, snel)
    assert len(reads) == 3
