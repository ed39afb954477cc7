"""Words of an emergency, in a real Chromium with JavaScript on and off (the patient on a
320 px phone without it): veteran1 writes of chest pain and presses Send; the page says to
call 911, the crisis line or the team instead, with nothing sent and the text still there;
he sends it anyway, and it tops nurse1's queue under "Possible urgent"."""

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
    wait_for_htmx,
)

pytestmark = pytest.mark.browser
BODY = "Since this morning I have chest pain when I walk."


@pytest.mark.parametrize("js", JS_MODES)
def test_chest_pain_stops_at_the_warning_and_tops_the_queue(open_tab, a11y, js):
    subject = f"Walking {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    patient = open_tab(js=js, size=None if js else PHONE)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    nav_link(page, "Compose").click()
    wait_for_htmx(patient)
    page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    page.get_by_label("Category").select_option("General")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill(BODY)
    page.get_by_role("button", name="Send", exact=True).click()
    warning = page.get_by_role("alert").filter(has_text="don't wait for a reply")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Your message mentions “chest pain”")
    expect(warning).to_contain_text("Call 911")
    expect(warning).to_contain_text("call 555-0100")
    expect(warning).to_contain_text("Your message has not been sent.")
    expect(page.get_by_label("Message", exact=True)).to_have_value(BODY)
    if js:
        a11y.check(patient, "compose stopped at the emergency warning")
    else:
        assert_fits(page)
    page.get_by_role("button", name="Send my message anyway").click()
    expect(page.get_by_role("status").filter(has_text="Reference number:")).to_be_visible()
    expect(heading(page)).to_have_text(subject)

    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    urgent = nurse.page.get_by_role("region", name="Possible urgent")
    expect(urgent).to_be_visible()
    urgent.get_by_role("link", name=subject).click()
    expect(heading(nurse.page)).to_have_text(subject)
    expect(nurse.page.get_by_text("sent past the emergency warning")).to_be_visible()
    for tab in (patient, nurse):
        tab.assert_clean()
    a11y.assert_clean()
