"""WCAG 1.4.10 reflow: every page, for every role that may open it, at 1280 and 320 CSS px
never scrolls sideways and has no serious axe violation; screenshots of both widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import assert_no_console_errors, assert_reflows, login, screenshot
from tests.wijzer.data import PASSWORD
from wijzer.auth import Role

V, A, T, IK, B = Role.VERWIJZER, Role.AANBIEDER, Role.TAFEL, Role.INKOOP, Role.BEHEER

SEARCH = (
    "/zoeken?zorgvorm=TRAUMATHERAPIE&leeftijd=9&gemeente=GM0505&uitspraak=2026-11-01"
    "&ook_niet_passend=1"
)

# (name, path, roles that may open it); pages that need a run or a form post are
# checked where those are made (test_tafel, test_zoeken, test_inkoop_scenario).
PAGES: list[tuple[str, str, tuple[Role, ...]]] = [
    ("start", "/", (V, A, T, IK, B)),
    ("toegankelijkheid", "/toegankelijkheid", (V, B)),
    ("zoeken-leeg", "/zoeken", (V, T, B)),
    ("zoeken-uitkomst", SEARCH, (V, T, B)),
    ("tafel-wachtlijst", "/tafel", (T, B)),
    ("inkoop", "/inkoop", (IK, B)),
    ("aanbieder-lijst", "/aanbieder", (A, B)),
    ("rapportage", "/rapportage", (T, IK, B)),
    ("fout-404", "/bestaat-niet", (V, T)),
    ("fout-403", "/inkoop", (V, A)),
]


CASES = [
    pytest.param(name, path, role, id=f"{name}-{role.value}")
    for name, path, roles in PAGES
    for role in roles
]


@pytest.mark.parametrize(("name", "path", "role"), CASES)
def test_page_reflows(page: Page, live_server: str, name: str, path: str, role: Role) -> None:
    login(page, live_server, role)
    response = page.goto(f"{live_server}{path}")
    assert response is not None
    assert response.status == (int(name[-3:]) if name.startswith("fout") else 200)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_reflows(page, f"{name}-{role.value}")
    assert_no_console_errors(page, allow=("403", "404"))


def test_login_page_reflows(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/inloggen")
    assert_reflows(page, "inloggen")


def test_offering_edit_reflows(page: Page, live_server: str, ids: dict[str, int]) -> None:
    for role in (A, B):
        login(page, live_server, role)
        page.goto(f"{live_server}/aanbieder/aanbod/{ids['offering:oud']}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Traumatherapie")
        assert_reflows(page, f"aanbieder-wijzigen-{role.value}")
        page.context.clear_cookies()


def test_error_page_without_sign_in_reflows(page: Page, live_server: str) -> None:
    response = page.goto(f"{live_server}/bestaat-niet")
    assert response is not None
    assert response.status == 404
    assert_reflows(page, "fout-404-anoniem")


def test_search_results_reflow_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/inloggen")
    page.get_by_label("Gebruikersnaam").fill(f"test-{V.value}")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live_server}{SEARCH}")
    expect(page.locator("#resultaten-titel")).to_have_text("2 aanbiedingen passen")
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner
    # The stacked cells carry their column name from the template, not from the script.
    cell = page.locator("table").first.locator("tbody tr").first.locator("td").first
    expect(cell).to_have_attribute("data-label", "Plaats")
    screenshot(page, "zoeken-uitkomst-zonder-js-320")
    context.close()
