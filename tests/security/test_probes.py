"""The probes of the issue "no server error on any input", one test each.

Each probe once gave a 500, a crash or an English answer; each must now get a
Dutch answer with the right status. The app runs in-process on the security
suite's data set (SQLite, and PostgreSQL when WIJZER_TEST_POSTGRES_URL is set).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from providers.errors import ImportRejected
from providers.io import read_bytes
from providers.store import Principal
from providers.store import jobs as jobstore
from providers.store.importer import import_upload
from providers.store.jobs import JobKind
from tests.providers.test_roundtrip import FORMATS, round_trip
from tests.security.bad_files import deep_json, truncate_member, zip_bomb
from tests.security.conftest import csrf_from, login, username_for
from tests.security.corpus_rows import KID, KIDS_HEADER, xlsx
from tests.wijzer.data import REGION
from wijzer import logs
from wijzer.auth import Role
from wijzer.server import server_options
from wijzer.views.inkoop_scenario import AdviceParams

UNICODE_AND_HUGE = ["²", "٣", "9" * 5000, "1" * 20, " 12 ", "-1", "1e3", "0x1f", "\x00"]
ENGLISH = ("Not Found", "Method Not Allowed", "Internal Server Error", "Invalid HTTP")


def _dutch_page(response: Any, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in response.text
    for word in ENGLISH:
        assert word not in response.text
    return str(response.text)


def _dutch_json(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    body: dict[str, Any] = response.json()
    assert isinstance(body["message"], str)
    assert body["message"]
    for word in ENGLISH:
        assert word not in body["message"]
    return body


# ----------------------------------------------------------------- numbers from people


@pytest.mark.parametrize("value", UNICODE_AND_HUGE)
def test_search_age_any_text_is_a_field_error(
    client_for: Callable[[Role], TestClient], value: str
) -> None:
    verwijzer = client_for(Role.VERWIJZER)
    page = verwijzer.get("/zoeken", params={"zorgvorm": "PLEEGZORG", "leeftijd": value})
    if value == "\x00":
        _dutch_page(page, 400)
        return
    if value == " 12 ":
        assert page.status_code in (200, 422)
        return
    html = _dutch_page(page, 422)
    assert "Vul een leeftijd in van 0 tot en met" in html
    api = verwijzer.get("/api/v1/zoeken", params={"zorgvorm": "PLEEGZORG", "leeftijd": value})
    assert api.status_code == 422


def _provider_form(client: TestClient, oid: int) -> dict[str, str]:
    html = client.get(f"/aanbieder/aanbod/{oid}").text
    version = html.split('name="version" value="')[1].split('"')[0]
    return {
        "csrf_token": csrf_from(html),
        "version": version,
        "places_free": "4",
        "release_per_week": "0,5",
        "expected_wait_days": "21",
        "intake_days": "7",
        "age_min": "4",
        "age_max": "18",
    }


@pytest.mark.parametrize("field", ["places_free", "version", "release_per_week", "age_max"])
@pytest.mark.parametrize("value", ["²", "9" * 5000, "NaN", "inf"])
def test_provider_form_numbers(
    client_for: Callable[[Role], TestClient], ids: dict[str, int], field: str, value: str
) -> None:
    provider = client_for(Role.AANBIEDER)
    oid = ids["offering:snel"]
    form = _provider_form(provider, oid) | {field: value}
    html = _dutch_page(provider.post(f"/aanbieder/aanbod/{oid}", data=form), 422)
    assert "heel getal" in html or "getal in van 0 tot en met" in html or "niet compleet" in html


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/inkoop/scenario", {"plafond_1": "²"}),
        ("/inkoop/scenario", {"plafond_1": "9" * 5000}),
        ("/inkoop/scenario", {"plekken_1": "٣", "zorgvorm_1": "TRAUMATHERAPIE"}),
        ("/inkoop/scenario", {"plekken_1": "9" * 5000, "zorgvorm_1": "TRAUMATHERAPIE"}),
        ("/inkoop/advies", {"budget": "²"}),
        ("/inkoop/advies", {"budget": "9" * 5000}),
        ("/inkoop/advies", {"budget": "1000", "max_plekken": "9" * 5000}),
    ],
)
def test_inkoop_budget_and_places(
    client_for: Callable[[Role], TestClient], path: str, fields: dict[str, str]
) -> None:
    inkoop = client_for(Role.INKOOP)
    token = csrf_from(inkoop.get("/inkoop").text)
    response = inkoop.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)
    _dutch_page(response, 422)


def _api_headers(client: TestClient, page: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_from(client.get(page).text)}


def _offering_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": 1,
        "places_free": 3,
        "release_per_week": 0.0,
        "expected_wait_days": 0,
        "intake_days": 14,
        "intake_stop": False,
        "lvb_expertise": False,
        "age_min": 0,
        "age_max": 18,
        "contra_indications": [],
    }
    return body | changes


@pytest.mark.parametrize("path_id", ["9223372036854775808", "-9223372036854775809", "9" * 5000])
def test_api_path_integer_over_the_database_range(
    client_for: Callable[[Role], TestClient], path_id: str
) -> None:
    provider = client_for(Role.AANBIEDER)
    headers = _api_headers(provider, "/aanbieder")
    response = provider.put(f"/api/v1/aanbod/{path_id}", json=_offering_body(), headers=headers)
    _dutch_json(response, 422)
    # The connection (keep-alive) is still usable: the next request is answered.
    assert provider.get("/api/v1/ik").status_code == 200
    page = provider.get(f"/aanbieder/aanbod/{path_id}")
    _dutch_page(page, 404)


@pytest.mark.parametrize(
    "changes",
    [
        {"version": 2**63},
        {"places_free": 2**63},
        {"age_max": False},
        {"age_min": True},
        {"places_free": "5"},
        {"version": 1.5},
        {"release_per_week": "NaN"},
    ],
)
def test_api_body_integers_are_strict_and_bounded(
    client_for: Callable[[Role], TestClient], ids: dict[str, int], changes: dict[str, Any]
) -> None:
    provider = client_for(Role.AANBIEDER)
    headers = _api_headers(provider, "/aanbieder")
    oid = ids["offering:snel"]
    response = provider.put(
        f"/api/v1/aanbod/{oid}", json=_offering_body(**changes), headers=headers
    )
    _dutch_json(response, 422)
    stored = provider.get("/api/v1/aanbod").json()
    assert all(row["age_max"] != 0 for row in stored["offerings"])


def test_tafel_routes_answer_404_for_an_inkoop_job(
    app: FastAPI, client_for: Callable[[Role], TestClient]
) -> None:
    inkoop = Principal("test-inkoop", Role.INKOOP, None, REGION)
    with app.state.sessions.begin() as s:
        job = jobstore.create(
            s,
            inkoop,
            JobKind.INKOOP_ADVICE,
            "Inkoopadvies",
            AdviceParams(budget_cents=100_000, max_places=1).model_dump_json(),
        )
    tafel = client_for(Role.TAFEL)
    token = csrf_from(tafel.get("/tafel").text)
    for path in (
        f"/tafel/runs/{job.id}",
        f"/tafel/runs/{job.id}/besluitenlijst.csv",
        f"/tafel/vergelijk?a={job.id}&b={job.id}",
    ):
        assert "berekening bestaat niet" in _dutch_page(tafel.get(path), 404)
    rerun = tafel.post(f"/tafel/runs/{job.id}/opnieuw", data={"csrf_token": token})
    _dutch_page(rerun, 404)
    headers = {"X-CSRF-Token": token}
    _dutch_json(tafel.get(f"/api/v1/tafel/runs/{job.id}"), 404)
    _dutch_json(tafel.post(f"/api/v1/tafel/runs/{job.id}/opnieuw", json={}, headers=headers), 404)
    _dutch_json(tafel.get(f"/api/v1/tafel/vergelijk?a={job.id}&b={job.id}"), 404)
    assert job.id not in tafel.get("/tafel").text


def test_nul_in_login_name_is_refused_in_dutch(client: TestClient, backend: str) -> None:
    token = csrf_from(client.get("/inloggen").text)
    response = client.post(
        "/inloggen",
        data={"gebruikersnaam": "test-tafel\x00", "wachtwoord": "x", "csrf_token": token},
    )
    assert "nul-teken" in _dutch_page(response, 400)


def test_nul_in_api_json_text_is_refused(client_for: Callable[[Role], TestClient]) -> None:
    tafel = client_for(Role.TAFEL)
    headers = _api_headers(tafel, "/tafel")
    response = tafel.post("/api/v1/tafel/runs", json={"refs": ["K-001\x00"]}, headers=headers)
    _dutch_json(response, 400)


# ------------------------------------------------------------------------- imports


def _refused(name: str, data: bytes) -> tuple[str, str]:
    tables, problems = read_bytes(name, data)
    assert problems
    assert not tables
    return problems[0].code, str(problems[0])


def test_json_nested_10000_deep_is_refused() -> None:
    code, text = _refused("data.json", deep_json(10_000))
    assert code == "TE_DIEP"
    assert "data.json" in text


def test_json_nan_is_refused() -> None:
    code, text = _refused("data.json", b'{"aanbod": [{"plaatsen_vrij": NaN}]}')
    assert code == "GETAL"
    assert "NaN" in text


@pytest.mark.parametrize("member", ["xl/workbook.xml", "xl/worksheets/sheet1.xml"])
def test_truncated_xlsx_parts_are_refused(member: str) -> None:
    good = xlsx({"kinderen": [KIDS_HEADER.split(","), KID.split(",")]})
    code, text = _refused("kinderen.xlsx", truncate_member(good, member))
    assert code == "ONGELDIG"
    assert "kinderen.xlsx" in text
    assert "Excel" in text


def test_zip_bomb_is_refused_fast_and_small() -> None:
    bomb = zip_bomb(unpacked=1 << 30)
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code, text = _refused("aanbod.xlsx", bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == "TE_GROOT"
    assert "aanbod.xlsx" in text
    assert elapsed < 0.5
    assert peak < 8 * 1024 * 1024


def test_import_refusals_change_nothing(sessions: Any) -> None:
    with pytest.raises(ImportRejected) as refused:
        import_upload(sessions, Principal.system("probe"), [("data.json", deep_json(10_000))])
    assert refused.value.problems[0].code == "TE_DIEP"


# -------------------------------------------------------------------------- answers


def test_unknown_page_and_wrong_method_answer_in_dutch(
    client: TestClient, client_for: Callable[[Role], TestClient]
) -> None:
    assert "bestaat niet" in _dutch_page(client.get("/bestaat-niet"), 404)
    _dutch_page(client.put("/inloggen"), 405)
    tafel = client_for(Role.TAFEL)
    assert _dutch_json(tafel.get("/api/v1/bestaat-niet"), 404)["message"]
    assert _dutch_json(tafel.delete("/api/v1/ik"), 405)["message"]


def test_long_query_string_gets_414(client: TestClient) -> None:
    query = "leeftijd=" + "1" * 60_000
    assert "te lang" in _dutch_page(client.get("/zoeken?" + query), 414)
    _dutch_json(client.get("/api/v1/zoeken?" + query), 414)


def _raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_one_megabyte_request_line_gets_414_from_the_real_server(app: FastAPI) -> None:
    """Through uvicorn as `python -m wijzer serve` runs it (127.0.0.1, a free port)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, **server_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started
        port = server.servers[0].sockets[0].getsockname()[1]
        head = b"GET /zoeken?leeftijd=" + b"1" * (1024 * 1024) + b" HTTP/1.1\r\n"
        answer = _raw_request(port, head + b"Host: localhost\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 414"), answer[:200]
        assert "te lang" in answer.decode("utf-8", "replace")
        assert b"Invalid HTTP request" not in answer
        # An id over the database range, then a second request on the same keep-alive
        # connection: both answered, the connection not reset.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("PUT", "/api/v1/aanbod/9223372036854775808", body=b"{}")
            first = conn.getresponse()
            assert first.status < 500
            assert "message" in json.loads(first.read())
            conn.request("GET", "/api/v1/aanbod/x")
            second = conn.getresponse()
            assert second.status < 500
            second.read()
        finally:
            conn.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_oversized_body_gets_413_before_it_is_read(client: TestClient) -> None:
    token = csrf_from(client.get("/inloggen").text)
    big = {"gebruikersnaam": "x" * (2 * 1024 * 1024), "wachtwoord": "x", "csrf_token": token}
    assert "te veel gegevens" in _dutch_page(client.post("/inloggen", data=big), 413)
    _dutch_json(client.post("/api/v1/tafel/runs", content=b"{" * (2 * 1024 * 1024)), 413)


