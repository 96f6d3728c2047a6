"""Browser tests: the app served by uvicorn on a free loopback port, driven by
Debian's chromium through Playwright. axe-core is injected into every page."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from providers.store.engine import make_engine, migrate, session_factory
from tests.wijzer.data import PASSWORD, TODAY, seed
from wijzer.app import create_app
from wijzer.auth import Role
from wijzer.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("WIJZER_SCREENSHOT_DIR", "var/screenshots"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    if sync_playwright is None:
        reason = "playwright is not installed (pip install -e .[dev])"
    elif not CHROMIUM.exists():
        reason = "Debian's chromium is missing at /usr/bin/chromium (apt-get install chromium)"
    if reason:
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, int]]:
    return seeded_database(tmp_path_factory.mktemp("browser-db") / "wijzer.sqlite3")


@pytest.fixture(scope="session")
def ids(browser_db: tuple[str, dict[str, int]]) -> dict[str, int]:
    return browser_db[1]


@contextmanager
def serve(database_url: str) -> Iterator[str]:
    """The app on `database_url`, served by uvicorn on a free loopback port."""
    import uvicorn

    port = _free_port()
    app = create_app(
        Settings(
            secret_key="browser-test-" + "y" * 32,
            login_max_failures=50,
            database_url=database_url,
            today=TODAY,
        )
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seeded_database(path: Path) -> tuple[str, dict[str, int]]:
    """A new SQLite database at `path` with the test data; its URL and the seed's ids."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine).begin() as session:
        ids = seed(session)
    engine.dispose()
    return url, ids


@pytest.fixture(scope="session")
def live_server(browser_db: tuple[str, dict[str, int]]) -> Iterator[str]:
    with serve(browser_db[0]) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # axe is added as an init script (through the DevTools protocol), so the app's
    # CSP stays fully in force for the page's own scripts.
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.add_init_script(path=str(AXE))
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.console_problems = problems  # type: ignore[attr-defined]
    yield pg
    context.close()


def login(page: Page, base: str, role: Role) -> None:
    page.goto(f"{base}/inloggen")
    page.get_by_label("Gebruikersnaam").fill(f"test-{role.value}")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("networkidle")
    assert "/inloggen" not in page.url, page.content()[:500]


def axe_violations(page: Page) -> list[dict[str, Any]]:
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                 'wcag22aa', 'best-practice']}
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)


def assert_accessible(page: Page) -> None:
    bad = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, indent=2)


def assert_no_console_errors(page: Page, allow: tuple[str, ...] = ()) -> None:
    """No script errors and no CSP violations; `allow` names expected HTTP statuses."""
    problems = [
        p
        for p in page.console_problems  # type: ignore[attr-defined]
        if not any(f"status of {status}" in p for status in allow)
    ]
    assert not problems, problems


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # caret="initial": hiding the caret would inject a style, which our CSP rightly blocks.
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


LoginFn = Callable[[Page, str, Role], None]


WIDTHS = (1280, 320)


def assert_reflows(page: Page, name: str) -> None:
    """WCAG 1.4.10: at 1280 and at 320 CSS px the page never scrolls sideways, axe finds
    nothing serious, and a screenshot of each width is saved as NAME-WIDTH.png."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        # The innermost elements that stick out, to name the culprit when this fails.
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .filter(e => !Array.from(e.children).some(
                    c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
                .slice(0, 5)
                .map(e => e.tagName + '.' + e.className + ' ' +
                     Math.round(e.getBoundingClientRect().right))"""
        )
        screenshot(page, f"{name}-{width}")
        assert sizes[0] <= sizes[1], f"{name} at {width} px: {sizes} {wide}"
        assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
