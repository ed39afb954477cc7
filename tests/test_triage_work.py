"""The care team's work on threads: the reply clock as staff and patients see it, filters,
assignment and surrogates, reassignment, completion, escalation, the medical record (FHIR)
and the education library."""

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import EducationItem, Notification, RecordEntry, Thread, TriageGroup
from smweb.services import messaging, triage
from tests.support import (
    care_team,
    count_statements,
    new_thread,
    patient,
    post_form,
    sign_in,
    table_row,
    user,
)


def thread_named(subject):
    return db.session.scalar(db.select(Thread).where(Thread.subject == subject))


def thread_id(app, subject):
    with app.app_context():
        return thread_named(subject).id


def make_overdue(app, subject, days=1):
    with app.app_context():
        thread = thread_named(subject)
        thread.due_at = utcnow() - timedelta(days=days)
        thread.warn_at = thread.due_at - timedelta(days=1)
        for message in thread.messages:
            if message.from_patient and message.reply_due_at:
                message.reply_due_at = thread.due_at
        db.session.commit()


# --- the clock, as patients and staff see it ------------------------------------------------

def test_patient_sees_when_a_reply_is_due(login, client, app):
    with app.app_context():
        thread = new_thread(subject="Knee pain")
        assert thread.due_at is not None and thread.status == "new"
        assert thread.messages[0].reply_due_at == thread.due_at
    login("veteran1")
    page = client.get(f"/threads/{thread_id(app, 'Knee pain')}").get_data(as_text=True)
    assert "Your care team should reply by" in page
    sent = client.get("/mailbox/sent").get_data(as_text=True)
    row = table_row(sent, "Knee pain")
    assert "EST" in row and "Overdue" not in row


def test_the_reply_by_time_reads_in_the_facilitys_time_zone(app):
    with app.app_context():
        island = care_team(timezone="Pacific/Honolulu")
        person = patient(island)
        tid = new_thread(person, island, subject="Island question").id
        username = person.username
    client = app.test_client()
    assert sign_in(client, username).status_code == 303
    page = client.get(f"/threads/{tid}").get_data(as_text=True)
    due = page.split("Your care team should reply by <strong>", 1)[1].split("</strong>", 1)[0]
    assert due.endswith(" HST"), due


def test_past_due_tells_the_patient_to_call(login, client, app):
    with app.app_context():
        new_thread(subject="Knee pain")
    make_overdue(app, "Knee pain")
    login("veteran1")
    page = client.get(f"/threads/{thread_id(app, 'Knee pain')}").get_data(as_text=True)
    assert "has not replied within 3 business days" in page and "555-0100" in page
    row = table_row(client.get("/mailbox/sent").get_data(as_text=True), "Knee pain")
    assert "Overdue:" in row and "555-0100" in row


def test_a_team_reply_stops_the_clock_and_sent_says_answered(login, client, app):
    with app.app_context():
        thread = new_thread(subject="Knee pain")
        due = thread.due_at
        messaging.reply(user("nurse1"), thread, "Ice and rest.")
        assert thread.due_at is None and thread.status == "waiting"
        assert thread.messages[0].reply_due_at == due  # what the patient was told stays
    login("veteran1")
    row = table_row(client.get("/mailbox/sent").get_data(as_text=True), "Knee pain")
    assert "Answered" in row and "was due" in row
    page = client.get(f"/threads/{thread_id(app, 'Knee pain')}").get_data(as_text=True)
    assert "should reply by" not in page


def test_staff_see_due_soon_and_overdue_with_counts(login, client, app):
    with app.app_context():
        new_thread(subject="Soon one")
        soon = thread_named("Soon one")
        soon.warn_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        new_thread(subject="Late one")
    make_overdue(app, "Late one")
    login("nurse1")
    html = client.get("/triage/").get_data(as_text=True)
    assert "Due soon" in table_row(html, "Soon one")
    assert "Overdue" in table_row(html, "Late one")
    assert html.index("Late one") < html.index("Soon one")  # soonest due first
    overdue = client.get("/triage/?filter=overdue").get_data(as_text=True)
    assert "Late one" in overdue and "Soon one" not in overdue
    assert "Overdue <span class=\"count\">(1)</span>" in overdue
    due_soon = client.get("/triage/?filter=due-soon").get_data(as_text=True)
    assert "Soon one" in due_soon and "Late one" not in due_soon
    assert client.get("/triage/?filter=nonsense").status_code == 404


