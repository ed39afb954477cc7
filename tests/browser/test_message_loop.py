"""The whole message loop in a real Chromium, with JavaScript on (htmx) and off.

A patient writes to a care team, a nurse answers from the queue, the patient sees the
answer (Unread) and the READ receipt in Sent, then signs out. With JavaScript on, the tests
also check that htmx really drives the pages (boosted navigation without full loads) and run
axe-core on every page; with it off, the same flow must work with plain forms and links.
"""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    SIGN_IN_HEADING,
    assert_no_full_load,
    column_index,
    expected_422,
    heading,
    nav_link,
    notice,
    row_of,
    set_marker,
    sign_in,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser

SENT_NOTICE = "Your message was sent."
REPLY_NOTICE = "Your reply was sent."
SIGNED_OUT_HEADING = "You are signed out"


def unique_subject(tab, what: str) -> str:
    subject = f"{what} {'js' if tab.js else 'nojs'} {uuid.uuid4().hex[:8]}"
    assert len(subject) <= 50
    return subject


def fill_compose(page: Page, subject: str, body: str) -> str:
    """Fill in the compose form; returns the recipient's option value."""
    recipient = page.get_by_label("To (care team)")
    recipient.select_option(label=CARE_TEAM)
    page.get_by_label("Category").select_option("Medications")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill(body)
    return recipient.input_value()


@pytest.mark.parametrize("js", JS_MODES)
def test_message_loop(open_tab, a11y, js):
    patient = open_tab(js=js)
    page = patient.page
    check = a11y.check if js else (lambda _tab, _name: None)

    page.goto("/sign-in")
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)
    check(patient, "sign-in")
    sign_in(patient, "veteran1", "Inbox")
    expect(page).to_have_title(re.compile(r"^Inbox \|"))
    check(patient, "inbox")

    if js:
        assert page.evaluate("typeof window.htmx") == "object", "htmx did not load"
    set_marker(patient)  # from here until sign-out, every page is swapped in by htmx

    # The patient writes to the care team.
    page.get_by_role("link", name="Start a new message").click()
    expect(heading(page)).to_have_text("Start a new message")
    expect(page).to_have_url(re.compile(r"/compose$"))
    assert_no_full_load(patient, "Start a new message (boosted link)")
    wait_for_htmx(patient)
    check(patient, "compose")

    subject = unique_subject(patient, "Refill question")
    body = f"Please renew my metformin. ({subject})"
    fill_compose(page, subject, body)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(notice(page, SENT_NOTICE)).to_be_visible()
    expect(heading(page)).to_have_text(subject)
    expect(page).to_have_url(re.compile(r"/threads/\d+$"))
    expect(page.get_by_text(body)).to_be_visible()
    expect(page.get_by_text("Not yet read by the team")).to_be_visible()
    assert_no_full_load(patient, "Send (htmx form, HX-Location)")
    check(patient, "thread (patient, just sent)")

    # A nurse of that team finds it in the queue and answers.
    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    queue_row = row_of(nurse.page, subject)
    expect(queue_row).to_contain_text("Alex Rivera")
    expect(queue_row).to_contain_text("Unread")
    check(nurse, "staff queue")
    set_marker(nurse)

    queue_row.get_by_role("link").click()
    expect(heading(nurse.page)).to_have_text(subject)
    expect(nurse.page.get_by_text(body)).to_be_visible()
    assert_no_full_load(nurse, "open thread from queue (boosted link)")
    wait_for_htmx(nurse)
    reply = f"Your renewal is on its way. ({subject})"
    nurse.page.get_by_label("Your reply").fill(reply)
    nurse.page.get_by_role("button", name="Send reply").click()
    expect(notice(nurse.page, REPLY_NOTICE)).to_be_visible()
    expect(nurse.page.get_by_text(reply)).to_be_visible()
    assert_no_full_load(nurse, "Send reply (htmx form, HX-Location)")
    check(nurse, "thread (staff, replied)")

    # Back to the patient: the answer is in the Inbox, unread; Sent shows the READ receipt.
    nav_link(page, "Inbox").click()
    expect(heading(page)).to_have_text("Inbox")
    inbox_row = row_of(page, subject)
    expect(inbox_row.locator(".badge")).to_have_text("Unread")
    expect(inbox_row).to_contain_text(f"Nurse Pat Lee, RN, {CARE_TEAM}")
    assert_no_full_load(patient, "Inbox (boosted nav link)")
    check(patient, "inbox (unread reply)")

    nav_link(page, "Sent").click()
    expect(heading(page)).to_have_text("Sent")
    sent_row = row_of(page, subject)
    expect(sent_row.get_by_role("cell").nth(column_index(page, "Read"))).to_have_text("READ")
    assert_no_full_load(patient, "Sent (boosted nav link)")
    check(patient, "sent")

    page.go_back()  # htmx keeps no history cache (historyCacheSize 0): a reload of Inbox
    expect(heading(page)).to_have_text("Inbox")
    page.wait_for_load_state()

    # The patient opens the answer from the Inbox; after that it is no longer unread.
    set_marker(patient)
    row_of(page, subject).get_by_role("link").click()
    expect(heading(page)).to_have_text(subject)
    expect(page.get_by_text(reply)).to_be_visible()
    expect(page.get_by_text(body)).to_be_visible()
    assert_no_full_load(patient, "open thread from Inbox (boosted link)")
    nav_link(page, "Inbox").click()
    expect(heading(page)).to_have_text("Inbox")
    expect(row_of(page, subject)).to_be_visible()
    expect(row_of(page, subject).locator(".badge")).to_have_count(0)

    # Sign out: a whole new document (htmx: HX-Redirect), and the session is gone.
    page.get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text(SIGNED_OUT_HEADING)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.get_by_text(subject)).to_have_count(0)
    if js:
        assert page.evaluate("window.__marker") is None, "sign-out should load a new page"
    check(patient, "signed out")
    # The back button shows nothing of the patient: no page was kept, and asking again for
    # the inbox leads to the sign-in page.
    page.go_back()
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)
    expect(page.get_by_text(subject)).to_have_count(0)
    expect(page.get_by_text("Alex Rivera")).to_have_count(0)
    page.goto("/mailbox/inbox")
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)

    patient.assert_clean()
    nurse.assert_clean()
    if js:
        assert len(a11y.checked) == 9, a11y.checked
    a11y.assert_clean()


