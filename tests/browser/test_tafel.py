"""A table runs a matching in chromium: the list's filters by keyboard, progress, then
the result with an explanation; every page at 1280 and 320 px, and the result on paper."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    assert_accessible,
    assert_no_console_errors,
    assert_reflows,
    login,
    screenshot,
)
from tests.wijzer.data import PASSWORD
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
    expect(page.get_by_role("button", name="Niet dit aanbod voor kind K-001")).to_be_hidden()
    expect(page.get_by_role("button", name="Gekozen kinderen aanmelden")).to_be_hidden()
    expect(heading).to_be_visible()
    expect(page.get_by_text("Peildatum: 20 november 2026.")).to_be_visible()
    screenshot(page, "tafel-uitkomst-afdruk")
    page.emulate_media(media="screen")

    page.get_by_role("button", name="Niet dit aanbod voor kind K-001").click()
    expect(page.locator("#keuzes-klaar")).to_contain_text("0 vastgezet, 1 uitgesloten")
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


def _new_run(page: Page, live_server: str) -> None:
    login(page, live_server, Role.TAFEL)
    page.goto(f"{live_server}/tafel")
    page.get_by_role("button", name="Matching berekenen").first.click()
    expect(page.locator("#uitkomst-titel")).to_be_visible(timeout=60_000)


def test_run_row_pin_by_keyboard(page: Page, live_server: str) -> None:
    _new_run(page, live_server)
    # The row's own controls fit at 1280 and at 320 px without scrolling sideways.
    assert_reflows(page, "tafel-uitkomst-keuzes")
    page.set_viewport_size({"width": 320, "height": 900})
    pin = page.get_by_role("button", name="Vastzetten voor kind K-001")
    pin.focus()
    page.keyboard.press("Enter")
    # Back on the same run, at the row: focus is on it and it says what will happen.
    row = page.locator("tr", has=page.get_by_role("rowheader", name="K-001", exact=True))
    expect(row).to_be_focused()
    expect(row).to_contain_text("Volgende berekening: vast bij")
    expect(page.locator("#keuzes-klaar")).to_contain_text("1 vastgezet, 0 uitgesloten")
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], sizes
    screenshot(page, "tafel-uitkomst-vastgezet-320")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page)
    page.get_by_role("button", name="Opnieuw berekenen").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#uitkomst-titel")).to_be_visible(timeout=60_000)
    expect(page.locator("#run-wat")).to_contain_text("1 vastgezet")
    assert_no_console_errors(page)


def test_run_table_sorts_by_its_headers(page: Page, live_server: str) -> None:
    _new_run(page, live_server)
    page.get_by_role("link", name="Kind (sorteer oplopend)").click()
    header = page.get_by_role("columnheader", name=re.compile(r"^Kind \("))
    expect(header).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name="Kind (sorteer aflopend)").focus()
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "descending")
    refs = page.locator("tbody th.wijzer-ref").all_inner_texts()
    assert refs == sorted(refs, reverse=True)
    assert_reflows(page, "tafel-uitkomst-gesorteerd")
    # On a phone the headers that sort stay, as a row of links above the rows.
    page.set_viewport_size({"width": 320, "height": 900})
    expect(page.get_by_role("link", name="Hulp (sorteer oplopend)")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/tafel?sorteer=kind&volgorde=aflopend")
    expect(header).to_have_attribute("aria-sort", "descending")
    assert_reflows(page, "tafel-wachtlijst-gesorteerd")


def test_aanmelden_from_the_proposal(page: Page, live_server: str) -> None:
    _new_run(page, live_server)
    run = page.url
    boxes = page.locator('input[type="checkbox"][name="aanmelden"]')
    expect(boxes.first).to_be_visible()
    page.get_by_role("button", name="Alles selecteren").click()
    for i in range(boxes.count()):
        expect(boxes.nth(i)).to_be_checked()
    page.get_by_role("button", name="Gekozen kinderen aanmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden bij het voorstel")
    sent = page.locator("#verstuurd + ul")
    expect(sent).to_contain_text("Kind K-001")
    expect(sent.get_by_role("link", name="Bekijk de aanmelding van kind K-001")).to_be_visible()
    assert_accessible(page)
    assert_reflows(page, "tafel-aanmelden")
    # Once more for K-001: its need has an active aanmelding now, so none is sent.
    page.goto(run)
    page.get_by_label("Kind K-001 aanmelden bij").check()
    page.get_by_role("button", name="Gekozen kinderen aanmelden").click()
    expect(page.locator("#aanmelden-stand")).to_contain_text("0 aanmeldingen verstuurd")
    expect(page.locator("#niet-verstuurd + ul")).to_contain_text(
        "er loopt al een aanmelding voor deze hulpvraag"
    )
    assert_no_console_errors(page)


def test_run_row_pin_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/inloggen")
    page.get_by_label("Gebruikersnaam").fill("test-tafel")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live_server}/tafel")
    page.get_by_role("button", name="Matching berekenen").first.click()
    heading = page.locator("#uitkomst-titel")
    for _ in range(60):  # without JavaScript the page does not poll: reload by hand
        if heading.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(heading).to_be_visible()
    page.get_by_role("button", name="Vastzetten voor kind K-003").click()
    assert page.url.endswith("#rij-K-003-1"), page.url
    row = page.locator("tr", has=page.get_by_role("rowheader", name="K-003", exact=True))
    expect(row).to_contain_text("Volgende berekening: vast bij")
    context.close()
