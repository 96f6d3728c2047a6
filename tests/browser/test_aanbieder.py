"""A provider updates an offering while someone else already did: a clear conflict, nothing lost."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    AXE,
    assert_accessible,
    assert_no_console_errors,
    assert_reflows,
    login,
    screenshot,
)
from wijzer.auth import Role


def _open(browser: Browser, live_server: str, role: Role) -> Page:
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.console_problems = problems  # type: ignore[attr-defined]
    login(page, live_server, role)
    return page


def test_provider_update_meets_a_conflict(
    browser: Browser, live_server: str, ids: dict[str, int]
) -> None:
    oid = ids["offering:oud"]
    anna = _open(browser, live_server, Role.AANBIEDER)
    bert = _open(browser, live_server, Role.BEHEER)
    anna.goto(f"{live_server}/aanbieder")
    assert_accessible(anna)
    screenshot(anna, "aanbieder-lijst")
    name = "Wijzigen Traumatherapie in Dordrecht, 12 tot en met 18 jaar"
    anna.get_by_role("link", name=name).click()
    expect(anna.get_by_role("heading", level=1)).to_contain_text("Traumatherapie")
    assert_accessible(anna)
    screenshot(anna, "aanbieder-wijzigen")
    bert.goto(f"{live_server}/aanbieder/aanbod/{oid}")
    assert f"/aanbieder/aanbod/{oid}" in anna.url

    anna.get_by_label("Vrije plekken nu").fill("6")
    anna.get_by_role("button", name="Opslaan en bevestigen").click()
    expect(anna.get_by_role("status")).to_contain_text("Opgeslagen")

    bert.get_by_label("Vrije plekken nu").fill("0")
    bert.get_by_label("Opnamestop: we nemen nu geen nieuwe kinderen aan").check()
    bert.get_by_role("button", name="Opslaan en bevestigen").click()
    alert = bert.locator(".wijzer-conflict")
    expect(alert).to_be_focused()
    expect(alert).to_contain_text("Uw wijziging is niet opgeslagen")
    expect(alert).to_contain_text("Laatst opgeslagen door test-aanbieder")
    # What Bert typed is still in the form.
    expect(bert.get_by_label("Vrije plekken nu")).to_have_value("0")
    assert_no_console_errors(bert, allow=("409",))
    assert_accessible(bert)
    screenshot(bert, "aanbieder-conflict")
    assert_reflows(bert, "aanbieder-conflict")

    bert.get_by_role("button", name="Opslaan en bevestigen").click()
    expect(bert.get_by_role("status")).to_contain_text("Opgeslagen")
    for page in (anna, bert):
        page.context.close()
