"""A call-back when overdue: once a thread's reply time has passed, its patient may ask for a
phone call (a number, good times); it tops the team's queue and the coordinator's
escalations until someone on the team marks it called back; the patient sees it was asked.
Before the reply time, or twice, or with a number no one can dial, it is refused."""

import html
import re

import pytest

from smweb.extensions import db
from smweb.models import CallBack, Thread
from tests.support import new_thread, sign_in, user


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


@pytest.fixture
def overdue(app, clock):
    """veteran1's new thread to Primary Care Team Blue, a week later (unanswered)."""
    with app.app_context():
        thread_id = new_thread(subject="Knee again").id
    clock.advance(days=7)
    return thread_id


def _browser(app, username):
    browser = app.test_client()
    assert sign_in(browser, username).status_code == 303
    return browser


def test_the_patient_asks_and_the_team_and_coordinator_see_it(app, overdue):
    patient = _browser(app, "veteran1")
    page = patient.get(f"/threads/{overdue}").text
    assert "Would you rather talk on the phone?" in page
    asked = patient.post(f"/threads/{overdue}/call-back", data={
        "csrf_token": _token(page), "phone": "(555) 123-4567", "good_times": "mornings"})
    assert asked.status_code == 303
    page = patient.get(asked.location).text
    assert "We asked Primary Care Team Blue to call you at (555) 123-4567." in page
    assert "You asked for a phone call on" in page and "Ask for a phone call" not in page

    nurse = _browser(app, "nurse1")
    queue = nurse.get("/triage/").text
    assert "Call-backs asked for (1)" in queue and "(555) 123-4567, mornings" in queue
    coordinator = _browser(app, "coordinator1")
    assert "Call-backs asked for (1)" in coordinator.get("/triage/escalations").text

    thread_page = nurse.get(f"/threads/{overdue}").text
    assert "Call-back asked" in thread_page and "asked for a phone call" in thread_page
    done = nurse.post(f"/triage/threads/{overdue}/called-back",
                      data={"csrf_token": _token(thread_page)})
    assert done.status_code == 303
    assert "Marked called back." in nurse.get(done.location).text
    assert "Call-backs asked for" not in nurse.get("/triage/").text
    with app.app_context():
        call_back = db.session.scalar(db.select(CallBack))
        assert call_back.done_by_id == user("nurse1").id


@pytest.mark.parametrize("phone, problem", [
    ("", "Enter the number to call."),
    ("call me", "Enter a phone number the team can call"),
    ("12", "Enter a phone number the team can call"),
])
def test_a_number_no_one_can_dial_is_refused_and_kept(app, overdue, phone, problem):
    patient = _browser(app, "veteran1")
    page = patient.get(f"/threads/{overdue}").text
    patient.post(f"/threads/{overdue}/reply", data={  # a reply started, kept as a draft
        "csrf_token": _token(page), "action": "save", "body": "Half a reply"})
    answer = patient.post(f"/threads/{overdue}/call-back", data={
        "csrf_token": _token(page), "phone": phone, "good_times": "after 5"})
    assert answer.status_code == 422
    assert problem in html.unescape(answer.text)
    assert 'value="after 5"' in answer.text  # what was typed, kept
    assert "Half a reply" in answer.text  # and the reply started, still in its box
    assert "There is a problem" in answer.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CallBack.id))) == 0


def test_not_before_the_reply_time_nor_twice_nor_for_others(app, clock):
    with app.app_context():
        thread_id = new_thread(subject="Fresh").id
    patient = _browser(app, "veteran1")
    page = patient.get(f"/threads/{thread_id}").text
    assert "Ask for a phone call" not in page
    early = patient.post(f"/threads/{thread_id}/call-back", data={
        "csrf_token": _token(page), "phone": "555-123-4567"})
    assert early.status_code == 422
    assert "once the reply time has passed" in early.text
    clock.advance(days=7)
    patient = _browser(app, "veteran1")  # a week on: a new session
    page = patient.get(f"/threads/{thread_id}").text
    data = {"csrf_token": _token(page), "phone": "555-123-4567"}
    assert patient.post(f"/threads/{thread_id}/call-back", data=data).status_code == 303
    again = patient.post(f"/threads/{thread_id}/call-back", data=data)  # a double tap
    assert again.status_code == 303
    other_number = patient.post(f"/threads/{thread_id}/call-back",
                                data={**data, "phone": "555-000-1111"})
    assert other_number.status_code == 422 and "already asked" in other_number.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CallBack.id))) == 1
    other = _browser(app, "veteran2")
    page = other.get("/compose").text
    assert other.post(f"/threads/{thread_id}/call-back", data={
        "csrf_token": _token(page), "phone": "555-123-4567"}).status_code == 404
    with app.app_context():
        assert db.session.get(Thread, thread_id).due_at is not None
