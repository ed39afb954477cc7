"""Caregivers in a real Chromium, with JavaScript on and off (the caregiver on a 320 px phone
without it): caregiver1 (Sam Rivera) signs in, reads veteran1's Inbox acting for him and
sends a message, which nurse1 sees as sent by the caregiver for the patient; veteran1 ends
Sam's access on his Caregivers page, and Sam's next click lands on a page that says so."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from smweb.extensions import db
from smweb.models import Caregiver
from smweb.services import caregivers
from tests.browser.support import (
    JS_MODES,
    LIVE,
    PHONE,
    assert_fits,
    heading,
    nav_link,
    notice,
    sign_in,
    start_message,
)
from tests.support import user

pytestmark = pytest.mark.browser

SENT_NOTICE = "Your message was sent."


def _give_sam_access() -> None:
    """veteran1's demo caregiver, read and write (again, after the other mode ended it)."""
    with LIVE["app"].app_context():
        alex = user("veteran1")
        current = db.session.scalar(db.select(Caregiver).where(
            Caregiver.caregiver_id == user("caregiver1").id, Caregiver.patient_id == alex.id,
            Caregiver.ended_at.is_(None)))
        if current is None:
            caregivers.add(alex, "caregiver1", True, by=alex)
        db.session.remove()


@pytest.mark.parametrize("js", JS_MODES)
def test_a_caregiver_writes_for_the_patient_until_access_ends(open_tab, a11y, js):
    _give_sam_access()
    subject = f"For Alex {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    sam = open_tab(js=js, size=None if js else PHONE)
    page = sam.page
    sign_in(sam, "caregiver1", "Inbox")
    expect(page.get_by_role("note")).to_contain_text("Acting for Alex Rivera")
    expect(page.get_by_text("Signed in as Sam Rivera")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Refill for blood pressure pills")))\
        .to_be_visible()
    if js:
        a11y.check(sam, "inbox, acting for a patient")
    else:
        assert_fits(page)
    start_message(page, subject, "Alex asked me to write: his new cuff reads high.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(notice(page, SENT_NOTICE)).to_be_visible()
    expect(heading(page)).to_have_text(subject)
    expect(page.get_by_role("heading", name="Sent by Sam Rivera for Alex Rivera"))\
        .to_be_visible()

    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nurse.page.get_by_role("link", name=subject).first.click()
    expect(heading(nurse.page)).to_have_text(subject)
    expect(nurse.page.get_by_role("heading", name="Sent by Sam Rivera for Alex Rivera"))\
        .to_be_visible()

    alex = open_tab(js=js)
    sign_in(alex, "veteran1", "Inbox")
    nav_link(alex.page, "Your account").click()
    alex.page.get_by_role("link", name="Let a caregiver read or write your messages").click()
    expect(heading(alex.page)).to_have_text("Caregivers")
    if js:
        a11y.check(alex, "the patient's caregivers")
    alex.page.get_by_role("button", name="End Sam Rivera's access").click()
    expect(notice(alex.page, "Sam Rivera no longer has access to your messages."))\
        .to_be_visible()
    expect(alex.page.get_by_text("No one else has access to your messages.")).to_be_visible()

    nav_link(page, "Inbox").click()
    expect(page.get_by_text("Your access to Alex Rivera's messages has ended."))\
        .to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Refill for blood pressure"))).to_have_count(0)
    for tab in (nurse, alex):
        tab.assert_clean()
    sam.assert_clean(allow=lambda problem: "status of 403" in problem)
    a11y.assert_clean()