# --- who works it ----------------------------------------------------------------------------

def test_take_assign_and_the_mine_filter(login, client, app):
    tid = thread_id(app, "Change of address")
    login("nurse1")
    response = post_form(client, f"/triage/threads/{tid}/assign",
                         {"assignee": str(user_id(app, "nurse1"))}, form_page=f"/threads/{tid}")
    assert response.status_code == 303
    page = client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "The thread was assigned." in page and "Assigned" in page
    assert "assigned it to Nurse Pat Lee, RN" in page
    mine = client.get("/triage/?filter=mine").get_data(as_text=True)
    assert "Change of address" in mine
    unassigned = client.get("/triage/?filter=unassigned").get_data(as_text=True)
    assert "Change of address" not in unassigned
    post_form(client, f"/triage/threads/{tid}/assign",
              {"assignee": str(user_id(app, "doctor1"))}, form_page=f"/threads/{tid}")
    with app.app_context():
        assert thread_named("Change of address").assignee.username == "doctor1"


def user_id(app, username):
    with app.app_context():
        return user(username).id


def test_assigning_outside_the_group_is_refused(login, client, app):
    tid = thread_id(app, "Change of address")
    login("nurse1")
    post_form(client, f"/triage/threads/{tid}/assign",
              {"assignee": str(user_id(app, "cardio1"))}, form_page=f"/threads/{tid}")
    assert "Choose a member of this care team." in client.get(f"/threads/{tid}").get_data(
        as_text=True)
    bad = post_form(client, f"/triage/threads/{tid}/assign", {"assignee": "abc"},
                    form_page=f"/threads/{tid}")
    assert bad.status_code == 400
    with app.app_context():
        assert thread_named("Change of address").assignee_id is None


def test_surrogate_covers_while_away(login, client, app):
    login("nurse1")
    today = date.today()
    response = post_form(client, "/triage/away", {
        "surrogate": str(user_id(app, "doctor1")), "starts_on": str(today - timedelta(days=1)),
        "ends_on": str(today + timedelta(days=2))}, form_page="/triage/away")
    assert response.status_code == 303
    assert "covered by Dr. Sam Patel" in client.get("/triage/away").get_data(as_text=True)
    bad = post_form(client, "/triage/away", {
        "surrogate": str(user_id(app, "doctor1")), "starts_on": str(today),
        "ends_on": str(today - timedelta(days=3))}, form_page="/triage/away")
    assert bad.status_code == 422
    assert "can&#39;t be before the first" in bad.get_data(as_text=True)
    tid = thread_id(app, "Change of address")
    other = app.test_client()
    sign_in(other, "clerk1")
    post_form(other, f"/triage/threads/{tid}/assign",
              {"assignee": str(user_id(app, "nurse1"))}, form_page=f"/threads/{tid}")
    page = other.get(f"/threads/{tid}").get_data(as_text=True)
    assert "Nurse Pat Lee, RN is away: Dr. Sam Patel covers." in page
    assert "covering for Nurse Pat Lee, RN" in page
    with app.app_context():
        thread = thread_named("Change of address")
        assert thread.assignee.username == "doctor1"
        assert thread.assigned_for.username == "nurse1"
    queue = other.get("/triage/").get_data(as_text=True)
    assert "(surrogate)" in table_row(queue, "Change of address")


def test_reassign_to_another_group_with_a_staff_only_note(login, client, app):
    tid = thread_id(app, "Change of address")
    login("nurse1")
    with app.app_context():
        cardio = db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Cardiology"))
    missing_note = post_form(client, f"/triage/threads/{tid}/reassign",
                             {"group": str(cardio), "note": ""}, form_page=f"/threads/{tid}")
    assert missing_note.headers["Location"] == f"/threads/{tid}"
    response = post_form(client, f"/triage/threads/{tid}/reassign",
                         {"group": str(cardio), "note": "Heart-related address question"},
                         form_page=f"/threads/{tid}")
    assert response.headers["Location"] == "/triage/"  # nurse1 is not on Cardiology
    assert client.get(f"/threads/{tid}").status_code == 404
    cardio_client = app.test_client()
    sign_in(cardio_client, "cardio1")
    page = cardio_client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "Heart-related address question" in page and "sent it to Cardiology" in page
    patient = app.test_client()
    sign_in(patient, "veteran2")
    seen = patient.get(f"/threads/{tid}").get_data(as_text=True)
    assert "Heart-related" not in seen and "History (staff only)" not in seen
    assert "Care team work" not in seen


