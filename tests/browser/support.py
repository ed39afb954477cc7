"""What the browser tests share, imported from here (never from conftest.py or another test
module): the live demo site (serve_demo, LIVE), the screen sizes and JavaScript modes, and
how a person signs in, finds a page's parts and waits for htmx."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from smweb.services.demo import DEMO_PASSWORD
from tests.support import demo_code, forget_used_codes

PHONE = (320, 640)  # the narrowest phone screen the pages are built for
JS_MODES = [pytest.param(True, id="js"), pytest.param(False, id="nojs")]

CARE_TEAM = "Primary Care Team Blue"
SIGN_IN_HEADING = "Sign in to Secure Messaging"
CODE_HEADING = "Enter the code from your authenticator app"


# --- the live site ------------------------------------------------------------------------------

LIVE: dict = {}


@contextmanager
def serve_demo(tmp: Path) -> Iterator[str]:
    """smweb with the demo data, served on 127.0.0.1 at a free port; yields the base URL.

    Always SQLite (a file, so the server's threads share it), whatever
    SMWEB_TEST_DATABASE_URL says: the browser tests must not touch a shared database.
    """
    import flask_migrate
    from werkzeug.serving import make_server

    from smweb import create_app
    from smweb.config import TestConfig
    from smweb.extensions import db
    from smweb.services.demo import seed_demo

    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/browser.db",
        ATTACHMENTS_DIR=str(tmp / "attachments"),  # nothing of the run lands in instance/
        MAIL_OUTBOX=str(tmp / "outbox"),
    )
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        db.session.remove()

    before = LIVE.get("app")
    LIVE["app"] = app  # for tests that must reach into the server (a TOTP code's reuse)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="smweb-live", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        LIVE["app"] = before
        with app.app_context():
            db.engine.dispose()  # close the pooled SQLite connections: no ResourceWarning


# --- a page's parts, as a person finds them -----------------------------------------------------

def expected_422(problem: str) -> bool:
    """Where a form is sent with errors on purpose, Chromium logs its 422 answer."""
    return "status of 422" in problem


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def nav_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def notice(page: Page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def sign_in(tab, username: str, home_heading: str, shared: bool = False) -> None:
    """Username and password; for staff then the code their authenticator app shows."""
    page = tab.page
    page.goto("/sign-in")
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    if shared:
        page.get_by_label("This is a shared computer").check()
    page.get_by_role("button", name="Sign in").click()
    expect(heading(page)).not_to_have_text(SIGN_IN_HEADING)
    if heading(page).inner_text() == CODE_HEADING:
        # the code page's own scripts finish loading first: submitting at once would make
        # the browser abort them (a failed request the tab reports), as no person types that fast
        page.wait_for_load_state()
        forget_used_codes(LIVE["app"], username)
        page.get_by_label("Code").fill(demo_code())
        page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text(home_heading)
    page.wait_for_load_state()  # a whole new document (HX-Redirect): let htmx start up


def compose_as(open_tab, username: str = "veteran1", js: bool = True):
    """A new tab (`open_tab`, the fixture) signed in as the patient and on Compose, ready
    for typing (with JavaScript, once htmx has wired the form up). Returns the tab and its
    page."""
    tab = open_tab(js=js)
    sign_in(tab, username, "Inbox")
    nav_link(tab.page, "Compose").click()
    wait_for_htmx(tab)
    return tab, tab.page


def wait_for_htmx(tab) -> None:
    """With JavaScript on: wait until htmx has finished a swap (and wired up what it swapped
    in), so the next action meets live elements, as a person a moment later would."""
    if tab.js:
        tab.page.wait_for_function(
            "() => window.htmx && !document.querySelector("
            "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def set_marker(tab) -> None:
    """A value in the current document's window: it survives an htmx swap, not a load."""
    if tab.js:
        tab.page.evaluate("window.__marker = 1")


def assert_no_full_load(tab, step: str) -> None:
    if tab.js:
        assert tab.page.evaluate("window.__marker") == 1, (
            f"{step}: the page was loaded anew; htmx should have swapped it in"
        )


def row_of(page: Page, subject: str):
    """The table row of the thread; its link also reads "Unread" when it is unread."""
    return page.get_by_role("row").filter(has_text=subject)


def column_index(page: Page, title: str) -> int:
    return page.get_by_role("columnheader").all_inner_texts().index(title)


def assert_fits(page: Page) -> None:
    """On a phone, the page fits the screen's width: nothing to scroll sideways to."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def start_message(page: Page, subject: str, body: str) -> None:
    nav_link(page, "Compose").click()
    page.get_by_label("To (care team)").wait_for()  # the new page, loaded
    if page.viewport_size["width"] < 400:
        assert_fits(page)
    page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    page.get_by_label("Category").select_option("General")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill(body)
