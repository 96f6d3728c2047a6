"""Zoeken: the verwijzer's search, read from the HTML and from the JSON API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.domain.caretypes import care_type_label
from matcher.domain.reasons import Reason, reason_text
from providers import convert, reference
from tests.wijzer.conftest import login
from tests.wijzer.data import DORDRECHT, TODAY
from wijzer.views import zoeken as zoeken_view


@pytest.fixture
def verwijzer(client: TestClient) -> TestClient:
    login(client, "test-verwijzer")
    return client


BASE = {"zorgvorm": "TRAUMATHERAPIE", "leeftijd": "9", "gemeente": DORDRECHT}


def api(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/zoeken", params={**BASE, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    for row in body["results"]:
        assert_verdict_agrees_with_forecast(row)
    return body


def assert_verdict_agrees_with_forecast(row: dict[str, Any]) -> None:
    """One verdict per result, never at odds with the chance of a late start beside it:
    "binnen de norm" only below 20 %, late only above 80 %, "onzeker" in between."""
    f = row["forecast"]
    if f is None or f["p_after_deadline"] is None or row["verdict"] == "PAST_DEADLINE":
        return
    p = f["p_after_deadline"]
    if p < 0.2:
        assert (row["verdict"], row["uncertain"]) == ("WITHIN_NORM", False), row
    elif p > 0.8:
        assert row["verdict"] != "WITHIN_NORM", row
        assert not row["uncertain"], row
    else:
        assert row["uncertain"], row
        assert row["verdict_text"] == "Onzeker: misschien te laat"
        assert row["verdict_level"] == "warn"


def by_provider(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["provider"]: r for r in rows}


def test_empty_form_shows_no_results(verwijzer: TestClient) -> None:
    html = verwijzer.get("/zoeken").text
    assert "Zoeken naar hulp" in html
    assert "aanbiedingen passen" not in html


def test_contracted_and_via_main_contractor_fit(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, uitspraak="2026-11-01")
    fit = by_provider(ctx["results"])
    assert set(fit) == {"Hulp Zuid", "Kleine Praktijk"}
    assert any(f["code"] == "hoofdaannemer" for f in fit["Kleine Praktijk"]["flags"])
    assert not any(f["code"] == "hoofdaannemer" for f in fit["Hulp Zuid"]["flags"])


def test_direct_only_moves_the_sub_contractor_to_not_fitting(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, route="direct", ook_niet_passend="1")
    assert set(by_provider(ctx["results"])) == {"Hulp Zuid"}
    reasons = by_provider(ctx["non_fitting"])["Kleine Praktijk"]["reasons"]
    assert reasons == ["Dit kan alleen via hoofdaannemer Hulp Zuid"]


def test_out_of_region_is_counted_not_listed(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, ook_niet_passend="1")
    assert "Verre Zorg" not in {r["provider"] for r in ctx["non_fitting"]}
    assert ctx["out_of_region_count"] == 1
    html = verwijzer.get("/zoeken", params={**BASE, "ook_niet_passend": "1"}).text
    assert "Buiten de regio is er nog 1 aanbod voor deze hulp" in html


def test_non_fitting_reasons(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, ook_niet_passend="1", regio="buiten")
    reasons = {p: r["reasons"] for p, r in by_provider(ctx["non_fitting"]).items()}
    assert "Verre Zorg" not in reasons  # fits once out of region is allowed
    assert reasons["Opnamestop Zorg"] == [
        "Er is een opnamestop: de aanbieder neemt nu geen nieuwe kinderen aan"
    ]
    assert reasons["Budget Zorg"] == ["Het budgetplafond is bereikt"]
    assert reasons["Niet Ingekocht"] == [
        "Niet ingekocht, en geen hoofdaannemer zet deze aanbieder in"
    ]
    # Hulp Zuid has two offerings: the one for 12-18 year olds does not fit a 9-year-old.
    ages = [r for r in ctx["non_fitting"] if r["provider"] == "Hulp Zuid"]
    assert ages[0]["reasons"] == ["De leeftijd past niet: deze hulp is voor 12 tot en met 18 jaar"]
    # Too old, intake stop, budget, not purchased (out of region is counted apart).
    assert ctx["non_fitting_count"] == 4
    flags = {f["code"] for f in by_provider(ctx["non_fitting"])["Opnamestop Zorg"]["flags"]}
    assert "opnamestop" in flags


def test_switch_off_hides_non_fitting_but_counts_them(verwijzer: TestClient) -> None:
    ctx = api(verwijzer)
    assert ctx["non_fitting"] == []
    # Too old, intake stop, budget, not purchased (out of region is counted apart).
    assert ctx["non_fitting_count"] == 4
    assert {rc["reason"] for rc in ctx["non_fitting_reasons"]} >= {"Het budgetplafond is bereikt"}


def test_the_page_lists_the_nearest_that_do_not_fit_and_links_to_all(
    verwijzer: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    monkeypatch.setattr(zoeken_view, "NON_FITTING_SHOWN", 2)
    params = {**BASE, "ook_niet_passend": "1"}
    html = verwijzer.get("/zoeken", params=params).text
    table = html.split('id="niet-passend-titel"')[1]
    rows = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>', table)
    assert len(rows) == 2
    # The heading counts all four; the sentence says which two are shown.
    assert "4 aanbiedingen passen niet" in html
    assert "U ziet de 2 aanbiedingen die het dichtstbij zijn." in html
    assert "alle_niet_passend=1" in html
    assert "Laat alle 4 zien" in html
    # The counts per reason cover all four, also those not listed.
    assert "Er is een opnamestop" in table
    assert "Niet ingekocht" in table
    every = verwijzer.get("/zoeken", params={**params, "alle_niet_passend": "1"}).text
    every_table = every.split('id="niet-passend-titel"')[1]
    assert len(re.findall(r'<th scope="row"[^>]*>([^<]+)</th>', every_table)) == 4
    assert "niet-passend-meer" not in every
    # The choice stays with the form, so a changed search still lists them all.
    assert '<input type="hidden" name="alle_niet_passend" value="1">' in every
    # The API lists them all.
    assert len(api(verwijzer, ook_niet_passend="1")["non_fitting"]) == 4


def test_no_offering_of_the_care_type_at_all_says_so(verwijzer: TestClient) -> None:
    """Nothing of this care type, in the region or outside it: the page says so and
    does not send the verwijzer to "what does not fit", which would show nothing."""
    params = {**BASE, "zorgvorm": "PLEEGZORG"}
    ctx = api(verwijzer, zorgvorm="PLEEGZORG")
    assert (len(ctx["results"]), ctx["non_fitting_count"], ctx["out_of_region_count"]) == (0, 0, 0)
    for extra in ({}, {"ook_niet_passend": "1"}, {"regio": "buiten"}):
        html = verwijzer.get("/zoeken", params={**params, **extra}).text
        assert "0 aanbiedingen passen" in html
        assert "Er is geen aanbod van deze hulp, in de regio en daarbuiten." in html
        assert "om te zien waarom" not in html
        assert 'id="niet-passend-titel"' not in html


def test_only_outside_the_region_points_there_not_to_what_does_not_fit(
    verwijzer: TestClient,
) -> None:
    """Videohometraining is offered in another region only: the page names that, and
    asks to look outside the region, not at "what does not fit" (nothing in the region)."""
    ctx = api(verwijzer, zorgvorm="VIDEOHOMETRAINING")
    assert (len(ctx["results"]), ctx["non_fitting_count"]) == (0, 0)
    assert ctx["out_of_region_count"] >= 1
    html = verwijzer.get("/zoeken", params={**BASE, "zorgvorm": "VIDEOHOMETRAINING"}).text
    assert "Er is geen aanbod dat past." in html
    assert "om te zien waarom" not in html
    assert 'Kies "Ook buiten de regio" om ze te bekijken.' in html.replace("&#34;", '"')
    assert "Er is geen aanbod van deze hulp, in de regio en daarbuiten." not in html


def test_nothing_fits_but_something_does_not_points_to_the_reasons(
    verwijzer: TestClient,
) -> None:
    params = {**BASE, "route": "direct", "kenmerken": "ZEDENVERLEDEN"}
    ctx = api(verwijzer, route="direct", kenmerken="ZEDENVERLEDEN")
    assert not ctx["results"]
    assert ctx["non_fitting_count"] > 0
    html = verwijzer.get("/zoeken", params=params).text
    assert 'Er is geen aanbod dat past. Kies hierboven "Laat ook aanbod zien dat niet past"' in (
        html.replace("&#34;", '"')
    )


def test_out_of_region_allowed_with_a_flag(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, regio="buiten")
    far = by_provider(ctx["results"])["Verre Zorg"]
    assert any(f["code"] == "buiten_regio" for f in far["flags"])
    # Dordrecht to Utrecht centre: 0.31 deg north (34.4 km), 0.37 deg east (25.2 km).
    assert far["distance_km"] == pytest.approx(42.6, abs=0.3)


def test_contra_indication_excludes_with_its_name(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, kenmerken="ZEDENVERLEDEN", ook_niet_passend="1")
    assert "Hulp Zuid" not in {r["provider"] for r in ctx["results"]}
    snel = [r for r in ctx["non_fitting"] if r["provider"] == "Hulp Zuid" and r["places_free"] == 2]
    assert snel[0]["reasons"] == [
        "De aanbieder noemt een contra-indicatie: geen kinderen met een zedenverleden"
    ]


def test_every_reference_attribute_maps_to_a_domain_attribute() -> None:
    # A code the search cannot translate would silently match nothing.
    assert set(reference.attributes()) == set(convert.ATTRIBUTE_BY_CODE)
    assert len(set(convert.ATTRIBUTE_BY_CODE.values())) == len(convert.ATTRIBUTE_BY_CODE)


def test_lvb_needs_expertise(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, kenmerken="LVB")
    assert ctx["results"] == []
    assert {rc["reason"] for rc in ctx["non_fitting_reasons"]} >= {
        reason_text(Reason.NO_LVB_EXPERTISE)
    }


def test_expected_start_against_the_deadline(verwijzer: TestClient) -> None:
    # Ruling 1 Nov 2026: deadline 1 Feb 2027. Today is 20 Nov 2026.
    ctx = api(verwijzer, uitspraak="2026-11-01")
    assert ctx["deadline"] == "2027-02-01"
    fit = by_provider(ctx["results"])
    fast = fit["Hulp Zuid"]
    # Free now: start after the 14-day intake; the provider states 10 days wait + intake.
    assert fast["start_low"] == "2026-12-04"
    assert fast["start_high"] == "2026-12-14"
    assert (fast["verdict"], fast["verdict_text"], fast["uncertain"]) == (
        "WITHIN_NORM",
        "Binnen de norm",
        False,
    )
    slow = fit["Kleine Praktijk"]
    # No place now, a stated wait of 60 days and 0.5 places a week: the data layer's
    # schedule frees the first place a week after the wait (26 January), then 14 days
    # intake. The stated wait plus intake (2 February) is earlier, so no range.
    assert slow["start_low"] == "2027-02-09"
    assert slow["start_high"] == "2027-02-09"
    # The forecast says when it really starts; the verdict follows it (late, or unsure).
    assert slow["verdict"] == "STARTS_LATE"
    assert slow["verdict_level"] in ("bad", "warn")
    assert slow["days_late"] > 0
    assert [r["provider"] for r in ctx["results"]] == ["Hulp Zuid", "Kleine Praktijk"]


def test_a_range_when_free_places_come_before_the_stated_wait(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, uitspraak="2026-10-01")
    fast = by_provider(ctx["results"])["Hulp Zuid"]
    # Deadline 1 January 2027: the whole range (4 to 14 December) is before it.
    assert (fast["start_low"], fast["start_high"]) == ("2026-12-04", "2026-12-14")
    assert fast["verdict"] == "WITHIN_NORM"


def test_earlier_deadline_wins_and_makes_options_late(verwijzer: TestClient) -> None:
    ctx = api(verwijzer, uitspraak="2026-11-01", deadline="2026-12-10")
    assert ctx["deadline"] == "2026-12-10"
    fit = by_provider(ctx["results"])
    # 4 December is before the deadline, 14 December after it.
    # 4 December is in time, 14 December is not: never "binnen de norm" without a
    # forecast that says so.
    for row in fit.values():
        assert_verdict_agrees_with_forecast(row)
    assert fit["Kleine Praktijk"]["verdict"] == "STARTS_LATE"


def test_without_ruling_date_three_months_from_today(verwijzer: TestClient) -> None:
    ctx = api(verwijzer)
    assert ctx["deadline"] == "2027-02-20"
    assert "3 maanden vanaf vandaag" in ctx["deadline_basis"]


def test_stale_marker(verwijzer: TestClient) -> None:
    fit = by_provider(api(verwijzer)["results"])
    assert fit["Kleine Praktijk"]["stale"] is True
    assert fit["Kleine Praktijk"]["last_confirmed"] == "2026-10-11"
    assert fit["Hulp Zuid"]["stale"] is False


def test_html_shows_the_columns_and_markers(verwijzer: TestClient) -> None:
    html = verwijzer.get("/zoeken", params={**BASE, "uitspraak": "2026-11-01"}).text
    for text in (
        "Afstand (hemelsbreed)",
        "Verwachte start",
        "Laatst bevestigd",
        "Via hoofdaannemer Hulp Zuid",
        "Verouderd",
        "tussen 4 december 2026 en 14 december 2026",
        "9 februari 2027",
        "Deadline: 1 februari 2027",
        "8 km",
    ):
        assert text in html, text


def test_htmx_request_gets_only_the_region(verwijzer: TestClient) -> None:
    response = verwijzer.get("/zoeken", params=BASE, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "data-focus-after-swap" in response.text
    assert "HX-Request" in response.headers["vary"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"zorgvorm": "BESTAAT_NIET"}, "zorgvorm", "Kies welke hulp het kind nodig heeft."),
        ({"leeftijd": ""}, "leeftijd", "Vul de leeftijd van het kind in."),
        ({"leeftijd": "-1"}, "leeftijd", "Vul een leeftijd in van 0 tot en met 23 jaar."),
        ({"leeftijd": "negen"}, "leeftijd", "Vul een leeftijd in van 0 tot en met 23 jaar."),
        ({"leeftijd": "99"}, "leeftijd", "Vul een leeftijd in van 0 tot en met 23 jaar."),
        ({"gemeente": "GM9999"}, "gemeente", "Kies de gemeente die de hulp betaalt."),
        ({"uitspraak": "31-02-2026"}, "uitspraak", "Vul de datum van de uitspraak in"),
        ({"uitspraak": "2030-01-01"}, "uitspraak", "kan niet in de toekomst liggen"),
        ({"deadline": "gisteren"}, "deadline", "Vul de eerdere deadline in"),
        ({"kenmerken": "ONBEKEND"}, "kenmerken", "kennen we niet"),
    ],
)
def test_bad_input_gets_b1_errors_linked_to_fields(
    verwijzer: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    html = verwijzer.get("/zoeken", params={**BASE, **params})
    assert html.status_code == 422
    assert f'href="#veld-{field}"' in html.text
    assert message in html.text
    assert f'id="veld-{field}"' in html.text
    as_json = verwijzer.get("/api/v1/zoeken", params={**BASE, **params})
    assert as_json.status_code == 422
    errors = as_json.json()["errors"]["items"]
    assert [e["field"] for e in errors] == [field]


def test_all_errors_at_once(verwijzer: TestClient) -> None:
    body = verwijzer.get("/api/v1/zoeken", params={"leeftijd": "x"}).json()
    fields = [e["field"] for e in body["errors"]["items"]]
    assert fields == ["zorgvorm", "leeftijd", "gemeente"]


def test_no_case_data_in_a_search(verwijzer: TestClient) -> None:
    # The search form has no field for a name, BSN or address.
    html = verwijzer.get("/zoeken").text
    for word in ("naam", "bsn", "adres"):
        assert f'name="{word}"' not in html.lower()


def test_cached_search_sees_a_provider_update_at_once(
    client: TestClient, ids: dict[str, int]
) -> None:
    # The search keeps offerings per app; a save must be visible in the next search.
    from tests.wijzer.conftest import csrf_from

    login(client, "test-beheer")
    before = by_provider(api(client)["results"])["Hulp Zuid"]
    assert before["places_free"] == 2
    cache = client.app.state.search_cache  # type: ignore[attr-defined]
    misses = cache.misses
    api(client)
    assert cache.misses == misses  # the second search was served from the cache
    token = csrf_from(client.get("/").text)
    body = {
        "version": 1,
        "places_free": 5,
        "release_per_week": 0.0,
        "expected_wait_days": 10,
        "intake_days": 14,
        "intake_stop": False,
        "lvb_expertise": False,
        "age_min": 0,
        "age_max": 18,
        "contra_indications": ["ZEDENVERLEDEN"],
    }
    put = client.put(
        f"/api/v1/aanbod/{ids['offering:snel']}", json=body, headers={"X-CSRF-Token": token}
    )
    assert put.status_code == 200, put.text
    # The cache keys forecasts by the domain offering id: the import format's aanbod_id.
    kept = {k for k in cache._forecasts if k[0] != "O-SNEL"}
    assert kept  # the other offering's forecast was made by the first search
    after = by_provider(api(client)["results"])["Hulp Zuid"]
    assert after["places_free"] == 5
    assert cache.misses == misses + 1
    # Forecasts are keyed by offering version: the updated offering gets a new one,
    # the other offering keeps its forecast.
    assert kept <= set(cache._forecasts)
    assert ("O-SNEL", 2, False) in cache._forecasts


def test_results_show_a_seeded_start_forecast(verwijzer: TestClient) -> None:
    first = by_provider(api(verwijzer, uitspraak="2026-11-01")["results"])
    again = by_provider(api(verwijzer, uitspraak="2026-11-01")["results"])
    f = first["Hulp Zuid"]["forecast"]
    assert f is not None
    assert f["runs"] > 0
    # Two free places: help starts after the intake time, well within the deadline.
    assert f["low"] <= f["median"] <= f["high"]
    # An intake is not a start: even with a free place the start lies after today.
    assert f["low"] > TODAY.isoformat()
    assert f["p_after_deadline"] < 0.2
    assert again["Hulp Zuid"]["forecast"] == f  # seeded: the same figures every time
    # No free place, one every two weeks after a 60-day wait: later, and a passed
    # deadline makes a late start likely.
    late = by_provider(api(verwijzer, uitspraak="2026-06-01")["results"])
    sub = late["Kleine Praktijk"]["forecast"]
    assert sub["median"] > f["median"]
    assert sub["p_after_deadline"] > 0.9
    html = verwijzer.get("/zoeken", params={**BASE, "uitspraak": "2026-11-01"}).text
    assert "Voorspelde start" in html
    assert "Kans te laat" in html


def test_warming_fills_offerings_and_forecasts(app: FastAPI, verwijzer: TestClient) -> None:
    from providers.store import access
    from services.search import warm_cache

    cache = app.state.search_cache
    seen = warm_cache(app.state.sessions, cache, access.Principal.system(), today=TODAY)
    assert seen == 8  # every offering of the test data, in both regions
    misses, forecasts = cache.misses, len(cache._forecasts)
    assert forecasts >= 5
    api(verwijzer, uitspraak="2026-11-01")
    assert cache.misses == misses
    assert len(cache._forecasts) == forecasts


def test_care_type_labels_have_one_source() -> None:
    # zorgvormen.csv has no label column: every page, export and API label is the
    # domain's care_type_label.
    for code, info in reference.care_types().items():
        assert info.label == care_type_label(code, capital=True), code
    options = dict(zoeken_view.care_type_options())
    assert options["TRAUMATHERAPIE"] == "Traumatherapie (ambulant)"
    assert options["RESIDENTIEEL_JENO"].startswith(
        care_type_label("RESIDENTIEEL_JENO", capital=True)
    )


def test_reasons_counted_per_kind_as_per_offering() -> None:
    """`count_reasons` counts kinds of offerings, then words: the same counts, in the same
    order (most first, equal counts by offering id), as putting every offering into
    words and counting those."""
    import random
    from collections import Counter
    from types import SimpleNamespace

    from matcher.domain.model import ChildAttribute

    rng = random.Random(3)
    kinds = [
        (Reason.AGE_OUT_OF_RANGE,),
        (Reason.INTAKE_STOP,),
        (Reason.BUDGET_CEILING_REACHED, Reason.INTAKE_STOP),
        (Reason.CONTRA_INDICATION,),
        (Reason.NOT_PURCHASED,),
    ]
    unfit = []
    for oid in rng.sample(range(1, 1000), 300):
        via_main = rng.random() < 0.1
        unfit.append(
            SimpleNamespace(
                view=SimpleNamespace(id=oid, age_min=rng.choice([0, 4, 12]), age_max=18),
                check=SimpleNamespace(
                    reasons=() if via_main else rng.choice(kinds),
                    contra_indications=rng.choice([(), (ChildAttribute.AGGRESSION,)]),
                    via_main_contractor=rng.choice(["H1", "H2"]) if via_main else None,
                ),
                only_via_main=via_main,
            )
        )
    names = {"H1": "Hoofd Een", "H2": "Hoofd Twee"}
    naive: Counter[str] = Counter()
    for u in sorted(unfit, key=lambda u: u.view.id):
        naive.update(zoeken_view._reason_texts(u, names))  # type: ignore[arg-type]
    expected = sorted(naive.items(), key=lambda x: -x[1])
    got = zoeken_view.count_reasons(unfit, names)  # type: ignore[arg-type]
    assert [(rc.reason, rc.count) for rc in got] == expected
    assert len(got) > 8  # many kinds of words, with ties among them
