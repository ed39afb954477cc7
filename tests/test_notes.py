"""Staff notes and consults: a note only staff see (never the patient's thread, print page or
medical record), which may ask a colleague of any team of the facility for advice; the
thread is then in that colleague's queue under Consults until they answer with a note. The
colleague reads the thread but does not write to the patient or work the thread."""

import json

from smweb.extensions import db
from smweb.models import AuditEvent, Message, RecordEntry, Thread
from tests.support import post_form, sign_in, table_row, user

REFILL = "Refill for blood pressure pills"  # veteran1 to Primary Care Team Blue
PRIVATE_NOTE = "Suspect a dosing mix-up; check the pharmacy record"


def _thread(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Thread.id).where(Thread.subject == REFILL))


def _browser(app, username):
    browser = app.test_client()
    assert sign_in(browser, username).status_code == 303
    return browser


def _note(browser, tid, body, ask=""):
    return post_form(browser, f"/triage/threads/{tid}/notes", {"body": body, "ask": ask},
                     form_page=f"/threads/{tid}")


def test_a_note_is_for_staff_only(app):
    tid = _thread(app)
    doctor = _browser(app, "doctor1")
    answer = _note(doctor, tid, PRIVATE_NOTE)
    assert answer.status_code == 303 and answer.location.endswith(f"/threads/{tid}")
    page = doctor.get(answer.location).text
    assert "Your note was added. The patient does not see it." in page
    assert PRIVATE_NOTE in page and "Notes (staff only)" in page
    nurse = _browser(app, "nurse1")
    assert PRIVATE_NOTE in nurse.get(f"/threads/{tid}").text  # the whole team sees it
    # never the patient's: thread, print page, inbox, search
    patient = _browser(app, "veteran1")
    for path in (f"/threads/{tid}", f"/threads/{tid}/print", "/mailbox/inbox",
                 "/search?q=pharmacy", "/search?q=dosing"):
        assert PRIVATE_NOTE not in patient.get(path).text, path
    # nor the medical record's FHIR export
    post_form(nurse, f"/triage/threads/{tid}/record", form_page=f"/threads/{tid}")
    with app.app_context():
        entry = db.session.scalar(db.select(RecordEntry.id))
        audited = db.session.scalars(db.select(AuditEvent.action)).all()
    export = nurse.get(f"/triage/records/{entry}.json").data
    assert PRIVATE_NOTE not in json.dumps(json.loads(export))
    assert "note_add" in audited
    with app.app_context():  # and the note's words are not in the audit trail
        assert not db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
            AuditEvent.user_agent.contains("dosing")))


def test_an_empty_note_is_refused_with_a_message(app):
    tid = _thread(app)
    nurse = _browser(app, "nurse1")
    answer = _note(nurse, tid, "   ")
    assert answer.status_code == 303
    assert "Write the note first." in nurse.get(answer.location).text


def test_a_consult_reaches_a_colleague_of_another_team_until_answered(app):
    tid = _thread(app)
    with app.app_context():
        cardio1 = user("cardio1").id
        messages = db.session.scalar(db.select(db.func.count(Message.id)))
    nurse = _browser(app, "nurse1")
    answer = _note(nurse, tid, "Is this dose safe with his heart medicine?", ask=str(cardio1))
    assert "Dr. Morgan Chen was asked for advice." in nurse.get(answer.location).text
    cardio = _browser(app, "cardio1")
    consults = cardio.get("/triage/?filter=consults").text
    row = table_row(consults, REFILL)
    assert "Alex Rivera" in row
    assert REFILL not in cardio.get("/triage/?filter=open").text  # not Cardiology's thread
    page = cardio.get(f"/threads/{tid}").text
    assert "Is this dose safe with his heart medicine?" in page
    assert "You were asked for advice" in page and 'id="reply-form"' not in page
    # a consultant doesn't write to the patient, nor work or record the thread
    refused = post_form(cardio, f"/threads/{tid}/reply", {"body": "Hi", "action": "send"},
                        form_page=f"/threads/{tid}")
    assert refused.status_code == 403 and "answer with a note" in refused.text
    assigned = post_form(cardio, f"/triage/threads/{tid}/assign", {"assignee": str(cardio1)},
                         form_page=f"/threads/{tid}")
    assert "You are not on this thread" in cardio.get(assigned.location).text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == messages
    # the answer is a note; the consult leaves the Consults tab
    _note(cardio, tid, "Safe: no interaction at this dose.")
    assert REFILL not in cardio.get("/triage/?filter=consults").text
    panel = nurse.get(f"/threads/{tid}").text
    assert "Safe: no interaction at this dose." in panel and "(answered)" in panel
    assert cardio.get(f"/threads/{tid}").status_code == 200  # still readable to them


def test_who_may_not_add_notes(app):
    tid = _thread(app)
    with app.app_context():
        echo = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Echo results question"))
    # another team's staff who were not asked, and patients, get 404
    for who, thread in (("cardio1", tid), ("veteran1", tid), ("veteran2", tid)):
        assert _note(_browser(app, who), thread, "x").status_code == 404, who
    # asking someone outside the facility's teams (or a patient) is refused
    with app.app_context():
        patient = user("veteran2").id
    nurse = _browser(app, "nurse1")
    answer = _note(nurse, tid, "x", ask=str(patient))
    assert "Choose a colleague from the list, or nobody." in nurse.get(answer.location).text
    assert echo