@pytest.mark.parametrize("js", JS_MODES)
def test_compose_with_empty_subject_keeps_what_was_typed(open_tab, a11y, js):
    patient = open_tab(js=js)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    set_marker(patient)

    nav_link(page, "Compose").click()
    expect(heading(page)).to_have_text("Start a new message")
    wait_for_htmx(patient)
    body = "A question about my appointment,\nwith a second line. " + uuid.uuid4().hex[:8]
    recipient = fill_compose(page, "", body)
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.locator("#subject-error")).to_contain_text("Enter a subject.")
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name="Enter a subject.")).to_be_visible()
    expect(page.get_by_label("Subject", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Message", exact=True)).to_have_value(body)
    expect(page.get_by_label("To (care team)")).to_have_value(recipient)
    expect(page.get_by_label("Category")).to_have_value("Medications")
    # The title says so too, after an htmx swap as after a full page.
    expect(page).to_have_title(re.compile(r"^Error: Start a new message"))
    # without JS the page is still /compose; with it, an autosave may have made a draft
    expect(page).to_have_url(re.compile(r"/compose$" if not js else r"/(compose|drafts/\d+)$"))
    # With JS, htmx swapped only the form (the 422 answer's fragment) into the same page.
    assert_no_full_load(patient, "compose with errors (htmx swap of the form)")
    expect(heading(page)).to_have_count(1)
    expect(page.locator("#compose-form")).to_have_count(1)
    if js:
        a11y.check(patient, "compose with errors")

    patient.assert_clean(allow=expected_422)
    a11y.assert_clean()


def test_the_watchers_see_problems(open_tab, a11y):
    """The checks above prove something only if they can fail: a script that breaks the CSP
    is blocked and reported, and axe finds an image without a text alternative."""
    tab = open_tab(js=True)
    page = tab.page
    page.goto("/sign-in")
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__inline = 1";
        document.body.append(script);
        const img = document.createElement("img");
        img.src = "data:,";
        document.querySelector("main").append(img);
    }""")
    for _ in range(50):  # console messages arrive a little after the script ran
        if any("Content Security Policy" in problem for problem in tab.problems):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.__inline") is None, "the CSP let an inline script run"
    with pytest.raises(AssertionError, match="Content Security Policy"):
        tab.assert_clean()

    a11y.check(tab, "sign-in with a broken image")
    with pytest.raises(AssertionError, match="image-alt"):
        a11y.assert_clean()
    a11y.reports.clear()  # seen; nothing for the fixture to print
