"""Every number and date field of the case, answer, beheer, upload and referral pages
and API gets any text (Unicode digits, 5,000 digits, 2**63 and beyond, NUL, signs,
empty) and answers with a Dutch error: never a server error, never a stored change.

The fields are listed here; `test_the_list_is_complete` proves the list against the
routes (every integer path and query parameter), the API schema (every integer,
number and date in a request body) and the page templates (every numeric, date and
month input), so a new number field without a probe fails."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.security.conftest import count_rows, csrf_from
from wijzer.auth import Role
from wijzer.routers import all_routes

V, A, B = Role.VERWIJZER, Role.AANBIEDER, Role.BEHEER
# (method, path, where, fields, role): `where` is path, query, form or json; the
# form and json probes send every other field valid, so only the probed text is wrong.
FIELDS: list[tuple[str, str, str, tuple[str, ...], Role]] = [
    ("GET", "/aanbieder", "query", ("opgeslagen", "bevestigd"), A),
    ("GET", "/aanbieder/aanbod/{offering_id}", "path", ("offering_id",), A),
    ("POST", "/aanbieder/aanbod/{offering_id}", "path", ("offering_id",), A),
    ("PUT", "/api/v1/aanbod/{offering_id}", "path", ("offering_id",), A),
    ("POST", "/aanbieder/aanbod/{offering_id}", "form", ("vrij_plekken_1",), A),
    ("POST", "/aanbieder/aanbod/{offering_id}", "form", ("vrij_datum_1",), A),
    ("GET", "/inlezen", "query", ("opgeslagen",), B),
    ("POST", "/beheer/gebruikers/{account_id}/uitzetten", "path", ("account_id",), B),
    ("POST", "/beheer/gebruikers/{account_id}/aanzetten", "path", ("account_id",), B),
    ("POST", "/beheer/gebruikers/{account_id}/wachtwoord", "path", ("account_id",), B),
    ("GET", "/beheer/logboek", "query", ("pagina", "van", "tot"), B),
    ("GET", "/beheer/logboek.csv", "query", ("van", "tot"), B),
    ("POST", "/beheer/gebruikers", "form", ("organisatie",), B),
    ("POST", "/beheer/organisaties", "form", ("org_aanbieder",), B),
    ("GET", "/beheer/organisaties", "query", ("opgeslagen",), B),
    ("POST", "/beheer/organisaties/{organisation_id}/email", "path", ("organisation_id",), B),
    ("GET", "/aanbieder/organisatie", "query", ("opgeslagen",), A),
    ("GET", "/open/hsds/services", "query", ("page", "per_page"), V),
    ("GET", "/open/hsds/organizations", "query", ("page", "per_page"), V),
    ("GET", "/open/hsds/service_at_locations", "query", ("page", "per_page"), V),
    ("GET", "/casussen/aanmelden/{offering_id}", "path", ("offering_id",), V),
    ("POST", "/casussen/aanmelden/{offering_id}", "path", ("offering_id",), V),
    ("POST", "/casussen/aanmelden/{offering_id}", "form", ("hulpvraag",), V),
    ("POST", "/casussen/aanmeldingen/{aanmelding_id}/beeindigen", "path", ("aanmelding_id",), V),
    ("POST", "/casussen/nieuw", "form", ("geboortemaand", "leeftijd"), V),
    ("POST", "/casussen/nieuw", "form", ("uitspraakdatum", "gi_datum", "eerder_nodig"), V),
    ("GET", "/aanmeldingen/{aanmelding_id}", "path", ("aanmelding_id",), A),
    ("POST", "/aanmeldingen/{aanmelding_id}", "path", ("aanmelding_id",), A),
    ("POST", "/aanmeldingen/{aanmelding_id}", "form", ("intake", "start"), A),
    ("POST", "/aanmeldingen/{aanmelding_id}", "form", ("intakedatum",), A),
    ("POST", "/aanmeldingen/{aanmelding_id}", "form", ("startdatum",), A),
    ("GET", "/api/v1/aanmeldingen/{aanmelding_id}", "path", ("aanmelding_id",), V),
    ("POST", "/api/v1/aanmeldingen/{aanmelding_id}/antwoord", "path", ("aanmelding_id",), A),
    ("POST", "/api/v1/aanmeldingen/{aanmelding_id}/beeindigen", "path", ("aanmelding_id",), V),
    ("POST", "/api/v1/casussen", "json", ("birth_month", "ruling_date"), V),
    ("POST", "/api/v1/casussen", "json", ("gi_notified_date", "urgent_deadline"), V),
    ("POST", "/api/v1/aanmeldingen", "json", ("need_id", "offering_id"), V),
    ("POST", "/api/v1/aanmeldingen/voorstel", "json", ("need_id", "offering_id"), V),
    (
        "POST",
        "/api/v1/aanmeldingen/{aanmelding_id}/antwoord",
        "json",
        ("planned_intake", "planned_start"),
        A,
    ),
    ("POST", "/api/v1/aanmeldingen/{aanmelding_id}/antwoord", "json", ("on",), A),
]
# Number fields of the older pages: tests/security/test_numbers.py and test_probes.py.
OLDER = {
    ("GET", "/zoeken", "leeftijd"),
    ("GET", "/api/v1/zoeken", "leeftijd"),
    ("POST", "/aanbieder/aanbod/{offering_id}", "places_free"),
    ("PUT", "/api/v1/aanbod/{offering_id}", "places_free"),
    ("POST", "/api/v1/inkoop/scenarios", "places"),
    ("POST", "/api/v1/inkoop/advies", "budget_euro"),
}
# Template inputs that are not numbers (their names match the pattern for another reason).
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "wijzer" / "templates"
NUMERIC_INPUT = re.compile(
    r'text_field\("([a-z_]+)(?:_%d)?"[^}]*(?:inputmode="numeric"|type="(?:date|month)")'
)
# Inputs of the older pages, probed by test_numbers.py and test_probes.py.
OLDER_INPUTS = {
    "dagen_te_laat", "places_free", "intake_days", "age_min", "age_max", "budget",
    "max_plekken", "uitspraak", "deadline", "plekken", "prijs", "plafond",
    "ondergrens_procent", "expected_wait_days", "release_per_week",
}  # fmt: skip


def _listed() -> set[tuple[str, str, str]]:
    return {(m, p, f) for m, p, _, fields, _ in FIELDS for f in fields}


def test_the_list_is_complete(app: FastAPI) -> None:
    listed = _listed()
    for route in all_routes():
        d = route.dependant
        params = [*d.path_params, *d.query_params]
        for p in params:
            if "int" in str(p.field_info.annotation):
                for method in route.methods:
                    assert (method, route.path_format, p.name) in listed, (
                        route.path_format,
                        p.name,
                    )
    schema = app.openapi()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not body:
                continue
            for name in _number_props(schema, body["schema"]):
                key = (method.upper(), path, name)
                older = any(k[:2] == key[:2] for k in OLDER)
                assert key in listed or older, key
    inputs = set()
    for template in TEMPLATE_DIR.rglob("*.html"):
        inputs |= set(NUMERIC_INPUT.findall(template.read_text()))
    assert inputs, "the pattern finds the inputs"
    form_fields = {
        re.sub(r"_[0-9]+$", "", f)
        for m, p, w, fs, _ in FIELDS
        if w in ("form", "query")
        for f in fs
    }
    assert inputs - OLDER_INPUTS <= form_fields, inputs - OLDER_INPUTS - form_fields


def _number_props(schema: dict[str, Any], node: dict[str, Any], depth: int = 0) -> set[str]:
    """Names of integer, number and date properties under a request body's schema."""
    if depth > 6:
        return set()
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return _number_props(schema, schema["components"]["schemas"][name], depth + 1)
    found: set[str] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key, []):
            found |= _number_props(schema, sub, depth + 1)
    if "items" in node:
        found |= _number_props(schema, node["items"], depth + 1)
    for name, prop in node.get("properties", {}).items():
        kinds = {prop.get("type"), *(s.get("type") for s in prop.get("anyOf", []))}
        formats = {prop.get("format"), *(s.get("format") for s in prop.get("anyOf", []))}
        pattern = str(prop.get("pattern", ""))
        if kinds & {"integer", "number"} or "date" in formats or pattern.startswith("^[0-9]{4}"):
            found.add(name)
        found |= _number_props(schema, prop, depth + 1)
    return found


