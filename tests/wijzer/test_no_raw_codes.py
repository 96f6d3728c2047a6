"""No raw enum value, plural hack or English word on any surface people read.

Signs in as each role of the test data, renders every page it can reach (with a
finished tafel run with explanations and a forbid, a finished inkoop scenario, the
rapportage, a search with results and with blocked offerings), reads every export
(CSV and XLSX cells) and every JSON answer, and fails on:

- a member name or value of an enum shown to people (Reason, PairWarning,
  ChildAttribute, CareType, NormStatus, Verdict, the summary codes, the solver's
  Status);
- the plural hacks "(ken)" and "(en)";
- an English word from ENGLISH.

What is allowed, and why:

- JSON field names (the API's schema is in English, like every field of its
  OpenAPI document);
- machine codes in the JSON fields of MACHINE_FIELDS: each has a Dutch text beside
  it (`care_type` beside `care_type_label`, `verdict` beside `verdict_text`,
  `summary` beside `summary_text`, `solver_status` beside `solver_status_text`, a
  flag's `code` beside its `text`), or is an identifier a client sends back (refs,
  ids, form values) or the solver strategy's name for support;
- HTML attribute values (form values are codes; the option text is the label);
- enum values that are Dutch words or acronyms in their own right ("lvb", "LVB",
  "zedenverleden").
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from matcher.domain.caretypes import CareType
from matcher.domain.clocks import NormStatus, Verdict
from matcher.domain.model import ChildAttribute
from matcher.domain.reasons import PairWarning, Reason, summary_codes
from matcher.solution import Status
from tests.wijzer.conftest import csrf_from, login, username_for
from tests.wijzer.data import CARE, DORDRECHT, REGION
from wijzer.auth import Role

DUTCH_IN_THEIR_OWN_RIGHT = {"lvb", "LVB", "zedenverleden"}
ENUMS: tuple[type[Any], ...] = (
    Reason,
    PairWarning,
    ChildAttribute,
    CareType,
    NormStatus,
    Verdict,
    Status,
)
RAW = sorted(
    (
        {m.name for e in ENUMS for m in e}
        | {str(m.value) for e in ENUMS for m in e}
        | set(summary_codes())
    )
    - DUTCH_IN_THEIR_OWN_RIGHT
)
RAW_RE = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, RAW)) + r")(?![\w-])")
HACKS = ("(ken)", "(en)")
ENGLISH = (
    "aggression",
    "unstable",
    "within",
    "unplaced",
    "placed",
    "none",
    "null",
    "true",
    "false",
    "pending",
    "unknown",
    "late",
    "error",
)
ENGLISH_RE = re.compile(r"\b(" + "|".join(ENGLISH) + r")\b", re.IGNORECASE)
# "1 verschillen": the number one with a plural noun the pages use
PLURAL_AFTER_ONE_RE = re.compile(
    r"(?<![\d.,])\b1 (kinderen|plekken|verschillen|hulpvragen|wijzigingen|aanbiedingen|"
    r"dagen|seconden|groepen|aanmeldingen)\b"
)
# "0.30 seconden": a decimal point where Dutch writes a comma
DECIMAL_POINT_RE = re.compile(r"\b\d+\.\d{1,2} (seconden|procent|dagen)\b")
MACHINE_FIELDS = {
    "care_type",
    "verdict",
    "summary",
    "solver_status",
    "strategy",
    "code",
    "status",
    "role",
    "username",
    "id",
    "parent",
    "child_ref",
    "ref",
    "need_id",
    "offering",
    "option",
    "forbidden",
    "region",
    "region_code",
    "gemeente_code",
    "key",
    "rule",
    "zorgvorm",
    "kenmerken",
    "gemeente",
    "route",
    "regio",
    "contra_indications",
    "extra_places",
    "care_types",
    "leave",
}


def problems(text: str, where: str) -> list[str]:
    out = [f"{where}: raw code {m.group(1)!r}" for m in RAW_RE.finditer(text)]
    out += [f"{where}: plural hack {h!r}" for h in HACKS if h in text]
    out += [f"{where}: English word {m.group(1)!r}" for m in ENGLISH_RE.finditer(text)]
    out += [f"{where}: plural after one {m.group(0)!r}" for m in PLURAL_AFTER_ONE_RE.finditer(text)]
    out += [f"{where}: decimal point {m.group(0)!r}" for m in DECIMAL_POINT_RE.finditer(text)]
    return out


def visible_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def json_problems(value: Any, where: str, key: str = "") -> list[str]:
    if key in MACHINE_FIELDS:
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in json_problems(v, f"{where}.{k}", k)]
    if isinstance(value, list):
        return [p for v in value for p in json_problems(v, where, key)]
    if isinstance(value, str):
        return problems(value, where)
    return []


def export_problems(content: bytes, fmt: str, where: str) -> list[str]:
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        cells = [c for r in rows for c in r]
    else:
        book = load_workbook(io.BytesIO(content))
        cells = [
            str(c.value)
            for sheet in book.worksheets
            for r in sheet.iter_rows()
            for c in r
            if c.value is not None
        ]
    return [p for c in cells for p in problems(c, where)]


def _wait(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    body: dict[str, Any] = client.get(location).json()
    while not body["done"] and time.monotonic() < deadline:
        time.sleep(0.2)
        body = client.get(location).json()
    assert body["status"] == "klaar", body
    return body


@pytest.fixture
def jobs(app: FastAPI) -> Iterator[dict[str, str]]:
    """A finished tafel run with an unplaced child and a run again with a forbid, and
    a finished inkoop scenario."""
    with TestClient(app) as c:
        login(c, username_for(Role.TAFEL))
        token = csrf_from(c.get("/tafel").text)
        headers = {"X-CSRF-Token": token}
        started = c.post(
            "/api/v1/tafel/runs", json={"refs": ["K-001", "K-002", "K-003"]}, headers=headers
        )
        first = _wait(c, started.headers["location"])
        placed = next(r for r in first["outcome"]["rows"] if r["placed"])
        again = c.post(
            f"/api/v1/tafel/runs/{first['id']}/opnieuw",
            json={"uitsluiten": [{"child_ref": placed["child_ref"], "need_id": placed["need_id"]}]},
            headers=headers,
        )
        second = _wait(c, again.headers["location"])
    with TestClient(app) as c:
        login(c, username_for(Role.INKOOP))
        token = csrf_from(c.get("/inkoop").text)
        response = c.post(
            "/inkoop/scenario",
            data={"csrf_token": token, "zorgvorm_1": CARE, "regio_1": REGION, "plekken_1": "1"},
            follow_redirects=False,
        )
        scenario = response.headers["location"].rsplit("/", 1)[1]
        _wait(c, f"/api/v1/inkoop/scenarios/{scenario}")
    return {"run": first["id"], "rerun": second["id"], "scenario": scenario}


SEARCH = {"zorgvorm": CARE, "leeftijd": "9", "gemeente": DORDRECHT, "uitspraak": "2026-09-01"}
BLOCKED = {**SEARCH, "kenmerken": "ZEDENVERLEDEN", "ook_niet_passend": "1", "regio": "buiten"}


def _urls(jobs: dict[str, str], ids: dict[str, int]) -> tuple[list[Any], list[str], list[Any]]:
    run, rerun, scenario = jobs["run"], jobs["rerun"], jobs["scenario"]
    pages: list[Any] = [
        "/",
        "/toegankelijkheid",
        "/zoeken",
        ("/zoeken", SEARCH),
        ("/zoeken", BLOCKED),
        "/tafel",
        f"/tafel/runs/{run}",
        f"/tafel/runs/{rerun}",
        ("/tafel/vergelijk", {"a": run, "b": rerun}),
        "/inkoop",
        f"/inkoop/scenario/{scenario}",
        "/aanbieder",
        f"/aanbieder/aanbod/{ids['offering:snel']}",
        "/rapportage",
    ]
    exports = [
        f"/tafel/runs/{run}/besluitenlijst.csv",
        f"/tafel/runs/{rerun}/besluitenlijst.xlsx",
        f"/inkoop/scenario/{scenario}/totalen.csv",
        f"/inkoop/scenario/{scenario}/totalen.xlsx",
        "/rapportage/uitvraag.csv",
        "/rapportage/uitvraag.xlsx",
        "/rapportage/stroom.csv",
    ]
    api: list[Any] = [
        "/api/v1/ik",
        ("/api/v1/zoeken", SEARCH),
        ("/api/v1/zoeken", BLOCKED),
        "/api/v1/aanbod",
        "/api/v1/inkoop/wachtenden",
        f"/api/v1/inkoop/scenarios/{scenario}",
        f"/api/v1/tafel/runs/{run}",
        f"/api/v1/tafel/runs/{rerun}",
        ("/api/v1/tafel/vergelijk", {"a": run, "b": rerun}),
        "/api/v1/rapportage/uitvraag",
    ]
    return pages, exports, api


def _get(client: TestClient, target: Any) -> tuple[str, Any]:
    url, params = (target, None) if isinstance(target, str) else target
    return url, client.get(url, params=params)


@pytest.mark.parametrize("role", list(Role))
def test_no_raw_code_on_any_surface(
    app: FastAPI, jobs: dict[str, str], ids: dict[str, int], role: Role
) -> None:
    pages, exports, api = _urls(jobs, ids)
    found: list[str] = []
    seen = 0
    with TestClient(app) as client:
        login(client, username_for(role))
        for target in pages:
            url, r = _get(client, target)
            if r.status_code != 200:
                continue
            seen += 1
            found += problems(visible_text(r.text), url)
        for url in exports:
            r = client.get(url)
            if r.status_code != 200:
                continue
            seen += 1
            found += export_problems(r.content, url.rsplit(".", 1)[1], url)
        for target in api:
            url, r = _get(client, target)
            if r.status_code != 200:
                continue
            seen += 1
            found += json_problems(r.json(), url)
    assert seen >= 4, f"{role.value} reached too few surfaces"
    assert not found, "\n".join(sorted(set(found)))


def test_the_check_finds_what_it_should() -> None:
    assert problems("Rekentijd 0.2 seconden (flow, OPTIMAL)", "x")
    assert problems("Per kind (1 verschillen)", "x")
    assert problems("Rekentijd 0.30 seconden", "x")
    assert not problems("Per kind (1 verschil), 11 kinderen, Rekentijd 0,30 seconden", "x")
    assert problems("Reden: NO_CAPACITY", "x")
    assert problems("3 extra plek(ken)", "x")
    assert problems("kenmerk: aggression", "x")
    assert problems("Binnen de norm: True", "x")
    assert not problems("De aanbieder heeft geen LVB-deskundigheid", "x")
    assert not problems("geen kinderen met een zedenverleden", "x")
    assert json_problems({"verdict": "WITHIN_NORM", "verdict_text": "Binnen de norm"}, "x") == []
    assert json_problems({"verdict_text": "WITHIN_NORM"}, "x")
