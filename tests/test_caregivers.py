"""Caregivers (proxy access): a caregiver's own account reads — or reads and writes — a
patient's messages, as the patient chose; the patient sees who, changes it, and ends it at
once; a caregiver of several patients switches between them; everything a caregiver does is
audited as the caregiver, and what they send says who sent it for whom."""

import html

import pytest

from smweb.extensions import db
from smweb.models import AuditEvent, Caregiver, Message, Role, Thread
from smweb.services import caregivers, demo
from smweb.services.accounts import create_user
from tests.support import csrf_token, post_form, send_with_files, sign_in, user


def _browser(app, username):
    browser = app.test_client()
    assert sign_in(browser, username).status_code == 303
    return browser


def _link(app, caregiver="caregiver1", patient="veteran1") -> int:
    with app.app_context():
        return db.session.scalar(db.select(Caregiver.id).where(
            Caregiver.caregiver_id == user(caregiver).id,
            Caregiver.patient_id == user(patient).id, Caregiver.ended_at.is_(None)))


def test_a_caregiver_reads_the_patients_inbox_acting_for_them(app):
    sam = _browser(app, "caregiver1")
    page = sam.get("/mailbox/inbox")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Acting for Alex Rivera" in text and "you can read and write" in text
    assert "Signed in as Sam Rivera" in text and "Signed in as Alex Rivera" not in text
    assert "Refill for blood pressure pills" in text
    assert ">Compose</a>" in text


def test_what_a_caregiver_sends_says_who_sent_it_and_is_audited_as_them(app):
    sam = _browser(app, "caregiver1")
    sent = send_with_files(sam, app, [], subject="Question for Alex", body="From Sam.")
    assert sent.status_code == 303
    with app.app_context():
        message = db.session.scalar(db.select(Message).where(Message.body == "From Sam."))
        assert message.author_id == user("veteran1").id
        assert message.sent_by_id == user("caregiver1").id
        event = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.action == "message_send", AuditEvent.message_id == message.id))
        assert event.actor_id == user("caregiver1").id
        assert event.patient_id == user("veteran1").id
        thread_id = message.thread_id
    nurse = _browser(app, "nurse1")
    assert "Sent by Sam Rivera for Alex Rivera" in nurse.get(f"/threads/{thread_id}").text
    alex = _browser(app, "veteran1")
    assert "Sent by Sam Rivera for Alex Rivera" in alex.get(f"/threads/{thread_id}").text
    with app.app_context():  # opening it as the caregiver is the caregiver's view
        before = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "thread_view", AuditEvent.actor_id == user("caregiver1").id))
    sam.get(f"/threads/{thread_id}")
    with app.app_context():
        after = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "thread_view", AuditEvent.actor_id == user("caregiver1").id,
            AuditEvent.patient_id == user("veteran1").id))
    assert after == before + 1


def test_a_read_only_caregiver_reads_but_is_offered_no_writing_and_may_not_post(app):
    alex = _browser(app, "veteran1")
    changed = post_form(alex, f"/caregivers/{_link(app)}/access", {"access": "read"},
                        form_page="/caregivers")
    assert changed.status_code == 303
    assert "Sam Rivera can now read your messages." in alex.get("/caregivers").text
    sam = _browser(app, "caregiver1")
    inbox = html.unescape(sam.get("/mailbox/inbox").text)
    assert "Acting for Alex Rivera" in inbox and "read only" in inbox
    assert ">Compose</a>" not in inbox and 'id="move-form"' not in inbox
    for writing_page in ("/compose", "/compose/renewal", "/folders"):
        refused = sam.get(writing_page)
        assert refused.status_code == 403
        assert "Your access to Alex Rivera's messages is read only" in html.unescape(
            refused.text)
    with app.app_context():
        thread_id = db.session.scalar(db.select(Message.thread_id).limit(1))
    page = sam.get(f"/threads/{thread_id}").text
    assert "Your access is read only, so you can't reply." in page
    assert 'id="reply-form"' not in page
    refused = send_with_files(sam, app, [], subject="Not allowed", body="Read only.")
    assert refused.status_code == 403
    assert "is read only" in html.unescape(refused.text)
    with app.app_context():
        assert db.session.scalar(db.select(Message).where(Message.body == "Read only.")) is None


