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
    assert "Instroom en uitstroom over de maand ontbreken nog" in html


def test_obstacles_only_when_nothing_fits(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    k1 = html.split(">K-001</th>")[1].split("</tr>")[0]
    assert "Er is passend aanbod" in k1
    k2 = html.split(">K-002</th>")[1].split("</tr>")[0]
    assert "Er is passend aanbod" not in k2
    assert "contra-indicatie" in k2.lower()
    # Deadline 1 December 2026 (ruling 1 September), counted on 20 November.
    assert "2026-12-01" in k2
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
