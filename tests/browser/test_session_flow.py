"""A staff member's session on a shared workstation, in Chromium: with JavaScript, a warning
before the idle timeout, "Stay signed in", then the page signs itself out; without it, the
next click after the timeout leads to the sign-in page with a notice. Afterwards the back
button shows nothing of the patients. Also: the second-factor setup and account pages."""

import pytest
from playwright.sync_api import expect

from tests.browser.support import LIVE, SIGN_IN_HEADING, heading, nav_link, sign_in

pytestmark = pytest.mark.browser

QUEUE_HEADING = "Your care teams' messages"
PATIENT_IN_QUEUE = "Alex Rivera"


@pytest.fixture
def short_idle(monkeypatch):
    """The shared-computer idle time cut to 12 s (warning 8 s before), for sessions started
    during the test: the dialog and the sign-out then happen while the test watches."""
    monkeypatch.setitem(LIVE["app"].config, "SHARED_IDLE_MINUTES", 0.2)
    monkeypatch.setitem(LIVE["app"].config, "SESSION_WARNING_SECONDS", 8)


def test_shared_workstation_warning_stay_and_timeout_with_js(open_tab, a11y, short_idle):
    nurse = open_tab(js=True)
    page = nurse.page
    sign_in(nurse, "nurse1", QUEUE_HEADING, shared=True)
    expect(page.get_by_text(PATIENT_IN_QUEUE).first).to_be_visible()
    dialog = page.get_by_role("alertdialog", name="Are you still there?")
    expect(dialog).to_be_hidden()
    where_she_was = nav_link(page, "Time away")
    where_she_was.focus()
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text("you will be signed out in")
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    a11y.check(nurse, "idle-timeout warning")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    expect(where_she_was).to_be_focused()  # back where she was, not at the top of the page
    expect(heading(page)).to_have_text(QUEUE_HEADING)  # still signed in, same page

    # Stepping away: the warning comes back, and then the page signs itself out.
    expect(dialog).to_be_visible(timeout=10_000)
    expect(heading(page)).to_have_text("You are signed out", timeout=15_000)
    expect(page.get_by_text("after a time without activity")).to_be_visible()
    expect(page.get_by_text(PATIENT_IN_QUEUE)).to_have_count(0)
    page.go_back()
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)
    expect(page.get_by_text(PATIENT_IN_QUEUE)).to_have_count(0)
    nurse.assert_clean()
    a11y.assert_clean()


def test_shared_workstation_timeout_without_js(open_tab, clock):
    nurse = open_tab(js=False)
    page = nurse.page
    sign_in(nurse, "nurse1", QUEUE_HEADING, shared=True)
    expect(page.get_by_text(PATIENT_IN_QUEUE).first).to_be_visible()
    clock.advance(minutes=5, seconds=1)  # the shared-computer idle time (5 minutes)
    nav_link(page, "Time away").click()
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)
    expect(page.get_by_text("you were signed out after a time without activity")
           ).to_be_visible()
    page.go_back()
    expect(page.get_by_text(PATIENT_IN_QUEUE)).to_have_count(0)
    nurse.assert_clean()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_account_page_and_sign_out_everywhere(open_tab, a11y, js):
    desk = open_tab(js=js)
    sign_in(desk, "veteran1", "Inbox")
    phone = open_tab(js=js)
    sign_in(phone, "veteran1", "Inbox")
    page = desk.page
    nav_link(page, "Your account").click()
    expect(heading(page)).to_have_text("Your account")
    expect(page.get_by_text("(this device)")).to_be_visible()
    # this browser and the other one at least (earlier tests' sessions may still be live)
    assert page.get_by_role("row").count() >= 3
    if js:
        a11y.check(desk, "account")
    page.get_by_role("link", name="Turn on two-step verification").click()
    expect(heading(page)).to_have_text("Set up two-step verification")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    if js:
        a11y.check(desk, "two-step setup")
    nav_link(page, "Your account").click()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(heading(page)).to_have_text("You are signed out")
    phone.page.reload()
    expect(heading(phone.page)).to_have_text(SIGN_IN_HEADING)
    desk.assert_clean()
    phone.assert_clean()
    a11y.assert_clean()