# ----------------------------------------------------------------------------- logs


SENSITIVE = ("ZEDENVERLEDEN", "SUICIDALITEIT")


@pytest.mark.parametrize("name", ["httpx", "httpcore", "httpx2", "httpcore2"])
def test_http_clients_log_no_urls(name: str) -> None:
    """An HTTP client logs every URL it calls at INFO, query strings included (and a
    search's query string holds a child's kenmerken): after `logs.configure` only
    their warnings are written."""
    root = logging.getLogger()
    level = root.level
    handler = logs.configure(io.StringIO())
    try:
        client = logging.getLogger(name)
        assert not client.isEnabledFor(logging.INFO)
        assert client.isEnabledFor(logging.WARNING)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_log_lines_for_an_auditor(app: FastAPI) -> None:
    """With the logging `serve` sets up: every line JSON with time, level, logger,
    message, request id and user; the security events at INFO or above; no child
    attribute from a query string."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure(stream)
    try:
        with TestClient(app, base_url="http://testserver") as c:
            token = csrf_from(c.get("/inloggen").text)
            c.post(
                "/inloggen",
                data={"gebruikersnaam": "test-tafel", "wachtwoord": "fout", "csrf_token": token},
            )
            login(c, username_for(Role.TAFEL))
            c.get(
                "/zoeken",
                params=[("zorgvorm", "PLEEGZORG"), ("leeftijd", "9")]
                + [("kenmerken", k) for k in SENSITIVE],
            )
            assert c.get("/inkoop").status_code == 403
            assert c.get("/rapportage/uitvraag.csv").status_code == 200
            c.post("/uitloggen", data={"csrf_token": csrf_from(c.get("/tafel").text)})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id", "user"} <= set(line)
    events = [(x["level"], x["logger"], x["message"], x["user"]) for x in lines]

    def seen(words: str, user: str | None = None) -> bool:
        return any(
            words in m and lvl in ("INFO", "WARNING") and (user is None or user == u or user in m)
            for lvl, _, m, u in events
        )

    assert seen("login failed")
    assert seen("login ok", "test-tafel")
    assert seen("access refused", "test-tafel")
    assert seen("export /rapportage/uitvraag.csv", "test-tafel")
    assert seen("logout", "test-tafel")
    assert seen("GET /zoeken ")
    assert all(x["request_id"] != "-" for x in lines if x["logger"] == "wijzer.access")
    for word in SENSITIVE:
        assert word not in text
    assert "kenmerken" not in text
    assert "leeftijd" not in text


def test_json_formatter_writes_one_object_per_line() -> None:
    record = logging.LogRecord("uvicorn.error", logging.WARNING, "x.py", 1, "a %s", ("b",), None)
    record.color_message = "\x1b[36ma b\x1b[0m"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "a b"
    assert line["level"] == "WARNING"
    assert line["time"].endswith("+00:00")
    assert "color_message" not in line


# ------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", ["+cmd|' /C calc'!A0", "=1+1", "-2", "@x"])
def test_export_then_import_is_the_identity(
    sessions: Any, tmp_path: Path, value: str, fmt: str
) -> None:
    round_trip(sessions, value, fmt, tmp_path)
