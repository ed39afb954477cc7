"""Staff notes and consults in a real Chromium, JavaScript on and off: veteran2 writes;
doctor1 adds a note to the thread and asks cardio1 (of another team) for advice; cardio1,
on a phone, finds the thread under Consults, reads the note and answers with one of her
own, and the thread leaves her Consults; veteran2 sees none of it."""

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
NOTE = "Heart rate 48 at home: worth a cardiology look?"
ANSWER = "Not urgent; book an ECG this week."


def consults_tab(page):
    return page.get_by_role("link", name=re.compile(r"^Consults \("))


@pytest.mark.parametrize("js", JS_MODES)
def test_a_note_and_a_consult_stay_with_staff(open_tab, a11y, js):
    subject = f"Slow pulse {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    patient, patient_page = compose_as(open_tab, "veteran2", js=js)
    patient_page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    patient_page.get_by_label("Category").select_option("General")
    patient_page.get_by_label("Subject", exact=True).fill(subject)
    patient_page.get_by_label("Message", exact=True).fill("My pulse is slow in the mornings.")
    patient_page.get_by_role("button", name="Send", exact=True).click()
    expect(patient_page.get_by_role("status").filter(has_text="Reference number:"))\
        .to_be_visible()

    doctor = open_tab(js=js)
    page = doctor.page
    sign_in(doctor, "doctor1", "Your care teams' messages")
    page.goto("/search?q=" + subject.replace(" ", "+"))
    page.get_by_role("link", name=subject).click()
    expect(heading(page)).to_have_text(subject)
    page.get_by_label("Add a note (the patient never sees it)").fill(NOTE)
    page.get_by_label("Ask a colleague for advice").select_option(label="Dr. Morgan Chen")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Your note was added. The patient does not see it. "
                            "Dr. Morgan Chen was asked for advice.")).to_be_visible()
    notes = page.get_by_role("list", name="Notes (staff only)")
    expect(notes).to_contain_text(NOTE)
    expect(notes).to_contain_text("asked Dr. Morgan Chen (waiting for an answer)")
    if js:
        a11y.check(doctor, "thread with a staff note and a consult")

    cardio = open_tab(js=js, size=PHONE)
    sign_in(cardio, "cardio1", "Your care teams' messages")
    consults_tab(cardio.page).click()
    row_of(cardio.page, subject).get_by_role("link").click()
    expect(heading(cardio.page)).to_have_text(subject)
    expect(cardio.page.get_by_text("You were asked for advice on this thread")).to_be_visible()
    expect(cardio.page.get_by_label("Your reply")).to_have_count(0)  # she doesn't write to him
    expect(cardio.page.get_by_role("list", name="Notes (staff only)")).to_contain_text(NOTE)
    assert_fits(cardio.page)
    cardio.page.get_by_label("Add a note (the patient never sees it)").fill(ANSWER)
    cardio.page.get_by_role("button", name="Add note").click()
    expect(cardio.page.get_by_text("Your note was added.")).to_be_visible()
    nav_link(cardio.page, "Queue").click()
    consults_tab(cardio.page).click()
    expect(cardio.page.get_by_role("link", name="Consults (0)")).to_be_visible()
    expect(row_of(cardio.page, subject)).to_have_count(0)

    page.reload()
    expect(notes).to_contain_text(ANSWER)
    expect(notes).to_contain_text("asked Dr. Morgan Chen (answered)")

    patient_page.reload()
    expect(patient_page.get_by_text("My pulse is slow in the mornings.")).to_be_visible()
    for hidden in (NOTE, ANSWER, "Notes (staff only)", "Dr. Morgan Chen"):
        expect(patient_page.get_by_text(hidden)).to_have_count(0)
    for tab in (patient, doctor, cardio):
        tab.assert_clean()
    a11y.assert_clean()
