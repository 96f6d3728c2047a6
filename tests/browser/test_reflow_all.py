"""WCAG 1.4.10 reflow for the pages of the referral loop, beheer and the account, each
as every role that may open it, at 1280 and 320 CSS px (screenshots of both widths),
and a check that no HTML page of the role matrix is left without a reflow check.

These pages need a case with an aanmelding; it is made on a database of its own, so
the other browser tests keep their data."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from providers.store import accounts
from providers.store.aanmeldingen import request_place
from providers.store.engine import make_engine, session_factory
from providers.store.models import Account
from providers.store.referrals import CaseInput, get_case, register_case
from tests.browser import test_reflow
from tests.browser.conftest import (
    assert_no_console_errors,
    assert_reflows,
    login,
    screenshot,
    seeded_database,
    serve,
)
from tests.wijzer.data import TODAY, username
from tests.wijzer.test_role_matrix import GET_MATRIX
from wijzer.auth import Role

V, A, T, IK, B = Role.VERWIJZER, Role.AANBIEDER, Role.TAFEL, Role.INKOOP, Role.BEHEER
ALL = (V, A, T, IK, B)
REF = "REFLOW-1"

# (route path of the role matrix, URL template, roles that may open it). `{ref}`,
# `{aanmelding}` and `{offering}` are filled in from the data made below.
PAGES: list[tuple[str, str, tuple[Role, ...]]] = [
    ("/casussen", "/casussen", (V, T, B)),
    ("/casussen/nieuw", "/casussen/nieuw", (V, B)),
    ("/casussen/{ref}", "/casussen/{ref}", (V, T, B)),
    ("/casussen/aanmelden/{offering_id}", "/casussen/aanmelden/{offering}", (V, T, B)),
    ("/aanmeldingen", "/aanmeldingen", (A, B)),
    ("/aanmeldingen/{aanmelding_id}", "/aanmeldingen/{aanmelding}", (A, B)),
    ("/meldingen", "/meldingen", ALL),
    ("/wachttijden", "/wachttijden", ALL),
    ("/account/wachtwoord", "/account/wachtwoord", ALL),
    ("/inlezen", "/inlezen", (A, T, B)),
    ("/beheer", "/beheer", (B,)),
    ("/beheer/logboek", "/beheer/logboek", (B,)),
    ("/beheer/gebruikers", "/beheer/gebruikers", (B,)),
    ("/tafel/kind/{ref}", "/tafel/kind/{ref}", (T, B)),
]

# HTML pages checked elsewhere, with the test that does it.
ELSEWHERE = {
    "/tafel/runs/{job_id}": "test_tafel.py (tafel-uitkomst)",
    "/tafel/vergelijk": "test_tafel.py (tafel-vergelijken)",
    "/inkoop/scenario/{job_id}": "test_inkoop_scenario.py (inkoop-scenario-uitkomst)",
    "/aanbieder/aanbod/{offering_id}": "test_reflow.py (test_offering_edit_reflows)",
    "/beheer/organisaties": "test_organisaties.py (beheer-organisaties)",
    "/aanbieder/organisatie": "test_organisaties.py (aanbieder-organisatie)",
}


def _is_html_page(path: str) -> bool:
    """Pages a person reads: not the API, not the open JSON feed, not a file export."""
    return not (
        path.startswith(("/api/", "/open/"))
        or re.search(r"\.(\{fmt\}|csv|xlsx|json)$", path)
        or path == "/inloggen"
    )


def test_every_html_page_has_a_reflow_check() -> None:
    checked = {p for p, _, _ in PAGES} | set(ELSEWHERE)
    checked |= {path.split("?")[0] for _, path, _ in test_reflow.PAGES}
    missing = sorted(p for p in GET_MATRIX if _is_html_page(p) and p not in checked)
    assert not missing, f"pages without a reflow check at 320 px: {missing}"


@pytest.fixture(scope="module")
def loop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    url, ids = seeded_database(tmp_path_factory.mktemp("reflow-db") / "wijzer.sqlite3")
    engine = make_engine(url)
    with session_factory(engine).begin() as db:
        acc = db.scalar(select(Account).where(Account.username == username(V)))
        assert acc is not None
        verwijzer = accounts.principal_for(db, acc)
        ref = register_case(
            db,
            verwijzer,
            CaseInput(
                ref=REF,
                birth_month="2013-05",
                gemeente_code="GM0505",
                measure="OTS",
                ruling_date=TODAY.replace(day=1),
                needs=("TRAUMATHERAPIE",),
                attributes=("AGRESSIE",),
            ),
            today=TODAY,
        )
        need = get_case(db, verwijzer, ref, today=TODAY).needs[0]
        aanmelding = request_place(
            db, verwijzer, ref, need.id, ids["offering:snel"], today=TODAY, context="reflow"
        )
    engine.dispose()
    values = {"ref": ref, "aanmelding": str(aanmelding), "offering": str(ids["offering:snel"])}
    with serve(url) as base:
        yield base, values


CASES = [
    pytest.param(route, url, role, id=f"{route}-{role.value}")
    for route, url, roles in PAGES
    for role in roles
]


@pytest.mark.parametrize(("route", "url", "role"), CASES)
def test_page_reflows(
    page: Page, loop_server: tuple[str, dict[str, str]], route: str, url: str, role: Role
) -> None:
    base, values = loop_server
    login(page, base, role)
    response = page.goto(base + url.format(**values))
    assert response is not None
    assert response.status == 200, (url, role, response.status)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    name = route.strip("/").replace("/", "-").replace("{", "").replace("}", "")
    assert_reflows(page, f"{name}-{role.value}")
    assert_no_console_errors(page)


def test_case_page_prints_without_navigation_or_buttons(
    page: Page, loop_server: tuple[str, dict[str, str]]
) -> None:
    base, values = loop_server
    login(page, base, V)
    page.goto(f"{base}/casussen/{values['ref']}")
    expect(page.locator("#peildatum")).to_be_hidden()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_hidden()
    expect(page.locator("#peildatum")).to_have_text("Stand van 20 november 2026.")
    expect(page.get_by_role("button", name=re.compile("Intrekken"))).to_be_hidden()
    expect(page.get_by_role("link", name="Terug naar de casussen")).to_be_hidden()
    expect(page.get_by_text("Uiterste datum (norm 3)")).to_be_visible()
    screenshot(page, "casus-afdruk")
