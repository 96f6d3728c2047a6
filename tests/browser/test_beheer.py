"""The beheer, upload and account pages in chromium: at 1280 and 320 CSS px no sideways
scrolling and no serious axe finding; an upload done with the keyboard only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from providers.io import export_tables
from providers.store.access import Principal
from providers.store.dump import load_records
from providers.store.engine import make_engine, session_factory
from tests.browser.conftest import assert_accessible, assert_no_console_errors, login, screenshot
from tests.wijzer.data import TODAY
from wijzer.auth import Role

WIDTHS = (1280, 320)
# The shared page header is wider than 320 px on every page (issue 16 item 6), and the
# page body is a grid, so it widens the whole column. The page's own content is measured
# with the header set aside for a moment (through the CSSOM, which the CSP allows).
CONTENT_FITS = """() => {
    const header = document.querySelector('header');
    header.style.display = 'none';
    const fits = document.documentElement.scrollWidth <= window.innerWidth;
    const wide = document.documentElement.scrollWidth;
    header.style.display = '';
    return [fits, wide];
}"""
DOCUMENT_FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def assert_reflows(page: Page, name: str) -> None:
    """At each width: the page's content needs no sideways scrolling, axe finds nothing
    serious, and a screenshot is kept."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        fits, wide = page.evaluate(CONTENT_FITS)
        assert fits, (name, width, wide)
        assert_accessible(page)
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_whole_document_fits_at_320_px(page: Page, live_server: str) -> None:
    login(page, live_server, Role.BEHEER)
    page.goto(f"{live_server}/beheer")
    page.set_viewport_size({"width": 320, "height": 900})
    assert page.evaluate(DOCUMENT_FITS)


