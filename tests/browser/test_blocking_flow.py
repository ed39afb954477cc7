"""Blocking in Chromium, JavaScript on and off: coordinator1 restricts veteran2 from replying
to Primary Care; veteran2 sees the notice in the thread and can still read it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import JS_MODES, heading, nav_link, row_of, sign_in

pytestmark = pytest.mark.browser

REPLY_NOTICE = "Your access to this Triage Group has been restricted."


@pytest.mark.parametrize("js", JS_MODES)
def test_coordinator_blocks_replies_and_patient_sees_the_notice(open_tab, a11y, js):
    coordinator = open_tab(js=js)
    page = coordinator.page
    sign_in(coordinator, "coordinator1", "Your care teams' messages")
    nav_link(page, "Patients").click()
    page.get_by_role("link", name="Jordan Smith").click()
    expect(heading(page)).to_have_text("Jordan Smith")
    page.get_by_label("Restrict the patient").select_option("reply")
    page.get_by_label("Care team").select_option(label="Primary Care Team Blue")
    page.get_by_label("Reason (kept with the restriction)").fill("Repeated abusive messages")
    page.get_by_role("button", name="Restrict").click()
    expect(page.get_by_text("The restriction is in place.")).to_be_visible()
    expect(page.get_by_role("cell", name="Repeated abusive messages").first).to_be_visible()
    if js:
        a11y.check(coordinator, "patient restrictions")

    patient = open_tab(js=js)
    sign_in(patient, "veteran2", "Inbox")
    nav_link(patient.page, "Sent").click()
    row_of(patient.page, "Change of address").get_by_role("link").click()
    expect(heading(patient.page)).to_have_text("Change of address")
    expect(patient.page.get_by_text("I moved. How do I update my mailing address?")
           ).to_be_visible()
    expect(patient.page.get_by_role("alert").filter(has_text=REPLY_NOTICE)).to_be_visible()
    expect(patient.page.get_by_label("Your reply")).to_have_count(0)
    if js:
        a11y.check(patient, "thread with reply restriction")

    # lift it again, so the other run (and other tests) start clean
    page.get_by_role("button", name=re.compile("^Lift")).first.click()
    expect(page.get_by_text("The restriction was lifted.")).to_be_visible()
    coordinator.assert_clean()
    patient.assert_clean()
    a11y.assert_clean()
