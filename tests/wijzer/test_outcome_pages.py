"""Outcomes per group on the tafel run page and in its export."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.wijzer.conftest import login
from tests.wijzer.test_tafel import _run


@pytest.fixture
def tafel(client: TestClient) -> TestClient:
    login(client, "test-tafel")
    return client


def test_run_page_shows_outcomes_per_group_for_both_methods(tafel: TestClient) -> None:
    location = _run(tafel, ["K-001", "K-002", "K-003"])
    html = tafel.get(location).text
    section = html.split('id="groepen-titel"')[1]
    assert "Uitkomst per groep" in html
    for label in ("Gemeente", "Leeftijd", "Maatregel", "Zorgvorm", "Met de matching"):
        assert label in section
    assert "Wie het eerst komt" in section
    assert "minstens 5 kinderen" in section
    rows = list(
        csv.reader(
            io.StringIO(tafel.get(f"{location}/uitkomst-per-groep.csv").text.lstrip("\ufeff")),
            delimiter=";",
        )
    )
    header = rows[0]
    assert header[:4] == ["dimensie", "groep", "kinderen", "nog_niet_bepaald"]
    by_dim: dict[str, int] = {}
    for r in rows[1:]:
        by_dim[r[0]] = by_dim.get(r[0], 0) + int(r[2])
    # three waiting children, each once in every dimension but the care type
    assert by_dim["Maatregel"] == 3
    assert by_dim["Leeftijd"] == 3
    within = header.index("binnen_norm_matching")
    assert sum(int(r[within]) for r in rows[1:] if r[0] == "Maatregel") == 2
    xlsx = load_workbook(io.BytesIO(tafel.get(f"{location}/besluitenlijst.xlsx").content))
    assert xlsx.sheetnames == ["besluitenlijst", "uitkomst_per_groep"]
    assert xlsx["uitkomst_per_groep"]["A1"].value == "dimensie"


def test_inkoop_scenario_shows_outcomes_per_group_with_small_cells_hidden(
    client: TestClient,
) -> None:
    from tests.wijzer.data import CARE, REGION
    from tests.wijzer.test_inkoop_scenario import _start, _wait

    login(client, "test-inkoop")
    response = _start(client, zorgvorm_1=CARE, regio_1=REGION, plekken_1="3")
    url = response.headers["location"]
    _wait(client, url.rsplit("/", 1)[1])
    html = client.get(url).text
    section = html.split('id="titel-groepen"')[1]
    assert "Wie het eerst komt" in section
    assert "K-00" not in section
    # three waiting children: every group is a small cell
    assert "verborgen" in section
    xlsx = load_workbook(io.BytesIO(client.get(f"{url}/totalen.xlsx").content))
    assert xlsx.sheetnames == ["totalen", "uitkomst_per_groep"]
    sheet = xlsx["uitkomst_per_groep"]
    header = [c.value for c in sheet[1]]
    kids = header.index("kinderen")
    assert sheet.max_row > 1
    assert all(row[kids].value in (None, "") for row in sheet.iter_rows(min_row=2))


def test_report_page_and_workbook_show_outcomes_per_group(client: TestClient) -> None:
    login(client, "test-tafel")
    html = client.get("/rapportage").text
    section = html.split('id="groepen-titel"')[1]
    assert "Met de matching" in section
    assert "Wie het eerst komt" in section
    book = load_workbook(io.BytesIO(client.get("/rapportage/uitvraag.xlsx").content))
    sheet = book["uitkomst_per_groep"]
    header = [c.value for c in sheet[1]]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    measure = [r for r in rows if r[0] == "Maatregel"]
    assert sum(int(r[header.index("kinderen")]) for r in measure) == 3


def test_inkoop_sees_no_outcomes_per_child_on_the_report(client: TestClient) -> None:
    login(client, "test-inkoop")
    assert 'id="groepen-titel"' not in client.get("/rapportage").text


def test_a_group_floor_on_a_rerun_shows_what_it_costs(tafel: TestClient) -> None:
    from tests.wijzer.conftest import csrf_from
    from tests.wijzer.test_tafel import _wait

    location = _run(tafel, ["K-001", "K-002", "K-003"])
    page = tafel.get(location).text
    assert 'name="ondergrens_groep"' in page
    token = csrf_from(page)
    response = tafel.post(
        f"{location}/opnieuw",
        data={"csrf_token": token, "ondergrens_groep": "gemeente", "ondergrens_procent": "50"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    html = tafel.get(_wait(tafel, response.headers["location"])).text
    # K-002 (Zwijndrecht) cannot start in time anywhere: a floor of 50% per gemeente
    # cannot be met, and the page says so
    assert "ondergrens van 50% per groep (gemeente) is niet haalbaar" in html
    bad = tafel.post(
        f"{location}/opnieuw",
        data={"csrf_token": token, "ondergrens_groep": "gemeente", "ondergrens_procent": "200"},
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert "heel getal van 1 tot en met 100" in bad.text


def test_inkoop_may_ask_for_a_group_floor(client: TestClient) -> None:
    from tests.wijzer.test_inkoop_scenario import _start, _wait

    login(client, "test-inkoop")
    bad = _start(client, ondergrens_groep="gemeente", ondergrens_procent="0")
    assert bad.status_code == 422
    assert "heel getal van 1 tot en met 100" in bad.text
    # a floor alone is a scenario: what would it cost?
    response = _start(client, ondergrens_groep="gemeente", ondergrens_procent="50")
    assert response.status_code == 303
    url = response.headers["location"]
    body = _wait(client, url.rsplit("/", 1)[1])
    assert body["params"]["floor_dimension"] == "gemeente"
    html = client.get(url).text
    assert "Ondergrens: bij gemeente krijgt elke groep minstens 50%" in html
    # the child in Zwijndrecht cannot start in time anywhere
    assert "per groep (gemeente) is niet haalbaar" in html
    assert "K-00" not in html
