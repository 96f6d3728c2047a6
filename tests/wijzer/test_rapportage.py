"""Rapportage: the uniforme uitvraag as a momentopname, definition always shown."""

from __future__ import annotations

import csv
import io

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from providers.store.models import AuditEntry
from tests.wijzer.conftest import login


def test_tafel_sees_its_region_with_definitions(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    assert "Momentopname van 20 november 2026" in html
    assert "3 wachtende kinderen" in html
    assert "K-004" not in html
    assert "Norm van de inspectie:" in html
    assert "binnen 3 maanden na de uitspraak" in html
    assert "nog geen twee momentopnames bewaard" in html


def test_obstacles_only_when_nothing_fits(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    k1 = html.split(">K-001</th>")[1].split("</tr>")[0]
    assert "Er is passend aanbod" in k1
    k2 = html.split(">K-002</th>")[1].split("</tr>")[0]
    assert "Er is passend aanbod" not in k2
    assert "contra-indicatie" in k2.lower()
    # Deadline 1 December 2026 (ruling 1 September), counted on 20 November.
    assert "1 december 2026" in k2
    assert ">80</td>" in k2


def test_per_gemeente_sections(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    table = html.split('id="per-gemeente"')[1].split("</table>")[0]
    assert ">Dordrecht</th>" in table
    assert ">Zwijndrecht</th>" in table


def test_inkoop_gets_no_rows_per_child(client: TestClient) -> None:
    login(client, "test-inkoop")
    html = client.get("/rapportage").text
    assert "Inkoop ziet alleen totalen" in html
    assert "K-00" not in html
    assert client.get("/rapportage/uitvraag.csv").status_code == 403


def test_export_is_audited(client: TestClient, app: FastAPI) -> None:
    login(client, "test-tafel")
    response = client.get("/rapportage/uitvraag.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "kind"
    assert sorted(r[0] for r in rows[1:]) == ["K-001", "K-002", "K-003"]
    with app.state.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "uitvraag")).all()
    assert [a.action for a in audit] == ["export"]
    assert client.get("/rapportage/uitvraag.pdf").status_code == 404


def test_xlsx_exports_hold_their_sheets(client: TestClient) -> None:
    """The uitvraag workbook holds the children, the stock and flow and the outcomes
    per group; the
    stock-and-flow download holds that sheet alone; the CSV starts with a BOM."""
    from openpyxl import load_workbook

    login(client, "test-tafel")
    response = client.get("/rapportage/uitvraag.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="uitvraag-' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["uitvraag", "voorraad_en_stroom", "uitkomst_per_groep"]
    kids = sorted(row[0] for row in book["uitvraag"].iter_rows(min_row=2, values_only=True))
    assert kids == ["K-001", "K-002", "K-003"]
    flow = client.get("/rapportage/stroom.xlsx")
    assert flow.status_code == 200
    assert load_workbook(io.BytesIO(flow.content), read_only=True).sheetnames == [
        "voorraad_en_stroom"
    ]
    assert client.get("/rapportage/stroom.csv").content.startswith(b"\xef\xbb\xbf")


def test_monthly_snapshots_give_stock_and_flow(app: FastAPI, client: TestClient) -> None:
    import datetime as dt

    import pytest

    from providers.store import access
    from providers.store.models import Child, ChildNeed
    from providers.store.uitvraag import monthly_flows, take_snapshot
    from tests.wijzer.data import CARE, DORDRECHT, REGION

    tafel = access.Principal("test-tafel", access.Role.TAFEL, None, region_code=REGION)
    with app.state.sessions.begin() as db:
        first = take_snapshot(db, tafel, count_date=dt.date(2026, 10, 31))
    assert first.waiting == 3  # K-001..K-003; K-004 is in another region
    with app.state.sessions.begin() as db:
        # K-001 starts; K-005 gets a new measure; K-006 waited already but is newly reported.
        k1 = db.scalar(select(Child).where(Child.ref == "K-001"))
        k1.status, k1.placed_at = "geplaatst", dt.date(2026, 11, 10)
        for ref, ruling in (("K-005", dt.date(2026, 11, 5)), ("K-006", dt.date(2026, 9, 15))):
            db.add(
                Child(
                    ref=ref,
                    gemeente_code=DORDRECHT,
                    region_code=REGION,
                    birth_month="2016-01",
                    gi="WSS",
                    measure="OTS",
                    ruling_date=ruling,
                    attributes="",
                    needs=[ChildNeed(seq=1, care_type=CARE)],
                )
            )
        db.flush()
        take_snapshot(db, tafel, count_date=dt.date(2026, 11, 30))
    with app.state.sessions() as db:
        ((since, flow),) = monthly_flows(db, tafel)
    assert since == dt.date(2026, 10, 31)
    assert (flow.stock_start, flow.stock_end) == (3, 4)
    assert (flow.inflow_new_measures, flow.inflow_newly_reported) == (1, 1)
    assert flow.outflow == {"STARTED": 1}
    assert flow.balanced

    login(client, "test-tafel")
    html = client.get("/rapportage").text
    assert "Voorraad, instroom en uitstroom per maand" in html
    assert "31 oktober 2026 tot 30 november 2026" in html
    api = client.get("/api/v1/rapportage/uitvraag").json()
    assert api["flows"][0]["started"] == 1
    assert api["flows"][0]["stock_end"] == 4
    assert "binnen 3 maanden" in api["definitions"]["inspection"]
    csv_text = client.get("/rapportage/stroom.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text), delimiter=";"))
    assert rows[1][2] == "3"
    assert rows[1][-2] == "4"

    # Inkoop and a table of another region take no snapshots.
    with app.state.sessions.begin() as db, pytest.raises(access.AccessDenied):
        take_snapshot(
            db,
            access.Principal("x", access.Role.INKOOP, None, region_code=REGION),
            count_date=dt.date(2026, 11, 30),
        )
    with app.state.sessions.begin() as db, pytest.raises(access.AccessDenied):
        monthly_flows(db, tafel, region_code="JZ22")


def test_without_two_snapshots_the_page_says_so(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    assert "nog geen twee momentopnames bewaard" in html
    assert client.get("/api/v1/rapportage/uitvraag").json()["flows"] == []


def test_the_decisive_reason_leads_with_every_obstacle_as_detail(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    k2 = html.split(">K-002</th>")[1].split("</tr>")[0]
    assert "Doorslaggevend:" in k2
    decisive, detail = k2.split("<details", 1)
    # the one reason the tafel run names (the wait at the one offering that would
    # otherwise fit); the contra-indication elsewhere is detail
    assert "na de uiterste datum" in decisive
    assert "contra-indicatie" not in decisive.lower()
    assert "contra-indicatie" in detail.lower()
    got = client.get("/rapportage/uitvraag.csv")
    rows = list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff")), delimiter=";"))
    k2_row = next(r for r in rows if r["kind"] == "K-002")
    assert k2_row["doorslaggevend"].startswith("Doorslaggevend:")
