"""The printed search: the filters used, with dates as people write them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.wijzer.conftest import login
from tests.wijzer.data import DORDRECHT
from wijzer.rendering import TEMPLATE_DIR, make_templates


@pytest.fixture
def verwijzer(client: TestClient) -> TestClient:
    login(client, "test-verwijzer")
    return client


def _filters(html: str) -> str:
    return html.split('id="zoekfilters"', 1)[1].split("</div>", 1)[0]


def test_printed_filters_show_the_dates_in_dutch(verwijzer: TestClient) -> None:
    html = verwijzer.get(
        "/zoeken",
        params={
            "zorgvorm": "TRAUMATHERAPIE",
            "leeftijd": "9",
            "gemeente": DORDRECHT,
            "uitspraak": "2026-11-01",
            "deadline": "2026-12-10",
        },
    ).text
    printed = _filters(html)
    assert "Datum uitspraak: 1 november 2026" in printed
    assert "Eerdere deadline: 10 december 2026" in printed
    assert "2026-11-01" not in printed
    assert "2026-12-10" not in printed


def test_the_date_filter_reads_iso_text_and_leaves_other_text() -> None:
    nl_date = make_templates().env.filters["nl_date"]
    assert nl_date("2026-12-04") == "4 december 2026"
    assert nl_date(dt.date(2027, 2, 9)) == "9 februari 2027"
    assert nl_date("geen datum") == "geen datum"
    assert nl_date(None) == "onbekend"


# A date-like value printed without the filter: "{{ c.deadline }}", "{{ x.strftime('%d-%m') }}".
RAW_DATE = re.compile(
    r"\{\{[^}|]*(?:deadline|_date|datum|uitspraak|created|_at)\s*\}\}|strftime\(\"%d"
)


def test_no_template_prints_a_raw_date() -> None:
    found = [
        f"{path.relative_to(TEMPLATE_DIR)}: {m.group(0)}"
        for path in sorted(Path(TEMPLATE_DIR).rglob("*.html"))
        for m in RAW_DATE.finditer(path.read_text())
    ]
    assert found == []
