"""A message's reference number and the patient's read mark, in a real Chromium with
JavaScript on and off: veteran1 sends and is told the number; the help desk (nurse1, on a
phone) finds the message by it; the nurse answers and sees when the patient has read it."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    PHONE,
    assert_fits,
    compose_as,
    heading,
    nav_link,
    row_of,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", JS_MODES)
def test_the_help_desk_finds_a_message_by_its_reference(open_tab, a11y, js):
    subject = f"Billing letter {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    patient, page = compose_as(open_tab, js=js)
    page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    page.get_by_label("Category").select_option("General")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("I got a letter I don't understand.")
    page.get_by_role("button", name="Send", exact=True).click()
    sent = page.get_by_role("status").filter(has_text="Reference number:")
    expect(sent).to_be_visible()
    reference = re.search(r"SM-\d{7}-\d", sent.inner_text()).group(0)
    expect(page.get_by_text(f"Reference {reference}")).to_be_visible()  # beside the message

    nurse = open_tab(js=js, size=PHONE)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nav_link(nurse.page, "Search").click()
    expect(heading(nurse.page)).to_have_text("Search messages")
    # read out over the phone, typed without the dashes
    nurse.page.get_by_label("Words in the subject or message").fill(reference.replace("-", " "))
    nurse.page.get_by_role("button", name="Search", exact=True).click()
    found = nurse.page.get_by_role("link", name=subject)
    expect(found).to_be_visible()
    expect(nurse.page.locator(".snippet")).to_have_count(1)
    assert_fits(nurse.page)
    if js:
        a11y.check(nurse, "search by reference number, phone")
    found.click()
    expect(heading(nurse.page)).to_have_text(subject)
    nurse.page.get_by_label("Your reply").fill("That letter is about your co-pay; no action.")
    nurse.page.get_by_role("button", name="Send reply").click()
    expect(nurse.page.get_by_text("Your reply was sent.")).to_be_visible()
    expect(nurse.page.get_by_text("Not yet read by the patient")).to_be_visible()

    nav_link(page, "Inbox").click()
    row_of(page, subject).get_by_role("link").click()
    expect(page.get_by_text("That letter is about your co-pay")).to_be_visible()
    expect(page.get_by_text("Read by patient")).to_have_count(0)  # staff's mark only

    nurse.page.reload()
    expect(nurse.page.get_by_text("Read by patient", exact=True)).to_be_visible()
    expect(nurse.page.get_by_text("Not yet read by the patient")).to_have_count(0)
    assert_fits(nurse.page)

    for tab in (patient, nurse):
        tab.assert_clean()
    a11y.assert_clean()