@pytest.fixture(scope="module")
def own_offerings_csv(
    browser_db: tuple[str, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The aanbieder's own offerings as stored, in the import format."""
    engine = make_engine(browser_db[0])
    with session_factory(engine)() as s:
        records = load_records(s, Principal.system(), ["aanbod"])
    engine.dispose()
    # Confirmed today as the app sees it (fixed in these tests): an earlier browser test
    # may have saved an offering at the real date, which the app's today calls future.
    rows = [
        {**r, "bevestigd_op": TODAY} for r in records["aanbod"] if r["aanbieder_id"] == "P-HOOFD"
    ]
    (path,) = export_tables({"aanbod": rows}, "csv", tmp_path_factory.mktemp("upload"))
    return path


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "aanbod.csv"
    path.write_text("aanbod_id,aanbieder_id\nO-SNEL,P-HOOFD\n", encoding="utf-8")
    return path


PAGES: list[tuple[Role, str, str, str]] = [
    (Role.BEHEER, "/beheer", "Beheer", "beheer"),
    (Role.BEHEER, "/beheer/logboek", "Logboek", "beheer-logboek"),
    (Role.BEHEER, "/beheer/gebruikers", "Gebruikers en rollen", "beheer-gebruikers"),
    (Role.BEHEER, "/aanbieder", "Mijn aanbod", "beheer-aanbod"),
    (Role.BEHEER, "/inlezen", "Gegevens inlezen", "inlezen-beheer"),
    (Role.AANBIEDER, "/inlezen", "Gegevens inlezen", "inlezen-aanbieder"),
    (Role.TAFEL, "/inlezen", "Gegevens inlezen", "inlezen-tafel"),
    (Role.VERWIJZER, "/account/wachtwoord", "Wachtwoord wijzigen", "wachtwoord"),
    (Role.AANBIEDER, "/aanbieder", "Mijn aanbod", "aanbieder-alles-klopt"),
]


@pytest.mark.parametrize(("role", "path", "heading", "name"), PAGES, ids=[p[3] for p in PAGES])
def test_page_reflows_and_is_accessible(
    page: Page, live_server: str, role: Role, path: str, heading: str, name: str
) -> None:
    login(page, live_server, role)
    page.goto(f"{live_server}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_reflows(page, name)
    assert_no_console_errors(page)


def test_keyboard_only_upload_with_preview_and_confirmation(
    page: Page, live_server: str, own_offerings_csv: Path
) -> None:
    # The browser intercepts file dialogs only once a listener exists, and it is told so
    # without waiting for an answer: registered right before the key press (as
    # `expect_file_chooser` does), a loaded machine opened the dialog first and the test
    # waited 30 s for an event that never came. Registered here, it is in place long
    # before the key press.
    page.on("filechooser", lambda _chooser: None)
    login(page, live_server, Role.AANBIEDER)
    page.goto(f"{live_server}/inlezen")
    field = page.locator("#veld-bestanden")
    for _ in range(40):
        page.keyboard.press("Tab")
        if field.evaluate("el => el === document.activeElement"):
            break
    expect(field).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(own_offerings_csv))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Bekijk wat er verandert")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer wat er verandert")
    assert_reflows(page, "inlezen-voorbeeld")
    confirm = page.get_by_role("button", name="Ja, alles inlezen")
    for _ in range(40):
        page.keyboard.press("Tab")
        if confirm.evaluate("el => el === document.activeElement"):
            break
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    expect(status).to_contain_text("Ingelezen en opgeslagen")
    expect(status).to_be_focused()
    expect(page.get_by_role("region", name="Eerder ingelezen")).to_contain_text("aanbod.csv")
    assert_reflows(page, "inlezen-opgeslagen")
    assert_no_console_errors(page)


def test_upload_problems_page(page: Page, live_server: str, bad_csv: Path) -> None:
    login(page, live_server, Role.BEHEER)
    page.goto(f"{live_server}/inlezen")
    page.locator("#veld-bestanden").set_input_files(str(bad_csv))
    page.get_by_role("button", name="Bekijk wat er verandert").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet ingelezen")
    expect(page.locator(".wijzer-error-summary")).to_be_focused()
    expect(page.get_by_role("region", name="Problemen per bestand")).to_contain_text("aanbod.csv")
    assert_reflows(page, "inlezen-problemen")
    assert_no_console_errors(page, allow=("422",))


def test_momentopname_button_from_beheer(page: Page, live_server: str) -> None:
    login(page, live_server, Role.BEHEER)
    page.goto(f"{live_server}/beheer")
    page.get_by_role("button", name="Momentopname bewaren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Momentopname bewaard")
    expect(page.get_by_role("status")).to_contain_text("is bewaard")
    assert_reflows(page, "momentopname")
    assert_no_console_errors(page)


def test_password_form_errors_link_to_their_fields(page: Page, live_server: str) -> None:
    login(page, live_server, Role.TAFEL)
    page.goto(f"{live_server}/account/wachtwoord")
    page.get_by_label("Huidig wachtwoord").fill("niet het goede")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill("een nieuw lang wachtwoord")
    page.get_by_label("Nieuw wachtwoord nog een keer").fill("een nieuw lang wachtwoord")
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    summary = page.locator(".wijzer-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Uw huidige wachtwoord klopt niet.").click()
    expect(page.locator("#veld-huidig")).to_be_focused()
    assert_reflows(page, "wachtwoord-fout")
    assert_no_console_errors(page, allow=("422",))


def test_audit_log_filter_by_keyboard(page: Page, live_server: str) -> None:
    login(page, live_server, Role.BEHEER)
    page.goto(f"{live_server}/beheer/logboek")
    page.get_by_label("Rol").select_option("beheer")
    page.get_by_label("Kind of casus (ref)").press("Enter")
    expect(page).to_have_url(re.compile(r"/beheer/logboek\?.*rol=beheer"))
    expect(page.get_by_label("Rol")).to_have_value("beheer")
    assert_reflows(page, "beheer-logboek-filter")


def test_release_schedule_rows_on_the_edit_page(
    page: Page, live_server: str, ids: dict[str, int]
) -> None:
    login(page, live_server, Role.BEHEER)
    page.goto(f"{live_server}/aanbieder/aanbod/{ids['offering:geen']}")
    group = page.get_by_role("group", name="Plekken die vrijkomen op een datum")
    expect(group.get_by_label("Datum (rij 1)")).to_be_visible()
    assert_reflows(page, "aanbieder-vrijkomend")
    page.get_by_label("Plekken (rij 1)").fill("2")
    page.get_by_role("button", name="Opslaan en bevestigen").click()
    summary = page.locator(".wijzer-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Vul in rij 1 een bestaande datum in").click()
    expect(page.get_by_label("Datum (rij 1)")).to_be_focused()
    assert_accessible(page)
    assert_no_console_errors(page, allow=("422",))
