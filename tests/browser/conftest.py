"""Fixtures for the real-browser tests: a live smweb on a SQLite file, and Chromium (the
helpers the tests share are in tests/browser/support.py).

The app runs in this process (werkzeug's threaded server in a daemon thread) on a fresh
SQLite file with the demo data; Chromium is Debian's /usr/bin/chromium driven by
Playwright's sync API. `playwright install` is never needed (nor run).
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright

from tests.browser.support import serve_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000  # a step that takes longer than this is broken, not slow


def _unavailable(reason: str) -> None:
    """No browser here: a skip on a developer's machine, a failure in CI."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run in CI)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _clean_tables():
    """Replaces tests/conftest.py's autouse fixture of this name, which wipes and reseeds the
    unit tests' database (PostgreSQL when SMWEB_TEST_DATABASE_URL says so) before every test:
    the browser tests have their own SQLite database in live_server, and never need that one."""
    yield


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """The demo site every browser test shares (a module may have one of its own: see
    test_hurried_send.py)."""
    with serve_demo(tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run; every test opens its own contexts in it."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A page in its own browser context (its own cookies: one user), and everything that
    went wrong in it: console errors (CSP violations among them), uncaught exceptions,
    failed requests and server errors."""

    page: Page
    js: bool
    problems: list[str] = field(default_factory=list)

    def assert_clean(self, allow: Callable[[str], bool] = lambda _problem: False) -> None:
        unexpected = [p for p in self.problems if not allow(p)]
        assert not unexpected, "The browser reported problems:\n  " + "\n  ".join(unexpected)


@pytest.fixture
def open_tab(browser, live_server) -> Iterator[Callable[..., Tab]]:
    """open_tab(js=True, size=None) -> a Tab whose page is in a fresh context (its own
    cookies, so one user per tab), with the problem watchers attached. The app's CSP stays
    in force. size: the viewport (width, height), e.g. support.PHONE; Playwright's 1280x720
    if None."""
    contexts = []

    def open_tab(js: bool = True, size: tuple[int, int] | None = None) -> Tab:
        viewport = {"width": size[0], "height": size[1]} if size else None
        context = browser.new_context(base_url=live_server, java_script_enabled=js,
                                      viewport=viewport, has_touch=bool(size and size[0] < 400))
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page=page, js=js)
        watch(tab)
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def watch(tab: Tab) -> None:
    page, problems = tab.page, tab.problems

    def on_console(message):
        if message.type in ("error", "warning"):
            location = message.location or {}
            problems.append(f"console {message.type}: {message.text} ({location.get('url', '?')})")

    def on_request_failed(request):
        problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def on_response(response):
        if response.status >= 500:
            problems.append(
                f"server error: {response.status} {response.request.method} {response.url}"
            )

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)


class A11y:
    """Runs axe-core on pages and keeps every violation, so one run reports all pages."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.checked: list[str] = []
        self.reports: list[str] = []

    def check(self, tab: Tab, name: str) -> None:
        # axe is injected with page.evaluate(), which Chromium runs through the DevTools
        # protocol: the app's CSP (script-src 'self', no inline scripts) does not apply to
        # it, so the contexts keep their CSP on and bypass_csp=True is not needed.
        assert tab.js, "axe needs JavaScript: check pages in a JS-on context"
        results = self.axe.run(tab.page)
        self.checked.append(name)
        if results.violations_count:
            self.reports.append(f"--- {name} ({tab.page.url})\n{results.generate_report()}")

    def assert_clean(self) -> None:
        assert not self.reports, "axe found accessibility violations:\n" + "\n".join(self.reports)


@pytest.fixture
def a11y() -> Iterator[A11y]:
    checker = A11y()
    yield checker
    if checker.reports:  # shown with a failure even if the test stopped before asserting
        print("axe found accessibility violations:\n" + "\n".join(checker.reports))
