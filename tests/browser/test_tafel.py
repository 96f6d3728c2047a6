"""A table runs a matching in chromium: progress, then the result with an explanation."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    assert_accessible,
    assert_no_console_errors,
    login,
    screenshot,
)
from wijzer.auth import Role


def test_table_run_with_explanation(page: Page, live_server: str) -> None:
    login(page, live_server, Role.TAFEL)
    page.goto(f"{live_server}/tafel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wachtlijst van de tafel")
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "tafel-wachtlijst")
    page.get_by_role("button", name="Matching berekenen").click()
    heading = page.locator("#uitkomst-titel")
    expect(heading).to_be_visible(timeout=60_000)
    expect(heading).to_contain_text("binnen de norm")
    expect(page.get_by_text("Kind K-002 heeft nog geen plek")).to_be_visible()
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "tafel-uitkomst")

    page.get_by_label("Niet hier voor kind K-001").check()
    page.get_by_role("button", name="Opnieuw berekenen").click()
    expect(page.locator("#uitkomst-titel")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="Vergelijk met de vorige berekening").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Twee berekeningen naast elkaar")
    assert_accessible(page)
    screenshot(page, "tafel-vergelijken")

    # Any two runs from the list of earlier runs, by their names.
    page.goto(f"{live_server}/tafel")
    runs = page.locator("#runs-titel + .wijzer-table-wrap tbody tr")
    expect(runs.first).to_be_visible()
    assert runs.count() >= 2  # other browser tests may have added runs of their own
    page.get_by_label("Berekening A").select_option(index=1)
    page.get_by_label("Berekening B").select_option(index=0)
    page.get_by_role("button", name="Vergelijken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Twee berekeningen naast elkaar")
    assert_no_console_errors(page)
