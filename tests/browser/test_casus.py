"""The whole referral loop in chromium, each role in its own browser: the verwijzer
registers a case and requests a place from a search result, the provider declines
with a reason, the verwijzer requests elsewhere, that provider accepts and registers
the start; the tafel's list and the measured waits change.  The new pages are also
checked at 320 px wide for horizontal scrolling."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    AXE,
    PASSWORD,
    assert_accessible,
    assert_no_console_errors,
    screenshot,
)

REF = "GI-BROWSER-01"


def _open(browser: Browser, base: str, username: str, width: int = 1280) -> Page:
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.console_problems = problems  # type: ignore[attr-defined]
    page.goto(f"{base}/inloggen")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("networkidle")
    assert "/inloggen" not in page.url
    return page


def _no_horizontal_scroll(page: Page) -> None:
    """The page's own content fits 320 px; a wide table scrolls inside its own region.

    The shared page header is left out of the measurement (its reflow at 320 px is
    handled with the site-wide layout), so this checks what these pages add."""
    page.evaluate("document.querySelector('header').style.display = 'none'")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.evaluate("document.querySelector('header').style.display = ''")
    assert width <= 320, (page.url, width)


def test_the_whole_loop_in_the_browser(
    browser: Browser, live_server: str, ids: dict[str, int]
) -> None:
    v = _open(browser, live_server, "test-verwijzer")
    tafel = _open(browser, live_server, "test-tafel")
    own = _open(browser, live_server, "test-aanbieder")
    other = _open(browser, live_server, "test-ander-aanbieder")

    # register a case
    v.goto(f"{live_server}/casussen")
    v.get_by_role("link", name="Nieuwe casus").click()
    v.get_by_label("Kenmerk (mag leeg)").fill(REF)
    v.get_by_label("Geboortemaand").fill("2016-02")
    v.get_by_label("Gemeente die betaalt").select_option("GM0505")
    v.get_by_label("Datum uitspraak").fill("2026-10-01")
    v.get_by_label("Hulpvraag 1").select_option("TRAUMATHERAPIE")
    v.get_by_label("Agressie").check()
    assert_accessible(v)
    screenshot(v, "casus-nieuw")
    v.get_by_role("button", name="Casus opslaan").click()
    expect(v.get_by_role("heading", level=1)).to_have_text(f"Casus {REF}")
    assert_accessible(v)
    tafel.goto(f"{live_server}/tafel")
    expect(tafel.locator("body")).to_contain_text(REF)

    # the search opens filled in; request a place from a result
    v.get_by_role("link", name="Zoek hulp en meld aan").click()
    v.get_by_role("link", name="Aanmelden bij Hulp Zuid").first.click()
    expect(v.get_by_role("heading", level=1)).to_contain_text("Aanmelden bij Hulp Zuid")
    expect(v.locator("body")).to_contain_text("De aanbieder ziet geen kenmerken")
    assert_accessible(v)
    screenshot(v, "casus-aanmelden")
    v.get_by_role("button", name="Aanmelden").click()
    expect(v.locator("body")).to_contain_text("er loopt al een aanmelding voor deze hulpvraag")
    screenshot(v, "casus-pagina-aangevraagd")

    # the provider declines with a reason
    own.goto(f"{live_server}/aanmeldingen")
    own.get_by_role("link", name=f"{REF}, 10 jaar").click()
    assert_accessible(own)
    screenshot(own, "aanbieder-aanmelding")
    own.get_by_label("Reden").select_option("NO_CAPACITY")
    own.get_by_label("Korte toelichting").fill("Vol tot maart")
    own.get_by_role("button", name="Afwijzen").click()
    expect(own.locator("dl")).to_contain_text("afgewezen")

    # the verwijzer requests elsewhere
    v.reload()
    expect(v.locator("body")).to_contain_text("Er is geen plek vrij")
    v.goto(f"{live_server}/casussen/aanmelden/{ids['offering:budget']}")
    v.get_by_role("button", name="Aanmelden").click()
    expect(v.locator("body")).to_contain_text("Budget Zorg")

    # the other provider accepts, then registers the real start
    other.goto(f"{live_server}/aanmeldingen")
    other.get_by_role("link", name=f"{REF}, 10 jaar").click()
    other.get_by_label("Geplande intake").fill("2026-11-20")
    other.get_by_label("Geplande start van de hulp").fill("2026-11-20")
    other.get_by_role("button", name="Accepteren").click()
    expect(other.locator("dl")).to_contain_text("geaccepteerd")
    other.get_by_label("Datum echte start").fill("2026-11-20")
    other.get_by_role("button", name="Start vastleggen").click()
    expect(other.locator("dl")).to_contain_text("gestart")
    assert_no_console_errors(other)

    v.reload()
    expect(v.locator("body")).to_contain_text("Gestart binnen de norm")
    assert_accessible(v)
    screenshot(v, "casus-pagina-gestart")
    tafel.reload()
    expect(tafel.locator("body")).not_to_contain_text(REF)
    tafel.goto(f"{live_server}/wachttijden")
    row = tafel.get_by_role("row").filter(has_text="Budget Zorg")
    expect(row).to_contain_text("Te weinig starts")
    assert_accessible(tafel)
    screenshot(tafel, "wachttijden")
    v.goto(f"{live_server}/meldingen")
    expect(v.locator("body")).to_contain_text("is gestart")
    assert_no_console_errors(v)

    # the new pages at 320 px: no horizontal scrolling of the page itself
    narrow_v = _open(browser, live_server, "test-verwijzer", width=320)
    for path in ("/casussen", "/casussen/nieuw", f"/casussen/{REF}", "/wachttijden", "/meldingen"):
        narrow_v.goto(f"{live_server}{path}")
        _no_horizontal_scroll(narrow_v)
    narrow_v.goto(f"{live_server}/casussen/aanmelden/{ids['offering:snel']}")
    _no_horizontal_scroll(narrow_v)
    screenshot(narrow_v, "casus-aanmelden-320")
    narrow_a = _open(browser, live_server, "test-ander-aanbieder", width=320)
    narrow_a.goto(f"{live_server}/aanmeldingen")
    _no_horizontal_scroll(narrow_a)
    narrow_a.get_by_role("link", name=f"{REF}, 10 jaar").click()
    _no_horizontal_scroll(narrow_a)
    screenshot(narrow_a, "aanbieder-aanmelding-320")
