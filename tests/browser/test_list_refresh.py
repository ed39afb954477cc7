"""The Inbox refreshing itself, in Chromium: while the patient has a box ticked the refresh
waits (the tick stays, nothing moves under the pointer); once nothing is ticked the new
conversation comes in and a polite status says "1 new message"."""

import uuid

import pytest
from playwright.sync_api import expect

from smweb.extensions import db
from smweb.models import TriageGroup
from smweb.services import messaging
from tests.browser.support import LIVE, sign_in
from tests.support import user

pytestmark = pytest.mark.browser


@pytest.fixture
def quick_refresh(monkeypatch):
    monkeypatch.setitem(LIVE["app"].config, "INBOX_POLL_SECONDS", 1)


def team_writes(subject: str) -> None:
    with LIVE["app"].app_context():
        group = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Primary Care Team Blue"))
        messaging.start_thread_to_patient(
            user("nurse1"), user("veteran1").id,
            messaging.NewMessage(group.id, "General", subject, "Your results are normal."))
        db.session.remove()


def test_a_refresh_waits_while_a_box_is_ticked_then_says_what_came(open_tab, quick_refresh):
    patient = open_tab(js=True)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    rows = page.locator("#message-list tbody tr")
    first_box = rows.first.get_by_role("checkbox")
    first_box.check()
    subject = f"Lab results {uuid.uuid4().hex[:6]}"
    team_writes(subject)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "poll=1" in r.url else None)
    page.wait_for_timeout(3500)  # three refresh turns go by
    expect(first_box).to_be_checked()  # still ticked: the list was not replaced
    expect(page.get_by_text(subject)).to_have_count(0)
    assert polls == [], "a refresh went while a box was ticked"

    first_box.uncheck()
    page.locator("h1").click()  # the focus leaves the list, as a person moving on
    expect(page.get_by_role("link", name=subject)).to_be_visible(timeout=10_000)
    expect(page.locator("#list-news")).to_have_text("1 new message")
    expect(page.locator("#list-news")).to_have_attribute("role", "status")
    patient.assert_clean()


def patient_writes(subject: str) -> None:
    with LIVE["app"].app_context():
        group = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Primary Care Team Blue"))
        messaging.send_new_message(user("veteran1"), messaging.NewMessage(
            group.id, "General", subject, "A question for my team."))
        db.session.remove()


def test_the_queue_waits_while_its_sort_has_the_focus(open_tab, quick_refresh):
    nurse = open_tab(js=True)
    page = nurse.page
    sign_in(nurse, "nurse1", "Your care teams' messages")
    sort = page.locator("#queue-list").get_by_label("Sort")
    sort.focus()
    subject = f"Knee question {uuid.uuid4().hex[:6]}"
    patient_writes(subject)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "poll=1" in r.url else None)
    page.wait_for_timeout(3500)
    expect(sort).to_be_focused()  # the control she is using was not swapped away
    assert polls == [], "a refresh went while the sort had the focus"
    page.locator("h1").click()
    expect(page.get_by_role("link", name=subject)).to_be_visible(timeout=10_000)
    expect(page.locator("#list-news")).to_have_text("1 new message")
    nurse.assert_clean()
