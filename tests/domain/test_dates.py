"""One date format for people: "4 december 2026" in sentences, pages and the CLI."""

from __future__ import annotations

import re
from datetime import date

from matcher.domain.dates import date_text
from matcher.domain.explain import explain, sentences
from matcher.domain.match import match
from wijzer.rendering import _nl_date

from .conftest import scenario

NUMERIC_DATE = re.compile(r"\b\d{1,2}-\d{1,2}-\d{4}\b")


def test_a_date_is_day_month_name_year() -> None:
    assert date_text(date(2026, 12, 4)) == "4 december 2026"
    assert date_text(date(2027, 2, 9)) == "9 februari 2027"
    assert date_text(date(2022, 1, 1)) == "1 januari 2022"


def test_the_web_app_writes_dates_the_same_way() -> None:
    for d in (date(2026, 12, 4), date(2027, 2, 9), date(2025, 5, 31)):
        assert _nl_date(d) == date_text(d)
    assert _nl_date(None) == "onbekend"


def test_a_late_change_says_its_start_in_words() -> None:
    r = match(scenario("u5_overdue_late.json"))
    ne = next(n for n in explain(r).needs if n.child_ref == "D")
    ch = ne.smallest_change
    assert ch is not None
    assert ch.start is not None
    last = sentences(ne)[-1]
    assert f"op {date_text(ch.start)}, maar dat is te laat" in last
    assert not NUMERIC_DATE.search(last)
