"""A verwijzer searches in chromium: with htmx (focus moves to the results) and without JS."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    SCREENSHOTS,
    assert_accessible,
    assert_no_console_errors,
    login,
    screenshot,
)
from tests.wijzer.data import PASSWORD
from wijzer.auth import Role


def _fill(page: Page) -> None:
    page.get_by_label("Welke hulp?").select_option("TRAUMATHERAPIE")
    page.get_by_label("Leeftijd (jaren)").fill("9")
    page.get_by_label("Gemeente die betaalt").select_option("GM0505")
    page.get_by_label("Datum uitspraak (niet verplicht)").fill("2026-11-01")


def test_search_with_htmx_moves_focus_to_results(page: Page, live_server: str) -> None:
    login(page, live_server, Role.VERWIJZER)
    page.goto(f"{live_server}/zoeken")
    screenshot(page, "zoeken-leeg")
    _fill(page)
    page.get_by_label("Laat ook aanbod zien dat niet past, met de reden").check()
    page.get_by_role("button", name="Zoeken").click()
    heading = page.locator("#resultaten-titel")
    expect(heading).to_have_text("2 aanbiedingen passen")
    expect(heading).to_be_focused()
    # The URL follows the search, so it can be bookmarked and shared.
    assert "zorgvorm=TRAUMATHERAPIE" in page.url
    table = page.get_by_role("table").first
    expect(table).to_contain_text("Hulp Zuid")
    expect(table).to_contain_text("Via hoofdaannemer Hulp Zuid")
    expect(table).to_contain_text("Verouderd")
    # The simulated start with its 80 % interval and the chance of missing the deadline.
    expect(table).to_contain_text("Voorspelde start")
    expect(table).to_contain_text("8 van de 10 keer tussen")
    expect(table).to_contain_text("Kans te laat")
    reason = page.get_by_text(
        "Er is een opnamestop: de aanbieder neemt nu geen nieuwe kinderen aan", exact=True
    ).first
    expect(reason).to_be_visible()
    # Checked before axe runs: axe itself sets inline styles while it measures.
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "zoeken-resultaten")


def test_search_errors_focus_the_summary(page: Page, live_server: str) -> None:
    login(page, live_server, Role.VERWIJZER)
    page.goto(f"{live_server}/zoeken")
    page.get_by_label("Leeftijd (jaren)").fill("99")
    page.get_by_role("button", name="Zoeken").click()
    summary = page.locator(".wijzer-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Kies welke hulp het kind nodig heeft.")
    summary.get_by_role("link", name="Vul een leeftijd in van 0 tot en met 23 jaar.").click()
    expect(page.locator("#veld-leeftijd")).to_be_focused()
    assert_accessible(page)
    screenshot(page, "zoeken-fouten")


def test_search_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/inloggen")
    page.get_by_label("Gebruikersnaam").fill("test-verwijzer")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live_server}/zoeken")
    _fill(page)
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("#resultaten-titel")).to_have_text("2 aanbiedingen passen")
    # The page the server sent back keeps what was chosen, so a search can be changed.
    expect(page.get_by_label("Welke hulp?")).to_have_value("TRAUMATHERAPIE")
    expect(page.get_by_label("Gemeente die betaalt")).to_have_value("GM0505")
    expect(page.get_by_label("Leeftijd (jaren)")).to_have_value("9")
    context.close()


def test_search_results_print_without_navigation_or_form(page: Page, live_server: str) -> None:
    login(page, live_server, Role.VERWIJZER)
    page.goto(f"{live_server}/zoeken")
    _fill(page)
    page.get_by_label("Laat ook aanbod zien dat niet past, met de reden").check()
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("#resultaten-titel")).to_be_focused()
    filters = page.locator("#zoekfilters")
    expect(filters).to_be_hidden()  # on screen the form itself shows the filters
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_hidden()
    expect(page.locator("header.wijzer-header")).to_be_hidden()
    expect(page.locator("form[action='/zoeken']")).to_be_hidden()
    expect(page.get_by_role("button", name="Zoeken")).to_be_hidden()
    expect(page.locator("#zoekdatum")).to_have_text("Gezocht op 20 november 2026.")
    expect(page.locator("#zoekdatum")).to_be_visible()
    expect(filters).to_be_visible()
    expect(filters).to_contain_text("Hulp: Traumatherapie")
    expect(filters).to_contain_text("Leeftijd: 9 jaar")
    expect(filters).to_contain_text("Gemeente die betaalt: Dordrecht")
    expect(filters).to_contain_text("Datum uitspraak: 1 november 2026")
    expect(filters).not_to_contain_text("2026-11-01")
    expect(filters).to_contain_text("Aanbod dat niet past: met de reden getoond")
    expect(page.get_by_role("table").first).to_contain_text("Hulp Zuid")
    screenshot(page, "zoeken-afdruk")
    page.pdf(path=str(SCREENSHOTS / "zoeken-afdruk.pdf"))
