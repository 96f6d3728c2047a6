"""WCAG 1.4.10 reflow and axe for the pages where meldingen get an e-mail address,
also with an error on one row."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_no_console_errors, assert_reflows, login
from wijzer.auth import Role


def test_beheer_organisations_reflow_with_an_error(page: Page, live_server: str) -> None:
    login(page, live_server, Role.BEHEER)
    page.goto(f"{live_server}/beheer/organisaties")
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisaties")
    assert_reflows(page, "beheer-organisaties")
    page.locator('input[name="email"]').first.fill("geen adres")
    page.get_by_role("button", name="Opslaan").first.click()
    expect(page.get_by_role("alert")).to_contain_text("Vul een geldig e-mailadres in")
    assert_reflows(page, "beheer-organisaties-fout")
    assert_no_console_errors(page, allow=("422",))


def test_own_organisation_reflows(page: Page, live_server: str) -> None:
    login(page, live_server, Role.AANBIEDER)
    page.goto(f"{live_server}/aanbieder/organisatie")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meldingen per e-mail")
    assert_reflows(page, "aanbieder-organisatie")
    assert_no_console_errors(page)
