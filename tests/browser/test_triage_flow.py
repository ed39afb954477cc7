"""The care team's flow in a real Chromium, JavaScript on and off: a patient writes to
Cardiology; cardio1 sees when the reply is due and assigns the thread to a colleague, who
answers and saves it to the medical record; the patient sees the reply and the due time
they were given."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import JS_MODES, compose_as, heading, nav_link, row_of, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", JS_MODES)
def test_triage_assign_reply_and_save_to_record(open_tab, a11y, js):
    subject = f"Chest tightness {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    patient, page = compose_as(open_tab, js=js)
    page.get_by_label("To (care team)").select_option(label="Cardiology")
    page.get_by_label("Category").select_option("General")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("Mild tightness after walking. Not urgent.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(heading(page)).to_have_text(subject)
    due_notice = page.get_by_role("status").filter(has_text="Your care team should reply by")
    expect(due_notice).to_be_visible()
    # the patient reads the weekday and the whole month ("Wednesday, December 9, 2026, ..."),
    # the queue the short form ("Dec 9, 2026, ...")
    due_text = re.search(r"reply by \w+, (\w{3})\w* (.+?)\.", due_notice.inner_text())
    due_text = f"{due_text.group(1)} {due_text.group(2)}"

    cardio = open_tab(js=js)
    sign_in(cardio, "cardio1", "Your care teams' messages")
    row = row_of(cardio.page, subject)
    expect(row).to_contain_text(due_text)  # the same due time the patient was given
    expect(row).to_contain_text("New")
    if js:
        a11y.check(cardio, "queue with due times")
    row.get_by_role("link").click()
    expect(heading(cardio.page)).to_have_text(subject)
    cardio.page.get_by_label("Assign to").select_option(label="Clerk Robin Diaz")
    cardio.page.get_by_role("button", name="Assign", exact=True).click()
    expect(cardio.page.get_by_text("The thread was assigned.")).to_be_visible()
    cardio.page.get_by_text("History (staff only").click()  # folded away: the thread first
    expect(cardio.page.get_by_text("assigned it to Clerk Robin Diaz")).to_be_visible()
    if js:
        a11y.check(cardio, "thread with staff panel")

    clerk = open_tab(js=js)
    sign_in(clerk, "clerk1", "Your care teams' messages")
    mine = clerk.page.get_by_role("link", name=re.compile(r"^Assigned to me"))
    mine.click()
    # the filtered list has come (htmx swaps it in): only then is its row the one to click
    expect(mine).to_have_attribute("aria-current", "page")
    row_of(clerk.page, subject).get_by_role("link").click()
    expect(heading(clerk.page)).to_have_text(subject)
    clerk.page.get_by_label("Your reply").fill("Please come in tomorrow at 9 for an ECG.")
    clerk.page.get_by_role("button", name="Send reply").click()
    expect(clerk.page.get_by_text("Your reply was sent.")).to_be_visible()
    clerk.page.get_by_role("button", name="Save whole thread to medical record").click()
    expect(clerk.page.get_by_text("Saved to the medical record.")).to_be_visible()
    expect(clerk.page.get_by_text("Whole thread, saved by Clerk Robin Diaz")).to_be_visible()
    with clerk.page.expect_download() as info:
        clerk.page.get_by_role("link", name="FHIR export").click()
    assert info.value.suggested_filename.endswith(".fhir.json")

    nav_link(page, "Inbox").click()
    row_of(page, subject).get_by_role("link").click()
    expect(page.get_by_text("Please come in tomorrow at 9 for an ECG.")).to_be_visible()
    nav_link(page, "Sent").click()
    expect(row_of(page, subject)).to_contain_text(f"Answered (was due {due_text})")
    if js:
        a11y.check(patient, "sent with answered due time")

    for tab in (patient, cardio, clerk):
        tab.assert_clean()
    a11y.assert_clean()