def test_complete_and_a_patient_reply_reopens(login, client, app):
    tid = thread_id(app, "Change of address")
    login("nurse1")
    post_form(client, f"/triage/threads/{tid}/complete", form_page=f"/threads/{tid}")
    with app.app_context():
        thread = thread_named("Change of address")
        assert thread.status == "completed" and thread.due_at is None
        assert "Change of address" not in client.get("/triage/").get_data(as_text=True)
        assert "Change of address" in client.get("/triage/?filter=completed").get_data(
            as_text=True)
        messaging.reply(user("veteran2"), thread, "One more question.")
        assert thread.status == "new" and thread.due_at is not None


# --- escalation --------------------------------------------------------------------------

def test_escalate_marks_overdue_and_notifies_coordinators_once(app):
    with app.app_context():
        new_thread(subject="Forgotten question")
    make_overdue(app, "Forgotten question")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["smweb", "escalate"])
    assert first.exit_code == 0 and "Escalated 1 thread(s)." in first.output
    second = runner.invoke(args=["smweb", "escalate"])
    assert "Escalated 0 thread(s)." in second.output
    with app.app_context():
        thread = thread_named("Forgotten question")
        assert thread.escalated_at is not None
        notes = db.session.scalars(db.select(Notification)).all()
        assert [(n.user_id, n.thread_id) for n in notes] == [(user("coordinator1").id,
                                                               thread.id)]
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator1")
    page = coordinator.get("/triage/escalations").get_data(as_text=True)
    assert "Forgotten question" in page
    thread_page = coordinator.get(f"/threads/{thread_id(app, 'Forgotten question')}")
    assert thread_page.status_code == 200
    assert "escalated it: no reply within 3 business days" in thread_page.get_data(as_text=True)


# --- the medical record ------------------------------------------------------------------

def test_save_thread_to_record_and_export_fhir(login, client, app):
    tid = thread_id(app, "Refill for blood pressure pills")
    login("nurse1")
    response = post_form(client, f"/triage/threads/{tid}/record", form_page=f"/threads/{tid}")
    assert response.status_code == 303
    page = client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "Saved to medical record" in page and "saved by Nurse Pat Lee, RN" in page
    with app.app_context():
        entry = db.session.scalar(db.select(RecordEntry))
        entry_id = entry.id
    download = client.get(f"/triage/records/{entry_id}.json")
    assert download.status_code == 200
    assert download.mimetype == "application/fhir+json"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    resource = json.loads(download.data)
    from fhir.resources.R4B.communication import Communication

    parsed = Communication.parse_obj(resource)
    assert parsed.status == "completed"
    assert resource["topic"]["text"] == "Refill for blood pressure pills"
    assert "I have 5 days of lisinopril left" in resource["payload"][0]["contentString"]
    assert "Saved to the medical record by Nurse Pat Lee, RN" in resource["note"][0]["text"]
    cli = app.test_cli_runner().invoke(args=["smweb", "export-record", str(entry_id)])
    assert json.loads(cli.output) == resource
    assert app.test_cli_runner().invoke(args=["smweb", "export-record", "999"]).exit_code != 0


def test_save_one_message_to_record(login, client, app):
    tid = thread_id(app, "Refill for blood pressure pills")
    with app.app_context():
        message_id = thread_named("Refill for blood pressure pills").messages[1].id
    login("doctor1")
    post_form(client, f"/triage/threads/{tid}/record", {"message_id": str(message_id)},
              form_page=f"/threads/{tid}")
    with app.app_context():
        entry = db.session.scalar(db.select(RecordEntry))
        content = json.loads(entry.content)
        assert [m["id"] for m in content["messages"]] == [message_id]
    wrong = post_form(client, f"/triage/threads/{tid}/record", {"message_id": "99999"},
                      form_page=f"/threads/{tid}")
    assert wrong.status_code == 404