def test_the_patient_ends_access_and_the_caregivers_next_request_says_so(app):
    sam = _browser(app, "caregiver1")
    assert sam.get("/mailbox/inbox").status_code == 200
    alex = _browser(app, "veteran1")
    page = alex.get("/caregivers").text
    assert "Sam Rivera" in page and "Read and write" in page
    ended = post_form(alex, f"/caregivers/{_link(app)}/end", form_page="/caregivers")
    assert ended.status_code == 303
    page = alex.get("/caregivers").text
    assert "Sam Rivera no longer has access to your messages." in page
    assert "No one else has access to your messages." in page
    refused = sam.get("/mailbox/inbox")
    assert refused.status_code == 403
    assert "Your access to Alex Rivera's messages has ended." in html.unescape(refused.text)
    again = _browser(app, "caregiver1").get("/mailbox/inbox")  # a new sign-in: the same
    assert again.status_code == 403
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.action == "caregiver_end"))
        assert event.actor_id == user("veteran1").id
        assert event.patient_id == user("veteran1").id


def test_the_patient_gives_access_by_username_and_bad_input_says_why(app):
    with app.app_context():
        create_user("helper9", demo.DEMO_PASSWORD, "Robin Helper", role=Role.CAREGIVER)
        db.session.commit()
    jordan = _browser(app, "veteran2")
    nobody = "There is no caregiver account with that username or email address."
    for name, why in (("", "Enter your caregiver's username or email address."),
                      ("nobody", nobody), ("nurse1", nobody)):
        answer = post_form(jordan, "/caregivers", {"username": name, "access": "read"},
                           form_page="/caregivers")
        assert answer.status_code == 422
        assert why in html.unescape(answer.text)
        assert f'value="{name}"' in answer.text  # what was typed stays
    given = post_form(jordan, "/caregivers", {"username": "Helper9", "access": "write"},
                      form_page="/caregivers")
    assert given.status_code == 303
    page = html.unescape(jordan.get("/caregivers").text)
    assert "Robin Helper can now read and write your messages." in page
    twice = post_form(jordan, "/caregivers", {"username": "helper9", "access": "read"},
                      form_page="/caregivers")
    assert twice.status_code == 422
    assert "Robin Helper already has access (read and write)." in html.unescape(twice.text)
    robin = _browser(app, "helper9")
    assert "Acting for Jordan Smith" in robin.get("/mailbox/inbox").text


@pytest.fixture
def two_patients(app):
    with app.app_context():
        caregivers.add(user("veteran2"), "caregiver1", False, by=user("veteran2"))


def test_a_caregiver_of_several_patients_chooses_and_switches(app, two_patients):
    sam = app.test_client()
    signed_in = sign_in(sam, "caregiver1")
    first = sam.get(signed_in.location)
    assert first.status_code == 303 and first.location.startswith("/acting-for")
    refresh = sam.get("/mailbox/inbox", headers={"HX-Request": "true",
                                                 "HX-Target": "message-list"})
    assert "/acting-for" in refresh.headers["HX-Location"]  # the whole page goes there
    chooser = html.unescape(sam.get(first.location).text)
    assert "Alex Rivera (read and write)" in chooser and "Jordan Smith (read only)" in chooser
    missing = sam.post("/acting-for", data={"csrf_token": csrf_token(sam, "/acting-for")})
    assert missing.status_code == 422
    assert "Choose whose messages to open." in missing.text
    with app.app_context():
        jordan, alex = user("veteran2").id, user("veteran1").id
    chose = sam.post("/acting-for", data={
        "csrf_token": csrf_token(sam, "/acting-for"), "patient": str(jordan),
        "next": "/mailbox/inbox"})
    assert chose.status_code == 303 and chose.location == "/mailbox/inbox"
    inbox = html.unescape(sam.get("/mailbox/inbox").text)
    assert "Acting for Jordan Smith" in inbox and "Change of address" in inbox
    assert "Refill for blood pressure pills" not in inbox
    assert "Switch to another patient" in inbox
    sam.post("/acting-for", data={"csrf_token": csrf_token(sam, "/acting-for"),
                                  "patient": str(alex)})
    inbox = html.unescape(sam.get("/mailbox/inbox").text)
    assert "Acting for Alex Rivera" in inbox and "Refill for blood pressure pills" in inbox
    not_theirs = sam.post("/acting-for", data={
        "csrf_token": csrf_token(sam, "/acting-for"), "patient": "99999"})
    assert not_theirs.status_code == 422


