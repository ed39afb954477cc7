"""Requests that route: "Renew a medication" and "Ask about an appointment" go to the chosen
care team with their category set, their fields laid out for the team and a subject made
from them; bad input is refused with its reason and kept; the emergency check applies."""

import html
import re

import pytest

from smweb.extensions import db
from smweb.models import Message, Thread, TriageGroup
from tests.support import sign_in


def _form(page: str) -> dict:
    return {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1],
        "form_key": re.search(r'name="form_key" type="hidden" value="([0-9a-f]{32})"', page)[1],
    }


def _blue(app) -> str:
    with app.app_context():
        return str(db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue")))


@pytest.fixture
def patient(app):
    browser = app.test_client()
    assert sign_in(browser, "veteran1").status_code == 303
    return browser


def _thread(app, subject):
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.subject == subject))
        body = db.session.scalar(db.select(Message.body).where(Message.thread_id == thread.id))
        return thread.category, body


def test_a_renewal_reaches_the_team_laid_out(app, patient):
    page = patient.get("/compose/renewal")
    assert page.status_code == 200 and "<h1>Renew a medication</h1>" in page.text
    sent = patient.post("/compose/renewal", data={
        **_form(page.text), "recipient": _blue(app), "medication": "Lisinopril",
        "dose": "10 mg once a day", "pharmacy": "mail", "note": "I have 5 days left.",
        "action": "send"})
    assert sent.status_code == 303
    category, body = _thread(app, "Renewal: Lisinopril")
    assert category == "Medications"
    assert body == ("Request: Renew a medication\nMedication: Lisinopril\n"
                    "Dose: 10 mg once a day\nPharmacy: By mail (VA mail-order pharmacy)\n\n"
                    "I have 5 days left.")
    assert "Reference number: SM-" in patient.get(sent.location).text


def test_an_appointment_question_reaches_the_team_laid_out(app, patient):
    page = patient.get("/compose/appointment")
    sent = patient.post("/compose/appointment", data={
        **_form(page.text), "recipient": _blue(app), "visit": "my eye exam on May 3",
        "days": ["tue", "thu"], "times": ["morning"], "action": "send"})
    assert sent.status_code == 303
    category, body = _thread(app, "Appointment: my eye exam on May 3")
    assert category == "Appointments"
    assert "Days that suit: Tuesday, Thursday\nTimes that suit: Mornings (8 to 12)" in body


def test_a_request_missing_its_fields_is_refused_and_kept(app, patient):
    page = patient.get("/compose/renewal")
    answer = patient.post("/compose/renewal", data={
        **_form(page.text), "recipient": "", "medication": "", "dose": "twice",
        "pharmacy": "drone", "action": "send"})
    assert answer.status_code == 422
    text = html.unescape(answer.text)
    assert "Select the care team to write to." in text
    assert "Enter the name of the medication." in text
    assert "Choose how you get your medication." in text
    assert 'value="twice"' in text  # what was typed, kept


def test_a_request_with_words_of_an_emergency_stops_first(app, patient):
    page = patient.get("/compose/appointment")
    fields = {**_form(page.text), "recipient": _blue(app), "visit": "follow-up",
              "note": "I get chest pain when I walk."}
    stopped = patient.post("/compose/appointment", data={**fields, "action": "send"})
    assert stopped.status_code == 200
    assert "Your message mentions “chest pain”" in html.unescape(stopped.text)
    sent = patient.post("/compose/appointment", data={**fields, "action": "send_anyway"})
    assert sent.status_code == 303


def test_the_compose_page_offers_the_requests(app, patient):
    page = patient.get("/compose").text
    assert 'href="/compose/renewal">Renew a medication</a>' in page
    assert 'href="/compose/appointment">Ask about an appointment</a>' in page


def test_a_request_sent_after_the_session_ran_out_is_kept_as_a_draft(app, patient, clock):
    page = patient.get("/compose/renewal").text
    clock.advance(minutes=31)  # typing slowly on a phone
    answer = patient.post("/compose/renewal", data={
        **_form(page), "recipient": _blue(app), "medication": "Atorvastatin",
        "action": "send"})
    assert answer.status_code == 302
    assert "/sign-in" in answer.location and "unsent=kept" in answer.location
    with app.app_context():
        from smweb.models import Draft

        draft = db.session.scalar(db.select(Draft).where(Draft.subject ==
                                                         "Renewal: Atorvastatin"))
        assert draft is not None and "Medication: Atorvastatin" in draft.body
        assert db.session.scalar(db.select(Thread).where(
            Thread.subject == "Renewal: Atorvastatin")) is None  # never sent


def test_enter_in_a_field_after_the_warning_is_a_plain_send(app, patient):
    page = patient.get("/compose/appointment").text
    stopped = patient.post("/compose/appointment", data={
        **_form(page), "recipient": _blue(app), "visit": "eye exam",
        "note": "I get chest pain.", "action": "send"})
    html_text = stopped.text
    form_at = html_text.index('<form method="post" action="/compose/appointment"')
    first = html_text.index('name="action"', form_at)
    assert html_text[first:first + 40].startswith('name="action" value="send"')