# Texts no number or date field may take; plain valid numbers are left out so every
# probe must be refused.
FIXED = [
    "²",
    "٣",
    "１２",
    "9" * 5000,
    str(2**63),
    str(2**31),
    str(-(2**31) - 1),
    str(2**63 - 1),
    str(-(2**63) - 1),
    "-1",
    "-0",
    "1e9",
    "NaN",
    "\x00",
    "2026-13-01",
    "0000-00-00",
    "99999-01-01",
    "2026-02-30",
    "2026-²-01",
    "1" * 20 + "-01",
]
ANY_TEXT = st.text(max_size=30).filter(lambda t: not re.fullmatch(r"[0-9 .,:/-]*", t))

CASE_FORM = {
    "kenmerk": "GI-NUM-01",
    "geboortemaand": "2016-02",
    "leeftijd": "",
    "gemeente": "GM0505",
    "maatregel": "OTS",
    "uitspraakdatum": "2026-10-01",
    "hulp": "TRAUMATHERAPIE",
}
CASE_JSON = {
    "birth_month": "2015-04",
    "gemeente": "GM0505",
    "measure": "OTS",
    "ruling_date": "2026-10-01",
    "needs": ["TRAUMATHERAPIE"],
}


@pytest.fixture
def world(
    app: FastAPI, client_for: Callable[[Role], TestClient], ids: dict[str, int]
) -> dict[str, Any]:
    """Clients per role with their CSRF token, and a case with an open aanmelding."""
    clients = {r: client_for(r) for r in (V, A, B)}
    tokens = {r: csrf_from(c.get("/").text) for r, c in clients.items()}
    v = clients[V]
    made = v.post("/api/v1/casussen", json=CASE_JSON, headers={"X-CSRF-Token": tokens[V]})
    assert made.status_code == 201, made.text
    ref = made.json()["ref"]
    need = v.get(f"/api/v1/casussen/{ref}").json()["needs"][0]["id"]
    oid = ids["offering:snel"]
    asked = v.post(
        "/api/v1/aanmeldingen",
        json={"ref": ref, "need_id": need, "offering_id": oid},
        headers={"X-CSRF-Token": tokens[V]},
    )
    assert asked.status_code == 201, asked.text
    ids_in_path = {"offering_id": oid, "aanmelding_id": asked.json()["id"], "account_id": 1}
    valid_json = {
        "/api/v1/casussen": CASE_JSON,
        "/api/v1/aanmeldingen": {"ref": ref, "need_id": need, "offering_id": oid},
        "/api/v1/aanmeldingen/voorstel": {
            "items": [{"ref": ref, "need_id": need, "offering_id": oid}]
        },
        "/api/v1/aanmeldingen/{aanmelding_id}/antwoord": {
            "kind": "accept",
            "planned_intake": "2026-11-25",
            "planned_start": "2026-12-01",
        },
    }
    edit = clients[A].get(f"/aanbieder/aanbod/{oid}").text
    version = edit.split('name="version" value="')[1].split('"')[0]
    valid_form = {
        "/aanbieder/aanbod/{offering_id}": {
            "version": version,
            "places_free": "4",
            "release_per_week": "0,5",
            "expected_wait_days": "21",
            "intake_days": "7",
            "age_min": "4",
            "age_max": "18",
            "vrij_rijen": "1",
            "vrij_plekken_1": "2",
            "vrij_datum_1": "2026-12-01",
        },
        "/casussen/nieuw": CASE_FORM,
        "/casussen/aanmelden/{offering_id}": {"ref": ref, "hulpvraag": str(need)},
        "/aanmeldingen/{aanmelding_id}": {"antwoord": "ja", "intake": "", "start": ""},
        "/beheer/gebruikers": {"gebruikersnaam": "nieuw-num", "rol": "verwijzer"},
        "/beheer/organisaties": {"org_naam": "Num", "org_soort": "aanbieder"},
    }
    return {
        "clients": clients,
        "tokens": tokens,
        "path": ids_in_path,
        "json": valid_json,
        "form": valid_form,
        "ref": ref,
        "need": need,
    }