def test_a_caregiver_never_manages_the_patients_caregivers(app):
    sam = _browser(app, "caregiver1")
    assert sam.get("/caregivers").status_code == 404
    page = sam.get("/account").text
    assert "caregiver1" in page and "Choose whose messages to open" in page


def test_an_admin_links_and_ends_a_caregiver(app):
    with app.app_context():
        jordan = user("veteran2").id
    admin = _browser(app, "admin1")
    page = f"/admin/users/{jordan}"
    assert "No caregiver acts for Jordan Smith." in admin.get(page).text
    wrong = post_form(admin, f"{page}/caregivers", {"username": "nurse1", "access": "read"},
                      form_page=page)
    assert wrong.status_code == 303
    assert ("There is no caregiver account with that username or email address."
            in admin.get(page).text)
    linked = post_form(admin, f"{page}/caregivers", {"username": "caregiver1",
                                                      "access": "read"}, form_page=page)
    assert linked.status_code == 303
    shown = html.unescape(admin.get(page).text)
    assert "Sam Rivera can now act for Jordan Smith (read only)." in shown
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.action == "caregiver_add", AuditEvent.patient_id == jordan))
        assert event.actor_id == user("admin1").id
    ended = post_form(admin, f"{page}/caregivers/{_link(app, patient='veteran2')}/end",
                      form_page=page)
    assert ended.status_code == 303
    assert "Sam Rivera no longer acts for Jordan Smith." in html.unescape(admin.get(page).text)


def test_a_form_for_one_patient_is_not_sent_as_another_after_a_switch(app, two_patients):
    with app.app_context():
        alex, jordan = user("veteran1").id, user("veteran2").id
    sam = _browser(app, "caregiver1")
    sam.post("/acting-for", data={"csrf_token": csrf_token(sam, "/acting-for"),
                                  "patient": str(alex)})
    compose = sam.get("/compose").text
    assert f'name="acting_for" value="{alex}"' in compose
    # ... another window switches to Jordan (read only there, so back to a writable one)
    with app.app_context():
        caregivers.change_access(caregivers.link_of(user("veteran2"), _link(
            app, patient="veteran2")), True, by=user("veteran2"))
    sam.post("/acting-for", data={"csrf_token": csrf_token(sam, "/acting-for"),
                                  "patient": str(jordan)})
    refused = send_with_files(sam, app, [], subject="Meant for Alex", body="Alex's question.",
                              acting_for=str(alex))
    assert refused.status_code == 422
    assert "this form was for another patient" in html.unescape(refused.text)
    with app.app_context():
        assert db.session.scalar(db.select(Message).where(
            Message.body == "Alex's question.")) is None


def test_a_caregiver_opening_a_reply_leaves_it_unread_for_the_patient(app):
    with app.app_context():
        thread_id = db.session.scalar(db.select(Message.thread_id).join(Message.thread).where(
            Message.body.like("Flu shots%")))
    sam = _browser(app, "caregiver1")
    assert "Flu shots are offered" in sam.get(f"/threads/{thread_id}").text
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert thread.unread_for_patient
        assert all(m.read_by_patient_at is None for m in thread.messages)
    alex = _browser(app, "veteran1")
    alex.get(f"/threads/{thread_id}")
    with app.app_context():
        assert not db.session.get(Thread, thread_id).unread_for_patient


def test_an_account_no_longer_a_patient_is_not_acted_for(app):
    with app.app_context():
        user("veteran1").role = Role.STAFF
        db.session.commit()
    sam = _browser(app, "caregiver1")
    answer = sam.get("/mailbox/inbox")
    assert answer.status_code == 303 and answer.location.startswith("/acting-for")
    assert "No patient has given you access" in sam.get(answer.location).text
