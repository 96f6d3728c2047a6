"""Inkoop: aggregates only, small cells suppressed, every chart also a table."""

from __future__ import annotations

import datetime as dt
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from providers.store.models import Child, ChildNeed
from tests.wijzer.conftest import login
from tests.wijzer.data import CARE, DORDRECHT, REGION, ZWIJNDRECHT

OTHER = "GEZINSHUIS"

ALBLASSERDAM = "GM0482"


def _add_children(app: FastAPI, n: int, gemeente: str = DORDRECHT) -> None:
    with app.state.sessions.begin() as s:
        for i in range(n):
            s.add(
                Child(
                    ref=f"K-EXTRA-{gemeente}-{i}",
                    gemeente_code=gemeente,
                    region_code=REGION,
                    birth_month="2015-01",
                    gi="WSS",
                    measure="OTS",
                    ruling_date=dt.date(2026, 10, 1),
                    needs=[ChildNeed(seq=1, care_type=CARE)],
                )
            )


def test_small_region_shows_nothing_identifying(client: TestClient) -> None:
    login(client, "test-inkoop")
    html = client.get("/inkoop").text
    assert "K-00" not in html
    # Three waiting children in the region: every cell and the total are suppressed.
    assert "Wachtende kinderen in totaal: minder dan 5" in html
    assert "<svg" not in html


def test_counts_chart_and_table_agree(client: TestClient, app: FastAPI) -> None:
    # Dordrecht 2 + 18 = 20, Zwijndrecht 1 + 11 = 12, Alblasserdam 2 (suppressed).
    _add_children(app, 18)
    _add_children(app, 11, ZWIJNDRECHT)
    _add_children(app, 2, ALBLASSERDAM)
    login(client, "test-inkoop")
    html = client.get("/inkoop").text
    assert "K-EXTRA" not in html
    assert "Wachtende kinderen in totaal: 34" in html
    assert re.search(r'scope="col"[^>]*>Wachtende kinderen</th>', html)
    table = html.split('id="tabel-gemeente"')[1].split("</table>")[0]
    assert re.search(r">Dordrecht</th><td[^>]*>20</td>", table)
    assert re.search(r">Alblasserdam</th><td[^>]*>verborgen</td>", table)
    # 34 - 20 - 12 would give Alblasserdam's 2: Zwijndrecht is hidden as well.
    assert re.search(r">Zwijndrecht</th><td[^>]*>verborgen</td>", table)
    chart = html.split('id="grafiek-gemeente-titel"')[1].split("</svg>")[0]
    assert ">Dordrecht</text>" in chart
    assert ">20</text>" in chart
    assert "Zwijndrecht" not in chart
    assert "Alblasserdam" not in chart
    assert 'role="img"' in html


def test_one_hidden_cell_never_follows_from_the_total(client: TestClient, app: FastAPI) -> None:
    # Dordrecht 8, Zwijndrecht 1 (small), total 9: Dordrecht must go too.
    _add_children(app, 6)
    login(client, "test-inkoop")
    html = client.get("/inkoop").text
    table = html.split('id="tabel-gemeente"')[1].split("</table>")[0]
    assert "Wachtende kinderen in totaal: 9" in html
    assert re.search(r">Dordrecht</th><td[^>]*>verborgen</td>", table)
    assert re.search(r">Zwijndrecht</th><td[^>]*>verborgen</td>", table)


def test_chart_scales_to_the_largest_bar() -> None:
    from wijzer.views.inkoop import CHART_WIDTH, LABEL_WIDTH, Cell, chart_of

    cells = [
        Cell(key="a", label="A", count=10, suppressed=False),
        Cell(key="b", label="B", count=5, suppressed=False),
        Cell(key="c", label="C", count=None, suppressed=True),
    ]
    chart = chart_of("t", cells)
    assert [b.label for b in chart.bars] == ["A", "B"]
    full = CHART_WIDTH - LABEL_WIDTH - 40
    assert chart.bars[0].width == full
    assert chart.bars[1].width == full // 2


def test_api_has_the_same_numbers(client: TestClient, app: FastAPI) -> None:
    _add_children(app, 18)
    _add_children(app, 11, ZWIJNDRECHT)
    _add_children(app, 2, ALBLASSERDAM)
    login(client, "test-inkoop")
    body = client.get("/api/v1/inkoop/wachtenden").json()
    by_gemeente = next(b for b in body["breakdowns"] if b["by"] == "gemeente")
    cells = {c["label"]: c["count"] for c in by_gemeente["cells"]}
    assert cells == {"Dordrecht": 20, "Zwijndrecht": None, "Alblasserdam": None}
    assert "K-EXTRA" not in str(body)


def test_a_child_waiting_for_two_care_types_counts_in_both_cells_and_once_in_total(
    client: TestClient, app: FastAPI
) -> None:
    login(client, "test-inkoop")
    before = client.get("/api/v1/inkoop/wachtenden").json()
    with app.state.sessions.begin() as s:
        for i in range(10):
            s.add(
                Child(
                    ref=f"K-TWEE-{i}",
                    gemeente_code=DORDRECHT,
                    region_code=REGION,
                    birth_month="2015-01",
                    gi="WSS",
                    measure="OTS",
                    ruling_date=dt.date(2026, 10, 1),
                    needs=[ChildNeed(seq=1, care_type=CARE), ChildNeed(seq=2, care_type=OTHER)],
                )
            )
    after = client.get("/api/v1/inkoop/wachtenden").json()
    by = {b["by"]: b for b in after["breakdowns"]}
    assert by["zorgvorm"]["counts"] == by["gemeente"]["counts"] == "Wachtende kinderen"
    assert "telt bij allebei mee" in by["zorgvorm"]["overlap_note"]
    assert by["zorgvorm"]["total"] == by["gemeente"]["total"] == 13
    cells = {c["key"]: c["count"] for c in by["zorgvorm"]["cells"]}
    # The seed's three children wait for CARE; the ten new ones count in both cells.
    assert cells == {CARE: 13, OTHER: 10}
    assert before["breakdowns"][0]["total"] is None  # three children: a small cell
