"""One way to read numbers from people (wijzer.forms.parse_int), and any text in any
number field or job id of the app gives an answer, never a server error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import csrf_from
from wijzer.auth import Role
from wijzer.forms import DB_INT_MAX, parse_decimal, parse_int, whole_number_message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("999", 999),
        (" 12 ", 12),
        ("1000", None),
        ("-1", None),
        ("+1", None),
        ("1.5", None),
        ("²", None),
        ("٣", None),
        ("１２", None),
        ("1_000", None),
        ("9" * 5000, None),
        ("", None),
        ("\x00", None),
    ],
)
def test_parse_int_takes_ascii_digits_in_range(text: str, expected: int | None) -> None:
    assert parse_int(text, 0, 999) == expected


def test_parse_int_thousands_and_database_range() -> None:
    assert parse_int("50.000", 0, 10**9, thousands=True) == 50_000
    assert parse_int("50.000", 0, 10**9) is None
    assert parse_int("5.00", 0, 10**9, thousands=True) is None
    assert parse_int(str(DB_INT_MAX), 0, DB_INT_MAX) == DB_INT_MAX
    assert parse_int(str(DB_INT_MAX + 1), 0, DB_INT_MAX) is None
    assert whole_number_message(0, 999) == "Vul een heel getal in tussen 0 en 999."


def test_parse_decimal() -> None:
    assert parse_decimal("0,5", 0, 100) == 0.5
    assert parse_decimal("1e-05", 0, 100) == 1e-05
    for bad in ("NaN", "inf", "1e999", "²", "1,2,3", "-1", "9" * 5000):
        assert parse_decimal(bad, 0, 100) is None, bad


@given(st.text(max_size=40))
def test_parse_int_never_raises(text: str) -> None:
    n = parse_int(text, 0, 999, thousands=True)
    assert n is None or (0 <= n <= 999 and text.strip().replace(".", "").isascii())


@pytest.fixture
def people(
    client_for: Callable[[Role], TestClient], ids: dict[str, int]
) -> Iterator[dict[str, Any]]:
    provider = client_for(Role.AANBIEDER)
    inkoop = client_for(Role.INKOOP)
    tafel = client_for(Role.TAFEL)
    oid = ids["offering:snel"]
    html = provider.get(f"/aanbieder/aanbod/{oid}").text
    return {
        "provider": provider,
        "inkoop": inkoop,
        "tafel": tafel,
        "oid": oid,
        "provider_token": csrf_from(html),
        "inkoop_token": csrf_from(inkoop.get("/inkoop").text),
        "tafel_token": csrf_from(tafel.get("/tafel").text),
    }


ANY_TEXT = st.text(max_size=60) | st.sampled_from(["²", "9" * 5000, str(2**63), "-0", "1e9"])


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=ANY_TEXT)
def test_no_number_field_gives_a_server_error(people: dict[str, Any], value: str) -> None:
    provider: TestClient = people["provider"]
    inkoop: TestClient = people["inkoop"]
    tafel: TestClient = people["tafel"]
    oid = people["oid"]
    in_path = quote(value, safe="")
    answers = [
        people["tafel"].get("/zoeken", params={"zorgvorm": "PLEEGZORG", "leeftijd": value}),
        provider.post(
            f"/aanbieder/aanbod/{oid}",
            data={
                "csrf_token": people["provider_token"],
                "version": value,
                "places_free": value,
                "release_per_week": value,
                "expected_wait_days": "1",
                "intake_days": "1",
                "age_min": "0",
                "age_max": value,
            },
        ),
        inkoop.post(
            "/inkoop/scenario",
            data={"csrf_token": people["inkoop_token"], "plafond_1": value, "plekken_1": value},
            follow_redirects=False,
        ),
        inkoop.post(
            "/inkoop/advies",
            # max_plekken 0 is always refused, so no example starts a real computation.
            data={"csrf_token": people["inkoop_token"], "budget": value, "max_plekken": "0"},
            follow_redirects=False,
        ),
        provider.get(f"/aanbieder/aanbod/{in_path}"),
        provider.get("/aanbieder", params={"opgeslagen": value}),
        tafel.get(f"/tafel/runs/{in_path}"),
        tafel.get("/tafel/vergelijk", params={"a": value, "b": value}),
        tafel.get(f"/api/v1/tafel/runs/{in_path}"),
        inkoop.get(f"/inkoop/scenario/{in_path}"),
        inkoop.get(f"/api/v1/inkoop/scenarios/{in_path}"),
    ]
    for response in answers:
        assert response.status_code < 500, (response.request.url, response.text[:200])