def test_record_entries_cannot_be_changed_or_deleted(app):
    with app.app_context():
        from smweb.services import records

        entry = records.save_to_record(user("nurse1"),
                                       thread_named("Refill for blood pressure pills"))
        entry_id = entry.id
        for statement in ("UPDATE record_entries SET content = 'x' WHERE id = :id",
                          "DELETE FROM record_entries WHERE id = :id"):
            with pytest.raises(Exception, match="cannot be changed or deleted"):
                db.session.execute(text(statement), {"id": entry_id})
            db.session.rollback()
        assert db.session.get(RecordEntry, entry_id) is not None


# --- the education library ---------------------------------------------------------------

def test_education_items_become_safe_links_and_set_the_category(login, client, app):
    login("nurse1")
    with app.app_context():
        blue = db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue"))
        item = db.session.scalar(db.select(EducationItem).where(
            EducationItem.title == "Managing high blood pressure"))
        rogue = EducationItem(title="Rogue page", url="https://evil.example/x")
        db.session.add(rogue)
        db.session.commit()
        item_id, rogue_id, patient_id = item.id, rogue.id, user("veteran1").id
    page = client.get("/triage/compose").get_data(as_text=True)
    assert "Managing high blood pressure" in page and 'type="checkbox"' in page
    response = post_form(client, "/triage/compose", {
        "recipient": f"{blue}:{patient_id}", "category": "General", "subject": "Your BP",
        "body": "Read this. Also see https://evil.example/phish", "education": [str(item_id),
                                                                              str(rogue_id)],
        "action": "send"}, form_page="/triage/compose")
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        thread = thread_named("Education: Your BP")
        assert thread.category == "Education"
    patient = app.test_client()
    sign_in(patient, "veteran1")
    html = patient.get(f"/threads/{thread_id(app, 'Education: Your BP')}").get_data(
        as_text=True)
    link = ('<a href="https://www.veteranshealthlibrary.va.gov/Conditions/HighBloodPressure" '
            'target="_blank" rel="noopener noreferrer">')
    assert link in html
    assert 'href="https://evil.example' not in html  # neither the body's URL nor the rogue item
    assert "https://evil.example/phish" in html and "Rogue page" in html


# --- the queue stays cheap ---------------------------------------------------------------

def test_queue_statement_count_does_not_grow_with_rows(login, client, app):
    login("clerk1")
    few = count_statements(app, client, "/triage/")
    with app.app_context():
        for n in range(8):
            new_thread(subject=f"Bulk {n}", patient="veteran2")
        nurse = user("nurse1")
        for n in range(0, 8, 2):
            triage.assign(nurse, thread_named(f"Bulk {n}"), nurse)
    many = count_statements(app, client, "/triage/")
    assert many == few


def test_queue_sorts_by_patient_newest_and_oldest(login, client, app):
    with app.app_context():
        new_thread(subject="Newest of all", patient="veteran1")
    login("clerk1")
    by_patient = client.get("/triage/?sort=patient").get_data(as_text=True)
    # Alex Rivera before Jordan Smith
    assert by_patient.index("Newest of all") < by_patient.index("Change of address")
    newest = client.get("/triage/?sort=newest").get_data(as_text=True)
    assert newest.index("Newest of all") < newest.index("Echo results question")
    oldest = client.get("/triage/?sort=oldest").get_data(as_text=True)
    assert oldest.index("Refill for blood pressure") < oldest.index("Newest of all")
    assert '<option value="oldest" selected>' in oldest
    assert client.get("/triage/?sort=bogus").status_code == 200


def test_assign_to_starts_empty_and_an_empty_choice_is_said(login, client, app):
    """One click on Assign must not hand the thread to whoever is first in the list."""
    tid = thread_id(app, "Change of address")
    login("nurse1")
    page = client.get(f"/threads/{tid}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="assignee".*?</select>', page, re.S).group(0)
    first = re.search(r"<option[^>]*>([^<]*)</option>", select)
    assert first.group(1) == "Choose a person" and 'value="0"' in first.group(0)
    response = post_form(client, f"/triage/threads/{tid}/assign", {"assignee": "0"},
                         form_page=f"/threads/{tid}")
    assert response.status_code == 303
    assert "Choose the person to assign the thread to." in client.get(
        f"/threads/{tid}").get_data(as_text=True)
    with app.app_context():
        assert thread_named("Change of address").assignee is None
