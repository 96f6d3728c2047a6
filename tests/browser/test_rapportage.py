"""Rapportage in chromium: stock and inflow/outflow per month from two stored momentopnames."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from providers.store import access
from providers.store.engine import make_engine, session_factory
from providers.store.uitvraag import take_snapshot
from tests.browser.conftest import (
    assert_accessible,
    assert_no_console_errors,
    login,
    screenshot,
)
from tests.wijzer.data import REGION
from wijzer.auth import Role


def test_report_with_monthly_flow(
    page: Page, live_server: str, browser_db: tuple[str, dict[str, int]]
) -> None:
    engine = make_engine(browser_db[0])
    tafel = access.Principal("test-tafel", Role.TAFEL, None, region_code=REGION)
    with session_factory(engine).begin() as db:
        take_snapshot(db, tafel, count_date=dt.date(2026, 9, 30))
        take_snapshot(db, tafel, count_date=dt.date(2026, 10, 31))
    engine.dispose()
    login(page, live_server, Role.TAFEL)
    page.goto(f"{live_server}/rapportage")
    expect(page.get_by_text("Norm van de inspectie:")).to_be_visible()
    flow = page.get_by_role("region", name="Voorraad, instroom en uitstroom per maand")
    expect(flow).to_contain_text("30 september 2026 tot 31 oktober 2026")
    expect(flow.get_by_role("columnheader", name="Voorraad eind")).to_be_visible()
    expect(page.get_by_role("link", name="voorraad en stroom als Excel (XLSX)")).to_be_visible()
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "rapportage-stroom")
