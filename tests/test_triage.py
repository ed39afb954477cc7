"""The care team's side: the queue, opening and answering, and writing first to a patient."""

from datetime import timedelta

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Thread, TriageGroup
from tests.support import (
    care_team,
    htmx_fragment,
    new_thread,
    patient,
    post_form,
    sign_in,
    staff,
    table_row,
    user,
)


def thread_id(app, subject):
    with app.app_context():
        return db.session.scalar(db.select(Thread.id).where(Thread.subject == subject))


def test_queue_lists_only_the_staff_members_groups(login, client):
    login("cardio1")
    page = client.get("/triage/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Your care teams' messages" in html
    assert "Echo results question" in html
    assert "Change of address" not in html  # Primary Care's
    assert "Alex Rivera" in html


def test_a_new_teams_nurse_signs_in_to_their_own_teams_queue(app):
    """A care team, its nurse and its patient made for the test: the queue page shows the
    patient's thread and nothing of the demo's teams."""
    with app.app_context():
        podiatry = care_team("Podiatry")
        nurse = staff(podiatry, name="Nurse Ada Obi")
        new_thread(patient(podiatry, name="Sam Okafor"), podiatry, subject="Heel pain")
        username = nurse.username
    client = app.test_client()
    assert sign_in(client, username).status_code == 303
    html = client.get("/triage/").get_data(as_text=True)
    row = table_row(html, "Heel pain")
    assert "Sam Okafor" in row and "Unread" in row
    assert "Change of address" not in html and "Echo results question" not in html


def test_queue_shows_unread_and_soonest_due_first(login, client, app):
    with app.app_context():
        new_thread(subject="Newest question", patient="veteran2")
    login("clerk1")  # both groups
    html = client.get("/triage/").get_data(as_text=True)
    assert html.index("Change of address") < html.index("Newest question")
    row = table_row(html, "Newest question")
    assert "Unread" in row and "Jordan Smith" in row and "New" in row and "Unassigned" in row


def test_queue_fragment_refresh(login, client):
    login("nurse1")
    response = client.get("/triage/", headers=htmx_fragment("queue-list"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="queue-list"')
    assert "<html" not in html and "Change of address" in html


def test_opening_a_thread_marks_the_patients_message_read_by_whom(login, client, app):
    tid = thread_id(app, "Change of address")
    login("nurse1")
    html = client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "Patient" in html and "Jordan Smith" in html
    with app.app_context():
        thread = db.session.get(Thread, tid)
        assert not thread.unread_for_team
        message = thread.messages[0]
        assert message.read_by_team_at is not None
        assert message.read_by_team_user_id == user("nurse1").id


def test_staff_reply_reaches_the_patient_inbox_unread(login, client, app):
    tid = thread_id(app, "Change of address")
    login("doctor1")
    response = post_form(client, f"/threads/{tid}/reply",
                         {"body": "Update it at the front desk."}, form_page=f"/threads/{tid}")
    assert response.status_code == 303
    assert "Your reply was sent." in client.get(f"/threads/{tid}").get_data(as_text=True)
    patient = client.application.test_client()
    sign_in(patient, "veteran2")
    inbox = patient.get("/mailbox/inbox").get_data(as_text=True)
    assert '<span class="badge">Unread</span> Change of address' in inbox
    assert "Dr. Sam Patel, Primary Care Team Blue" in inbox


def test_staff_see_whether_the_patient_read_the_answer(login, client, app):
    tid = thread_id(app, "Change of address")
    login("doctor1")
    post_form(client, f"/threads/{tid}/reply", {"body": "Update it at the front desk."},
              form_page=f"/threads/{tid}")
    assert "Not yet read by the patient" in client.get(f"/threads/{tid}").text
    unread_tab = "/triage/?filter=unread-by-patient"
    assert "Change of address" not in client.get(unread_tab).text  # answered just now
    with app.app_context():  # the answer went four days ago
        db.session.execute(db.update(Thread).where(Thread.id == tid).values(
            last_team_message_at=utcnow() - timedelta(days=4)))
        db.session.commit()
    tab = client.get(unread_tab).text
    assert "Not read by patient" in tab  # the tab's name
    row = table_row(tab, "Change of address")
    assert "Waiting on patient" in row and "Not yet read by patient" in row
    patient = app.test_client()
    sign_in(patient, "veteran2")
    assert patient.get(f"/threads/{tid}").status_code == 200  # the patient opens it
    page = client.get(f"/threads/{tid}").text
    assert "Read by patient" in page and "Not yet read by the patient" not in page
    assert "Change of address" not in client.get(unread_tab).text
    row = table_row(client.get("/triage/?filter=open").text, "Change of address")
    assert "Read by patient" in row and "Not yet" not in row
    # Patients never see the mark
    assert "Read by patient" not in patient.get(f"/threads/{tid}").text


def test_staff_starts_a_thread_to_a_patient_of_their_group(login, client, app):
    login("nurse1")
    page = client.get("/triage/compose").get_data(as_text=True)
    assert '<optgroup label="Primary Care Team Blue">' in page
    assert "Jordan Smith" in page and "Cardiology" not in page
    with app.app_context():
        blue = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Primary Care Team Blue"))
        value = f"{blue.id}:{user('veteran2').id}"
    response = post_form(client, "/triage/compose", {
        "recipient": value, "category": "Education", "subject": "Education: diabetes class",
        "body": "A class starts next month."}, form_page="/triage/compose")
    assert response.status_code == 303
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Education: diabetes class"))
        assert thread.patient_id == user("veteran2").id and thread.unread_for_patient


def test_staff_cannot_write_to_a_patient_outside_their_groups(login, client, app):
    login("nurse1")
    with app.app_context():
        cardio = db.session.scalar(db.select(TriageGroup).where(TriageGroup.name == "Cardiology"))
        forged = f"{cardio.id}:{user('veteran1').id}"
    response = post_form(client, "/triage/compose", {
        "recipient": forged, "category": "General", "subject": "Hi", "body": "x"},
        form_page="/triage/compose")
    assert response.status_code == 422
    assert "Select a patient of one of your care teams" in response.get_data(as_text=True)


def test_staff_compose_errors_keep_the_typed_text(login, client):
    login("nurse1")
    response = post_form(client, "/triage/compose", {
        "recipient": "", "category": "General", "subject": "", "body": "Typed by the nurse"},
        form_page="/triage/compose", headers=htmx_fragment("compose-form"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Select the patient to write to." in html and "Enter a subject." in html
    assert "Typed by the nurse" in html and "<html" not in html
