"""A call-back when overdue, in a real Chromium with JavaScript on and off (the patient on a
320 px phone without it): veteran2's message went unanswered past its reply time; he asks
for a phone call from the thread, typing a number badly first; nurse1 finds it at the top of
the queue and marks it called back."""

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Thread, TriageGroup
from smweb.services import messaging
from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    LIVE,
    PHONE,
    assert_fits,
    expected_422,
    heading,
    sign_in,
)
from tests.support import user

pytestmark = pytest.mark.browser


def _overdue_thread(subject: str) -> int:
    """A message of veteran2's whose reply time passed yesterday."""
    with LIVE["app"].app_context():
        team = db.session.scalar(db.select(TriageGroup).where(TriageGroup.name == CARE_TEAM))
        thread = messaging.send_new_message(user("veteran2"), messaging.NewMessage(
            team.id, "General", subject, "Is my referral through?")).thread
        db.session.get(Thread, thread.id).due_at = utcnow() - timedelta(days=1)
        db.session.commit()
        thread_id = thread.id
        db.session.remove()
    return thread_id


@pytest.mark.parametrize("js", JS_MODES)
def test_an_overdue_thread_offers_a_phone_call(open_tab, a11y, js):
    subject = f"Referral {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    thread_id = _overdue_thread(subject)
    patient = open_tab(js=js, size=None if js else PHONE)
    page = patient.page
    sign_in(patient, "veteran2", "Inbox")
    page.goto(f"/threads/{thread_id}")
    expect(page.get_by_role("heading", name="Would you rather talk on the phone?"))\
        .to_be_visible()
    page.get_by_label("Phone number to call").fill("call me")
    page.get_by_label("Good times to call (optional)").fill("weekday mornings")
    page.get_by_role("button", name="Ask for a phone call").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem"))\
        .to_contain_text("Enter a phone number the team can call")
    expect(page.get_by_label("Good times to call (optional)")).to_have_value("weekday mornings")
    page.get_by_label("Phone number to call").fill("555-867-5309")
    page.get_by_role("button", name="Ask for a phone call").click()
    expect(page.get_by_text(f"We asked {CARE_TEAM} to call you at 555-867-5309."))\
        .to_be_visible()
    expect(page.get_by_text("You asked for a phone call on")).to_be_visible()
    if js:
        a11y.check(patient, "thread with a call-back asked")
    else:
        assert_fits(page)

    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    waiting = nurse.page.get_by_role("region", name="Call-backs asked for")
    expect(waiting).to_contain_text("555-867-5309, weekday mornings")
    waiting.get_by_role("link", name=subject).click()
    expect(heading(nurse.page)).to_have_text(subject)
    nurse.page.get_by_role("button", name="Called back").click()
    expect(nurse.page.get_by_text("Marked called back.")).to_be_visible()
    for tab in (patient, nurse):
        tab.assert_clean(allow=expected_422)
    a11y.assert_clean()
