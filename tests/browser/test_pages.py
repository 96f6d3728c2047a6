"""Every page in chromium: it renders, axe finds nothing serious, no CSP or script errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    assert_accessible,
    assert_no_console_errors,
    login,
    screenshot,
)
from wijzer.auth import Role


def test_login_page(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/inloggen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    assert_accessible(page)
    screenshot(page, "inloggen")
    assert_no_console_errors(page)


def test_login_error_summary_gets_focus_and_links_to_fields(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/inloggen")
    page.get_by_role("button", name="Inloggen").click()
    summary = page.locator(".wijzer-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Vul uw wachtwoord in.").click()
    expect(page.locator("#veld-wachtwoord")).to_be_focused()
    assert_accessible(page)
    screenshot(page, "inloggen-fout")


def test_skip_link_moves_to_content(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/inloggen")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de inhoud")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#inhoud")).to_be_focused()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_start_page_per_role(page: Page, live_server: str, role: Role) -> None:
    login(page, live_server, role)
    page.goto(f"{live_server}/")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"start-{role.value}")
    assert_no_console_errors(page)


def test_works_without_javascript(browser, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(f"{live_server}/inloggen")
    pg.get_by_label("Gebruikersnaam").fill("test-verwijzer")
    pg.get_by_label("Wachtwoord").fill("correct paard batterij niet")
    pg.get_by_role("button", name="Inloggen").click()
    expect(pg.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()
    context.close()


def test_inkoop_overview(page: Page, live_server: str) -> None:
    login(page, live_server, Role.INKOOP)
    page.goto(f"{live_server}/inkoop")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wie wacht op welke hulp")
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "inkoop")


def test_rapportage(page: Page, live_server: str) -> None:
    login(page, live_server, Role.TAFEL)
    page.goto(f"{live_server}/rapportage")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uniforme uitvraag")
    expect(page.get_by_text("Norm van de inspectie:")).to_be_visible()
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "rapportage")
