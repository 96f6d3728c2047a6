"""Every download is written from a documented frame (services.frames): the file's
sheet holds exactly the frame's header and cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from providers.io.export import frame_sheet
from providers.store import access
from providers.store.audit_log import AuditFilter, export_audit
from providers.store.uitvraag import take_snapshot
from services.frames import (
    ADVICE_TOTALS_COLUMNS,
    AUDIT_COLUMNS,
    FLOW_COLUMNS,
    SCENARIO_TOTALS_COLUMNS,
    advice_totals_frame,
    audit_frame,
    flows_frame,
    scenario_totals_frame,
)
from tests.wijzer.conftest import csrf_from, login
from tests.wijzer.data import CARE, REGION
from tests.wijzer.test_inkoop_scenario import _start, _wait
from wijzer.views.inkoop_scenario import AdviceResult, ScenarioResult
from wijzer.views.rapportage import FlowRow


def _xlsx_sheet(content: bytes, name: str) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [["" if v is None else v for v in row] for row in book[name].iter_rows(values_only=True)]


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def _as_sheet(frame: pd.DataFrame) -> list[list[Any]]:
    columns, rows = frame_sheet(frame)
    return [list(columns), *[list(r) for r in rows]]


def _as_text(rows: Sequence[Sequence[Any]]) -> list[list[str]]:
    return [[str(v) for v in r] for r in rows]


def test_the_inkoop_totals_sheet_is_its_frame(client: TestClient) -> None:
    login(client, "test-inkoop")
    url = _start(client, zorgvorm_1=CARE, regio_1=REGION, plekken_1="3").headers["location"]
    body = _wait(client, url.rsplit("/", 1)[1])
    frame = scenario_totals_frame(ScenarioResult.model_validate(body["result"]))
    assert tuple(frame.columns) == SCENARIO_TOTALS_COLUMNS
    # the summary rows and a row per line of every table on the page
    assert len(frame) > 3
    assert "verborgen" in frame.to_numpy().tolist()[0]
    expected = _as_sheet(frame)
    assert _xlsx_sheet(client.get(f"{url}/totalen.xlsx").content, "totalen") == expected
    assert _csv_rows(client.get(f"{url}/totalen.csv").text) == _as_text(expected)


def test_the_inkoop_advice_totals_sheet_is_its_frame(client: TestClient) -> None:
    login(client, "test-inkoop")
    token = csrf_from(client.get("/inkoop").text)
    response = client.post(
        "/inkoop/advies",
        data={"csrf_token": token, "budget": "1.000.000", "max_plekken": "3"},
        follow_redirects=False,
    )
    job_id = response.headers["location"].rsplit("/", 1)[1]
    body = _wait(client, job_id)
    frame = advice_totals_frame(AdviceResult.model_validate(body["advice"]))
    assert tuple(frame.columns) == ADVICE_TOTALS_COLUMNS
    # every rule ends with its total
    assert list(frame["hulpvorm"]).count("Totaal") == len(body["advice"]["rules"])
    expected = _as_sheet(frame)
    url = f"/inkoop/scenario/{job_id}/totalen"
    assert _xlsx_sheet(client.get(f"{url}.xlsx").content, "totalen") == expected
    assert _csv_rows(client.get(f"{url}.csv").text) == _as_text(expected)


def test_the_flow_sheet_is_its_frame(app: FastAPI, client: TestClient) -> None:
    tafel = access.Principal("test-tafel", access.Role.TAFEL, None, region_code=REGION)
    for day in (dt.date(2026, 10, 31), dt.date(2026, 11, 30)):
        with app.state.sessions.begin() as db:
            take_snapshot(db, tafel, count_date=day)
    login(client, "test-tafel")
    flows = client.get("/api/v1/rapportage/uitvraag").json()["flows"]
    frame = flows_frame([FlowRow.model_validate(f) for f in flows])
    assert tuple(frame.columns) == FLOW_COLUMNS
    assert len(frame) == 1
    expected = _as_sheet(frame)
    assert expected[1][0] == "2026-10-31"
    assert expected[1][-1] == "ja"
    assert _xlsx_sheet(client.get("/rapportage/stroom.xlsx").content, "voorraad_en_stroom") == (
        expected
    )
    assert _csv_rows(client.get("/rapportage/stroom.csv").text) == _as_text(expected)
    book = client.get("/rapportage/uitvraag.xlsx").content
    assert _xlsx_sheet(book, "voorraad_en_stroom") == expected


def test_the_logboek_csv_is_its_frame(app: FastAPI, client: TestClient) -> None:
    login(client, "test-tafel")
    client.get("/tafel")  # an entry by test-tafel
    login(client, "test-beheer")
    text = client.get("/beheer/logboek.csv", params={"gebruiker": "test-tafel"}).text
    beheer = access.Principal("test-beheer", access.Role.BEHEER, None)
    with app.state.sessions() as db:
        # the export's own entry is by test-beheer, so outside this filter
        frame = audit_frame(export_audit(db, beheer, AuditFilter(actor="test-tafel")))
    assert tuple(frame.columns) == AUDIT_COLUMNS
    assert len(frame) >= 1
    assert all(len(t) == len("2026-01-01 00:00:00") for t in frame["tijd_utc"])
    assert _csv_rows(text) == _as_text(_as_sheet(frame))
