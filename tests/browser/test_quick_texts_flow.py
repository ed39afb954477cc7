"""Quick texts in a real Chromium, JavaScript on and off: Alex Rivera writes; nurse1 finds
his message and inserts her care team's "Lab results normal" into her reply, with what she
had typed kept and his first name filled in, sends it, and the patient reads it; on a phone,
the picker fits."""

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
    wait_for_htmx,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", JS_MODES)
def test_a_team_quick_text_goes_into_a_reply(open_tab, a11y, js):
    # a thread of its own: the demo's threads are the whole suite's, and move in the queue
    subject = f"Lab results question {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    patient, patient_page = compose_as(open_tab, js=js)
    patient_page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    patient_page.get_by_label("Category").select_option("Test results")
    patient_page.get_by_label("Subject", exact=True).fill(subject)
    patient_page.get_by_label("Message", exact=True).fill("Are my lab results back?")
    patient_page.get_by_role("button", name="Send", exact=True).click()
    expect(patient_page.get_by_role("status").filter(has_text="Reference number:"))\
        .to_be_visible()

    nurse = open_tab(js=js, size=None if js else PHONE)
    page = nurse.page
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nav_link(page, "Search").click()
    page.get_by_label("Words in the subject or message").fill(subject)
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name=subject).click()
    expect(heading(page)).to_have_text(subject)
    reply = page.get_by_label("Your reply")
    reply.fill(f"Thanks for writing ({'js' if js else 'nojs'}).")
    page.get_by_label("Quick text").select_option(label="Lab results normal")
    page.get_by_role("button", name="Insert", exact=True).click()
    wait_for_htmx(nurse)
    expect(reply).to_have_value(
        f"Thanks for writing ({'js' if js else 'nojs'}).\n\nHello Alex, your recent lab "
        "results are normal and need no action. If you have questions, call Primary Care "
        "Team Blue at 555-0100.\nNurse Pat Lee, RN")
    if not js:
        expect(page.get_by_text("The quick text was added at the end of your message."))\
            .to_be_visible()
        assert_fits(page)
    else:
        a11y.check(nurse, "reply with a quick text inserted")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your reply was sent.")).to_be_visible()

    nav_link(patient_page, "Inbox").click()
    row_of(patient_page, subject).get_by_role("link").click()
    latest = patient.page.locator("#latest")  # the newest message
    expect(latest).to_contain_text(f"Thanks for writing ({'js' if js else 'nojs'}).")
    expect(latest).to_contain_text("Hello Alex, your recent lab results are normal")

    nav_link(page, "Quick texts").click()
    expect(heading(page)).to_have_text("Quick texts")
    expect(page.get_by_role("heading", name="Primary Care Team Blue")).to_be_visible()
    for tab in (nurse, patient):
        tab.assert_clean()
    a11y.assert_clean()
