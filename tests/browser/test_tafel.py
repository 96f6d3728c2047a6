"""A table runs a matching in chromium: the list's filters by keyboard, progress, then
the result with an explanation; every page at 1280 and 320 px, and the result on paper."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    assert_accessible,
    assert_no_console_errors,
    assert_reflows,
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
    page.get_by_role("button", name="Matching berekenen").first.click()
    heading = page.locator("#uitkomst-titel")
    expect(heading).to_be_visible(timeout=60_000)
    expect(heading).to_contain_text("binnen de norm")
    expect(page.get_by_text("Kind K-002 heeft nog geen plek")).to_be_visible()
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "tafel-uitkomst")
    assert_reflows(page, "tafel-uitkomst")

    # On paper: the result without navigation, buttons or the pin and forbid boxes.
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_hidden()
    expect(page.get_by_role("button", name="Opnieuw berekenen")).to_be_hidden()
    expect(page.get_by_label("Niet hier voor kind K-001")).to_be_hidden()
    expect(heading).to_be_visible()
    expect(page.get_by_text("Peildatum: 20 november 2026.")).to_be_visible()
    screenshot(page, "tafel-uitkomst-afdruk")
    page.emulate_media(media="screen")

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
    assert_reflows(page, "tafel-vergelijken")


def test_waiting_list_by_keyboard_only(page: Page, live_server: str) -> None:
    login(page, live_server, Role.TAFEL)
    page.goto(f"{live_server}/tafel")
    search = page.get_by_label("Zoek op code van het kind")
    search.focus()
    page.keyboard.type("002")
    page.keyboard.press("Enter")  # submits the filter form
    stand = page.locator("#lijst-stand")
    expect(stand).to_have_text("1 kind past bij het filter. Alle filters wissen")
    boxes = page.locator('input[type="checkbox"][name="kind"]')
    expect(boxes).to_have_count(1)
    page.get_by_role("link", name="Alle filters wissen").first.focus()
    page.keyboard.press("Enter")
    expect(boxes).to_have_count(3)
    none = page.get_by_role("button", name="Niets kiezen")
    none.focus()
    page.keyboard.press("Enter")
    for i in range(3):
        expect(boxes.nth(i)).not_to_be_checked()
    page.get_by_role("button", name="Alles op deze pagina kiezen").focus()
    page.keyboard.press("Space")
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    assert_no_console_errors(page)


def test_child_page_pin_by_keyboard(page: Page, live_server: str) -> None:
    login(page, live_server, Role.TAFEL)
    page.goto(f"{live_server}/tafel")
    page.locator('a[href="/tafel/kind/K-001"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kind K-001")
    assert_reflows(page, "tafel-kind")
    # On paper: the facts and the offerings, without the choice controls.
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_hidden()
    expect(page.locator("#peildatum")).to_have_text("Stand van 20 november 2026.")
    expect(page.get_by_text("Niet vastzetten: de rekenmachine kiest")).to_be_hidden()
    expect(page.get_by_role("button", name="Matching berekenen met deze keuze")).to_be_hidden()
    expect(page.get_by_text("De plek ligt buiten de regio")).to_be_visible()
    screenshot(page, "tafel-kind-afdruk")
    page.emulate_media(media="screen")
    pin = page.get_by_label("Vastzetten bij Hulp Zuid (Dordrecht)")
    pin.focus()
    page.keyboard.press("Space")
    expect(pin).to_be_checked()
    page.get_by_role("button", name="Matching berekenen met deze keuze").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#uitkomst-titel")).to_be_visible(timeout=60_000)
    # The run's name is its heading; what it computed (with the pin) stands below it.
    expect(page.locator("#run-wat")).to_contain_text("1 vastgezet")
    assert_no_console_errors(page)
