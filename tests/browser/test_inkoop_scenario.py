"""An inkoop team runs a scenario in chromium on the demo region: form errors first,
then progress, then charts and tables with the same numbers; axe on every state."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from providers.store import accounts
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import OrganisationKind, Role
from tests.browser.conftest import (
    _free_port,
    assert_accessible,
    assert_no_console_errors,
    assert_reflows,
    screenshot,
)
from tests.wijzer.data import PASSWORD, TODAY
from tests.wijzer.overdue import freshen_rulings
from wijzer.app import create_app
from wijzer.settings import Settings

REGION = "JZ31"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo region (120 waiting children) so the charts have cells of 5 or more."""
    import uvicorn

    from wijzer.demo_site import load_demo_data

    path: Path = tmp_path_factory.mktemp("inkoop-browser") / "wijzer.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    load_demo_data(sessions, TODAY, io.StringIO())
    with sessions.begin() as db:
        # "binnen de norm" is a start by the legal deadline: with the demo's long waits
        # few could still make it and the summary would be hidden
        freshen_rulings(db, REGION, TODAY)
        org = accounts.create_organisation(
            db, "Inkoop browser", OrganisationKind.REGIO, region_code=REGION
        )
        accounts.create_account(db, "test-inkoop", PASSWORD, Role.INKOOP, org)
    engine.dispose()
    app = create_app(
        Settings(secret_key="inkoop-browser-" + "z" * 32, database_url=url, today=TODAY)
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/inloggen")
    page.get_by_label("Gebruikersnaam").fill("test-inkoop")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("networkidle")
    assert "/inloggen" not in page.url


def test_inkoop_scenario_end_to_end(page: Page, demo_server: str) -> None:
    _login(page, demo_server)
    page.goto(f"{demo_server}/inkoop")
    expect(page.get_by_role("heading", name="Rekenen met een scenario")).to_be_visible()
    assert_no_console_errors(page)
    assert_accessible(page)

    # A typing error: the summary gets focus and links to the field.
    page.get_by_label("Hulpvorm (regel 1)").select_option(label="Ambulante jeugd-GGZ")
    page.get_by_label("Aantal extra plekken (regel 1)").fill("tien")
    page.get_by_role("button", name="Scenario berekenen").click()
    summary = page.locator(".wijzer-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=re.compile("heel getal"))
    expect(link).to_have_attribute("href", "#veld-plekken_1")
    expect(page.locator("#veld-plekken_1")).to_have_attribute("aria-invalid", "true")
    assert_no_console_errors(page, allow=("422",))
    assert_accessible(page)
    screenshot(page, "inkoop-scenario-fout")

    page.get_by_label("Aantal extra plekken (regel 1)").fill("10")
    page.get_by_label("Hulpvorm (regel 2)").select_option(label="Begeleid wonen")
    page.get_by_label("Aantal extra plekken (regel 2)").fill("5")
    page.get_by_role("button", name="Scenario berekenen").click()
    heading = page.locator("#uitkomst-titel")
    expect(heading).to_be_visible(timeout=60_000)
    expect(heading).to_have_text("Uitkomst voor regio Zuid-Holland Zuid")
    expect(
        page.get_by_text("10 extra plekken ambulante jeugd-GGZ in regio Zuid-Holland Zuid")
    ).to_be_visible()

    # The summary: within the norm now and in the scenario, and the difference.
    row = page.locator("#tabel-samenvatting").locator("xpath=..").locator("tbody tr").first
    cells = row.locator("td").all_inner_texts()
    now, after, diff = (int(c.replace("+", "")) for c in cells)
    assert after > now
    assert diff == after - now

    # Every chart bar has the same number in its table.
    for table_id in ("reden", "zorgvorm", "wachttijd"):
        chart = page.locator(f"#grafiek-{table_id}-titel").locator("xpath=..")
        values = [int(v) for v in chart.locator("text.wijzer-chart__value").all_text_contents()]
        table_text = page.locator(f"#tabel-{table_id}").locator("xpath=..").inner_text()
        numbers = {int(n) for n in re.findall(r"(?<![\d+-])\d+", table_text)}
        assert values
        assert set(values) <= numbers
    assert "K-" not in _without_tokens(page.content())
    assert_no_console_errors(page, allow=("422",))  # the form error above
    assert_accessible(page)
    screenshot(page, "inkoop-scenario-uitkomst")
    assert_reflows(page, "inkoop-scenario-uitkomst")


def _without_tokens(html: str) -> str:
    """The page minus the random CSRF token, which can contain "K-" by chance."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def test_purchase_advice_against_the_naive_rule(page: Page, demo_server: str) -> None:
    _login(page, demo_server)
    page.goto(f"{demo_server}/inkoop")
    page.get_by_label("Budget in euro").fill("1.000.000")
    page.get_by_role("button", name="Advies berekenen").click()
    heading = page.locator("#uitkomst-titel")
    expect(heading).to_be_visible(timeout=60_000)
    expect(heading).to_have_text("Inkoopadvies voor regio Zuid-Holland Zuid")
    rows = page.locator("#tabel-regels").locator("xpath=..").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("th")).to_contain_text("Advies")
    assert "K-" not in _without_tokens(page.content())
    assert_no_console_errors(page)
    assert_accessible(page)
    screenshot(page, "inkoop-advies")
    assert_reflows(page, "inkoop-advies")
