"""Browser tests: the app served by uvicorn on a free loopback port, driven by
Debian's chromium through Playwright. axe-core is injected into every page."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.wijzer.conftest import PASSWORD, principal_for
from wijzer.app import create_app
from wijzer.auth import MemoryAccountDirectory, Role
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
def accounts_for_browser() -> MemoryAccountDirectory:
    directory = MemoryAccountDirectory()
    for role in Role:
        directory.add(principal_for(role), PASSWORD)
    return directory


@pytest.fixture(scope="session")
def live_server(accounts_for_browser: MemoryAccountDirectory) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    app = create_app(
        Settings(secret_key="browser-test-" + "y" * 32, login_max_failures=50),
        accounts=accounts_for_browser,
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
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


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
    page.get_by_label("Gebruikersnaam").fill(principal_for(role).username)
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


def assert_no_console_errors(page: Page) -> None:
    problems = page.console_problems  # type: ignore[attr-defined]
    assert not problems, problems


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


LoginFn = Callable[[Page, str, Role], None]