def _fill(path: str, values: dict[str, Any], probed: dict[str, str]) -> str:
    for name, value in values.items():
        text = probed.get(name, str(value))
        path = path.replace("{" + name + "}", quote(text, safe=""))
    return path


def _send(
    world: dict[str, Any], method: str, path: str, where: str, fields: tuple[str, ...],
    role: Role, value: str,
) -> Any:  # fmt: skip
    client: TestClient = world["clients"][role]
    token = world["tokens"][role]
    probed = dict.fromkeys(fields, value)
    url = _fill(path, world["path"], probed if where == "path" else {})
    headers = {"X-CSRF-Token": token}
    if where == "query":
        return client.request(method, url, params=probed, headers=headers)
    if where == "json" or url.startswith("/api/"):
        body = _with(world["json"].get(path, {}), probed) if where == "json" else {}
        return client.request(method, url, json=body, headers=headers)
    form = {**world["form"].get(path, {}), **(probed if where == "form" else {})}
    return client.request(
        method, url, data={**form, "csrf_token": token}, headers=headers, follow_redirects=False
    )


def _with(body: dict[str, Any], probed: dict[str, str]) -> dict[str, Any]:
    """The valid body with the probed fields set (in a proposal: in its items)."""
    if "items" in body:
        return {**body, "items": [{**item, **probed} for item in body["items"]]}
    return {**body, **probed}


def _data_rows(engine: Engine) -> dict[str, int]:
    # Reading and refusing is logged and a login opens a session; neither is data.
    return {k: v for k, v in count_rows(engine).items() if k not in ("audit_log", "web_sessions")}


def _probe_all(app: FastAPI, world: dict[str, Any], value: str) -> None:
    before = _data_rows(app.state.engine)
    for method, path, where, fields, role in FIELDS:
        response = _send(world, method, path, where, fields, role, value)
        where_ = (method, path, where, fields, value[:40])
        assert response.status_code < 500, (where_, response.text[:300])
        assert response.status_code not in (200, 201, 202, 303) or method == "GET", where_
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if response.status_code >= 400:
                assert isinstance(body.get("message") or body.get("detail"), str | list), where_
        for english in ("Internal Server Error", "Input should be", "Field required"):
            assert english not in response.text, where_
    assert _data_rows(app.state.engine) == before


def test_every_number_field_refuses_the_known_bad_texts(
    app: FastAPI, world: dict[str, Any]
) -> None:
    for value in FIXED:
        _probe_all(app, world, value)


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=ANY_TEXT)
def test_every_number_field_refuses_any_text(
    app: FastAPI, world: dict[str, Any], value: str
) -> None:
    _probe_all(app, world, value)
