"""Requests that route, in a real Chromium with JavaScript on and off (the patient on a 320
px phone without it): veteran2 asks for a medication renewal from Compose's "Renew a
medication"; nurse1 finds it with its fields laid out and its category set."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    PHONE,
    assert_fits,
    heading,
    nav_link,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", JS_MODES)
def test_a_renewal_reaches_the_team_with_its_fields(open_tab, a11y, js):
    medication = f"Metformin{uuid.uuid4().hex[:5]}"
    patient = open_tab(js=js, size=None if js else PHONE)
    page = patient.page
    sign_in(patient, "veteran2", "Inbox")
    nav_link(page, "Compose").click()
    page.get_by_role("link", name="Renew a medication").click()
    expect(heading(page)).to_have_text("Renew a medication")
    page.get_by_role("button", name="Send request").click()  # in a hurry: nothing filled in
    expect(page.get_by_text("Enter the name of the medication.").first).to_be_visible()
    page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    page.get_by_label("Medication name").fill(medication)
    page.get_by_label("Dose, if you know it").fill("500 mg twice a day")
    page.get_by_label("How you get it").select_option(label="I will pick it up at the VA "
                                                           "pharmacy")
    if js:
        a11y.check(patient, "renewal request form")
    else:
        assert_fits(page)
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status").filter(has_text="Reference number:")).to_be_visible()
    expect(heading(page)).to_have_text(f"Renewal: {medication}")

    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nurse.page.goto(f"/search?q={medication}")
    nurse.page.get_by_role("link", name=f"Renewal: {medication}").click()
    expect(nurse.page.get_by_text(f"Medication: {medication}")).to_be_visible()
    expect(nurse.page.get_by_text("Pharmacy: I will pick it up at the VA pharmacy"))\
        .to_be_visible()
    for tab in (patient, nurse):
        tab.assert_clean(allow=lambda p: "status of 422" in p)
    a11y.assert_clean()
