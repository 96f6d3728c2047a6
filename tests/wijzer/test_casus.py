"""The referral loop through the pages: register, request, decline, request elsewhere,
accept, intake, start; bad input gets a Dutch message naming the field and changes
nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from providers.store import aanmeldingen, referrals
from providers.store.access import Principal, waiting_list
from providers.store.models import Aanmelding, AuditEntry, Child, Role
from services import search
from services.search_cache import SearchCache
from tests.wijzer.conftest import TODAY, csrf_from, login

CASE_FORM = {
    "kenmerk": "GI-TEST-01",
    "geboortemaand": "2016-02",
    "gemeente": "GM0505",
    "maatregel": "OTS",
    "uitspraakdatum": "2026-10-01",
    "hulp": "TRAUMATHERAPIE",
    "kenmerken": ["ZEDENVERLEDEN", "AGRESSIE"],
}


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[dict[str, TestClient]]:
    clients: dict[str, TestClient] = {}
    for name in ("test-verwijzer", "test-aanbieder", "test-ander-aanbieder", "test-tafel"):
        c = TestClient(app, base_url="http://testserver")
        login(c, name)
        clients[name] = c
    yield clients
    for c in clients.values():
        c.close()


def _post(c: TestClient, url: str, data: dict[str, object]) -> object:
    token = csrf_from(c.get("/").text)
    return c.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _sessions(app: FastAPI) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = app.state.sessions
    return sessions


def test_bad_case_input_names_the_field_and_stores_nothing(
    app: FastAPI, as_user: dict[str, TestClient]
) -> None:
    v = as_user["test-verwijzer"]
    with _sessions(app)() as s:
        before = s.scalar(select(func.count()).select_from(Child))
    bad = {**CASE_FORM, "kenmerk": "123456789", "uitspraakdatum": "31-02-2026", "leeftijd": ""}
    bad["geboortemaand"] = "vorig jaar"
    r = _post(v, "/casussen/nieuw", bad)
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert "lijkt op een BSN" in html
    assert "Vul bij &#39;Datum uitspraak&#39; een datum in" in html
    assert "geboortemaand in als jjjj-mm" in html
    with _sessions(app)() as s:
        assert s.scalar(select(func.count()).select_from(Child)) == before


def test_the_whole_loop_through_the_pages(
    app: FastAPI, ids: dict[str, int], as_user: dict[str, TestClient]
) -> None:
    v, own, other, tafel = (
        as_user["test-verwijzer"],
        as_user["test-aanbieder"],
        as_user["test-ander-aanbieder"],
        as_user["test-tafel"],
    )
    r = _post(v, "/casussen/nieuw", CASE_FORM)
    assert r.headers["location"] == "/casussen/GI-TEST-01"  # type: ignore[attr-defined]
    assert "GI-TEST-01" in tafel.get("/casussen").text
    page = v.get("/casussen/GI-TEST-01").text
    assert "Zoek hulp en meld aan" in page

    # request at O-SNEL, from a search that named the kenmerken
    snel = ids["offering:snel"]
    query = "zorgvorm=TRAUMATHERAPIE&leeftijd=10&kenmerken=AGRESSIE&kenmerken=ZEDENVERLEDEN"
    form = v.get(f"/casussen/aanmelden/{snel}", params={"zoekopdracht": query}).text
    need = re.search(r'name="hulpvraag" value="GI-TEST-01:(\d+)"', form)
    assert need is not None
    assert "De aanbieder ziet de kenmerken Zedenverleden" in form
    r = _post(
        v,
        f"/casussen/aanmelden/{snel}",
        {"hulpvraag": f"GI-TEST-01:{need.group(1)}", "zoekopdracht": query},
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    page = v.get("/casussen/GI-TEST-01").text
    assert "er loopt al een aanmelding voor deze hulpvraag" in page
    assert "Zoek hulp en meld aan" not in page

    # the provider sees the minimum: the relevant kenmerk, not AGRESSIE, and not in the context
    with _sessions(app)() as s:
        aid = s.scalars(select(Aanmelding.id)).one()
        row = s.get(Aanmelding, aid)
        assert row is not None
        assert row.shared_attributes == "ZEDENVERLEDEN"
        assert "kenmerken" not in row.context
    detail = own.get(f"/aanmeldingen/{aid}").text
    assert "Agressie" not in detail
    assert "Traumatherapie, 10 jaar" in detail  # the search context, in words
    assert other.get(f"/aanmeldingen/{aid}").status_code == 404
    assert "Nieuwe aanmelding" in own.get("/meldingen").text

    # a decline without a reason names the field and changes nothing
    r = _post(own, f"/aanmeldingen/{aid}", {"antwoord": "decline", "toelichting": "vol"})
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert "Kies een reden uit de lijst" in r.text  # type: ignore[attr-defined]
    r = _post(
        own,
        f"/aanmeldingen/{aid}",
        {"antwoord": "decline", "reden": "CONTRA_INDICATION", "toelichting": "Zedenverleden"},
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    page = v.get("/casussen/GI-TEST-01").text
    assert "afgewezen" in page
    assert "Zoek hulp en meld aan" in page

    # request elsewhere; the other provider accepts, registers the intake, then the start
    budget = ids["offering:budget"]
    r = _post(v, f"/casussen/aanmelden/{budget}", {"hulpvraag": f"GI-TEST-01:{need.group(1)}"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    with _sessions(app)() as s:
        second = s.scalars(select(Aanmelding.id).where(Aanmelding.offering_id == budget)).one()
    r = _post(
        other,
        f"/aanmeldingen/{second}",
        {"antwoord": "accept", "intake": "2026-11-24", "start": "2026-12-01"},
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    r = _post(other, f"/aanmeldingen/{second}", {"antwoord": "intake", "intakedatum": "20-11-2026"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    r = _post(other, f"/aanmeldingen/{second}", {"antwoord": "start", "startdatum": "2026-11-20"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    page = v.get("/casussen/GI-TEST-01").text
    assert "Gestart binnen de norm" in page
    assert "Traumatherapie: gestart" in v.get("/casussen").text
    waits_page = v.get("/wachttijden").text
    assert "Budget Zorg" in waits_page
    assert "Te weinig starts" in waits_page  # one start: no measured wait shown yet
    assert "0 aanbiedingen hebben een gemeten wachttijd" in waits_page
    with _sessions(app)() as s:
        child = s.scalars(select(Child).where(Child.ref == "GI-TEST-01")).one()
        # geplaatst: off the tafel's waiting list (access.waiting_list reads wachtend only)
        assert child.status == "geplaatst"
        tafel_list = waiting_list(s, Principal("t", Role.TAFEL, None, region_code="JZ31"))
        assert "GI-TEST-01" not in {c.ref for c in tafel_list}
        reads = s.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.entity == "casus", AuditEntry.record_refs.contains("GI-TEST-01")
            )
        ).all()
        assert "casusregie" in reads
        assert "zorgbemiddeling" in reads


def test_the_loop_through_the_api(
    app: FastAPI, ids: dict[str, int], as_user: dict[str, TestClient]
) -> None:
    v, own = as_user["test-verwijzer"], as_user["test-aanbieder"]
    hv = {"X-CSRF-Token": csrf_from(v.get("/").text)}
    ho = {"X-CSRF-Token": csrf_from(own.get("/").text)}
    body = {
        "birth_month": "2015-04",
        "gemeente": "GM0505",
        "measure": "OTS",
        "ruling_date": "2026-10-01",
        "needs": ["TRAUMATHERAPIE", "NOG_NIET_BEPAALD"],
        "attributes": ["AGRESSIE"],
    }
    r = v.post("/api/v1/casussen", json=body, headers=hv)
    assert r.status_code == 201
    ref = r.json()["ref"]
    bad = v.post("/api/v1/casussen", json={**body, "gemeente": "GM9999"}, headers=hv)
    assert bad.status_code == 422
    assert bad.json()["message"] == "Kies de gemeente die betaalt."
    case = v.get(f"/api/v1/casussen/{ref}").json()
    need = case["needs"][0]["id"]
    assert case["needs"][1]["classified"] is False
    r = v.post(
        "/api/v1/aanmeldingen",
        json={"ref": ref, "need_id": need, "offering_id": ids["offering:snel"]},
        headers=hv,
    )
    assert r.status_code == 201
    aid = r.json()["id"]
    again = v.post(
        "/api/v1/aanmeldingen",
        json={"ref": ref, "need_id": need, "offering_id": ids["offering:oud"]},
        headers=hv,
    )
    assert again.status_code == 422
    assert "loopt al een aanmelding" in again.json()["message"]
    inbox = own.get("/api/v1/aanmeldingen").json()
    assert [x["id"] for x in inbox] == [aid]
    assert inbox[0]["shared_attributes"] == []  # AGRESSIE does not matter for O-SNEL
    r = own.post(
        f"/api/v1/aanmeldingen/{aid}/antwoord",
        json={"kind": "decline", "reason": "NO_CAPACITY", "text": "Vol"},
        headers=ho,
    )
    assert r.status_code == 200
    status = v.get(f"/api/v1/casussen/{ref}").json()["needs"][0]["aanmeldingen"][0]
    assert status["status"] == "afgewezen"
    assert status["reason"].startswith("Er is geen plek vrij")


def test_withdraw_frees_the_need_and_a_provider_is_told(
    app: FastAPI, ids: dict[str, int], as_user: dict[str, TestClient]
) -> None:
    v, own = as_user["test-verwijzer"], as_user["test-aanbieder"]
    _post(v, "/casussen/nieuw", {**CASE_FORM, "kenmerk": "GI-TEST-02"})
    form = v.get(f"/casussen/aanmelden/{ids['offering:snel']}").text
    need = re.search(r'name="hulpvraag" value="GI-TEST-02:(\d+)"', form)
    assert need is not None
    _post(
        v,
        f"/casussen/aanmelden/{ids['offering:snel']}",
        {"hulpvraag": f"GI-TEST-02:{need.group(1)}"},
    )
    with _sessions(app)() as s:
        aid = s.scalars(select(Aanmelding.id)).one()
    # another organisation's verwijzer cannot end it: same answer as "does not exist"
    r = _post(v, f"/casussen/aanmeldingen/{aid + 1000}/beeindigen", {"casus": "GI-TEST-02"})
    assert r.status_code == 404  # type: ignore[attr-defined]
    r = _post(v, f"/casussen/aanmeldingen/{aid}/beeindigen", {"casus": "GI-TEST-02"})
    assert r.headers["location"] == "/casussen/GI-TEST-02"  # type: ignore[attr-defined]
    page = v.get("/casussen/GI-TEST-02").text
    assert "ingetrokken" in page
    assert "Zoek hulp en meld aan" in page
    assert "is ingetrokken" in own.get("/meldingen").text


def test_search_uses_the_measured_wait_once_it_is_shown(app: FastAPI, ids: dict[str, int]) -> None:
    system = Principal.system("test")
    snel = ids["offering:snel"]
    req = search.SearchRequest(care_type="TRAUMATHERAPIE", age=10, gemeente="GM0505")
    cache = SearchCache(stale_after_days=14)

    def high() -> dt.date | None:
        with _sessions(app)() as s:
            found = search.search(s, system, req, today=TODAY, cache=cache)
        return next(c.start_high for c in found.fitting if c.view.id == snel)

    before = high()
    assert before == TODAY + dt.timedelta(days=10 + 14)  # own wait + intake time
    with _sessions(app).begin() as s:
        for i in range(6):
            ref = referrals.register_case(
                s,
                system,
                referrals.CaseInput(
                    None, "2016-02", "GM0505", "OTS", dt.date(2026, 6, 1), ("TRAUMATHERAPIE",)
                ),
                today=TODAY,
            )
            need = referrals.get_case(s, system, ref, today=TODAY).needs[0].id
            asked = TODAY - dt.timedelta(days=70 + i)
            aid = aanmeldingen.request_place(s, system, ref, need, snel, today=asked)
            start = asked + dt.timedelta(days=60 + 2 * i)
            aanmeldingen.accept(
                s, system, aid, planned_intake=asked, planned_start=start, today=asked
            )
            aanmeldingen.register_start(s, system, aid, on=start, today=TODAY)
    # 80th percentile of 60, 62, ..., 70 days (nearest rank: the 5th of 6)
    assert high() == TODAY + dt.timedelta(days=68)


def test_a_tafel_proposal_requests_several_children_at_once_or_none(
    app: FastAPI, ids: dict[str, int], as_user: dict[str, TestClient]
) -> None:
    v, tafel = as_user["test-verwijzer"], as_user["test-tafel"]
    hv = {"X-CSRF-Token": csrf_from(v.get("/").text)}
    ht = {"X-CSRF-Token": csrf_from(tafel.get("/").text)}
    body = {
        "birth_month": "2015-04",
        "gemeente": "GM0505",
        "measure": "OTS",
        "ruling_date": "2026-10-01",
        "needs": ["TRAUMATHERAPIE"],
    }
    refs = [v.post("/api/v1/casussen", json=body, headers=hv).json()["ref"] for _ in range(2)]
    needs = [tafel.get(f"/api/v1/casussen/{r}").json()["needs"][0]["id"] for r in refs]
    items = [
        {"ref": refs[0], "need_id": needs[0], "offering_id": ids["offering:snel"]},
        {"ref": refs[1], "need_id": needs[1], "offering_id": ids["offering:ver"]},
    ]
    bad = [items[0], {**items[1], "need_id": needs[0]}]  # a need of another child
    r = tafel.post("/api/v1/aanmeldingen/voorstel", json={"items": bad}, headers=ht)
    assert r.status_code == 422
    with _sessions(app)() as s:
        assert s.scalar(select(func.count()).select_from(Aanmelding)) == 0  # none at all
    r = tafel.post("/api/v1/aanmeldingen/voorstel", json={"items": items}, headers=ht)
    assert r.status_code == 201
    assert len(r.json()["ids"]) == 2
    assert "aangevraagd" in v.get(f"/casussen/{refs[1]}").text
