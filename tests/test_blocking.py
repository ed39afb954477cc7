"""Blocking: each kind shows the seed's notice where it belongs, and the server refuses what a
block forbids even to a crafted request; a full block opts the patient out."""

from html import unescape

import pytest

from smweb.extensions import db
from smweb.models import Thread, TriageGroup
from smweb.services import blocking
from tests.support import post_form, sign_in, user

ALL = ("Your provider has restricted your access to Secure Messaging. If you think your access "
       "was restricted by mistake and you want to continue using Secure Messaging, contact your "
       "My HealtheVet Coordinator at your local VA Medical Center.")
NEW = ("You have been restricted from a Triage Group(s).You are unable to send messages to "
       "those Triage Groups.")
REPLY = ("Your access to this Triage Group has been restricted. You cannot send messages to "
         "this Triage Group. If you think your access was restricted by mistake, contact your "
         "My HealtheVet Coordinator at your local VA Medical Center.")


def group_id(app, name):
    with app.app_context():
        return db.session.scalar(db.select(TriageGroup.id).where(TriageGroup.name == name))


def block(app, patient, kind, group=None):
    with app.app_context():
        gid = group_id(app, group) if group else None
        return blocking.block(user("coordinator1"), user(patient), kind, gid, "Test reason").id


def page(client, path):
    return unescape(client.get(path).get_data(as_text=True))


def test_blocked_from_all_sees_the_notice_everywhere_and_must_opt_in_again(login, client, app):
    block_id = block(app, "veteran2", "all")
    login("veteran2")
    for path in ("/mailbox/inbox", "/compose", "/mailbox/sent", "/search?q=x", "/terms"):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 403, path
        assert ALL in unescape(response.get_data(as_text=True))
    crafted = client.post("/compose", data={"body": "x"})
    assert crafted.status_code in (400, 403)
    with app.app_context():
        assert user("veteran2").opted_in_at is None  # opted out automatically
        blocking.unblock(user("coordinator1"), user("veteran2"), block_id)
    assert client.get("/mailbox/inbox").headers["Location"] == "/terms"


def test_blocked_from_new_messages_to_a_group(login, client, app):
    block(app, "veteran1", "new", "Cardiology")
    login("veteran1")
    compose = page(client, "/compose")
    assert NEW in compose
    assert ">Cardiology</option>" not in compose and ">Primary Care Team Blue</option>" in compose
    crafted = post_form(client, "/compose", {
        "recipient": str(group_id(app, "Cardiology")), "category": "General",
        "subject": "Sneaky", "body": "x", "action": "send"}, form_page="/compose")
    assert crafted.status_code == 403
    assert NEW in unescape(crafted.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(db.select(Thread.id).where(Thread.subject == "Sneaky")) is None
        # the service itself refuses, whatever the form did
        from smweb.services import messaging

        try:
            messaging.send_new_message(user("veteran1"), messaging.NewMessage(
                group_id(app, "Cardiology"), "General", "Sneaky", "x"))
        except messaging.NotAllowed as refusal:
            assert str(refusal) == NEW
        else:
            raise AssertionError("send was not refused")
    # replies to that group are still allowed
    with app.app_context():
        echo = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Echo results question"))
    assert post_form(client, f"/threads/{echo}/reply", {"body": "Any news?"},
                     form_page=f"/threads/{echo}").status_code == 303


def test_blocked_from_replying_to_a_group(login, client, app):
    block(app, "veteran1", "reply", "Primary Care Team Blue")
    with app.app_context():
        refill = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Refill for blood pressure pills"))
    login("veteran1")
    thread_page = page(client, f"/threads/{refill}")
    assert REPLY in thread_page
    assert 'id="reply-form"' not in thread_page
    assert "Your renewal was sent to the pharmacy" in thread_page  # still readable
    crafted = post_form(client, f"/threads/{refill}/reply", {"body": "let me in"},
                        form_page=f"/threads/{refill}")
    assert crafted.status_code == 403
    assert REPLY in unescape(crafted.get_data(as_text=True))


def test_coordinator_page_shows_current_and_past_blocks(client, app):
    sign_in(client, "coordinator1")
    patient_id = user_id(app, "veteran2")
    missing = post_form(client, f"/triage/patients/{patient_id}",
                        {"kind": "reply", "group": "0", "reason": "Abusive messages"},
                        form_page=f"/triage/patients/{patient_id}")
    assert missing.status_code == 422
    assert "Choose one of the patient&#39;s care teams." in missing.get_data(as_text=True)
    no_reason = post_form(client, f"/triage/patients/{patient_id}",
                          {"kind": "all", "group": "0", "reason": ""},
                          form_page=f"/triage/patients/{patient_id}")
    assert no_reason.status_code == 422
    made = post_form(client, f"/triage/patients/{patient_id}", {
        "kind": "reply", "group": str(group_id(app, "Primary Care Team Blue")),
        "reason": "Abusive messages"}, form_page=f"/triage/patients/{patient_id}")
    assert made.status_code == 303
    html = page(client, f"/triage/patients/{patient_id}")
    assert "Abusive messages" in html and "Coordinator Kim Park" in html
    with app.app_context():
        block_id = blocking.active_blocks(user("veteran2"))[0].id
    post_form(client, f"/triage/patients/{patient_id}/blocks/{block_id}/lift",
              form_page=f"/triage/patients/{patient_id}")
    assert "Lifted by Coordinator Kim Park" in page(client, f"/triage/patients/{patient_id}")


def user_id(app, name):
    with app.app_context():
        return user(name).id


def test_a_group_administrator_restricts_for_their_own_team_only(login, client, app):
    login("doctor1")  # group administrator of Primary Care Team Blue (demo)
    assert "Patients" in client.get("/triage/").get_data(as_text=True)
    patient_id = user_id(app, "veteran1")
    form_page = f"/triage/patients/{patient_id}"
    own = post_form(client, form_page, {"kind": "reply", "reason": "Abuse",
                                        "group": str(group_id(app, "Primary Care Team Blue"))},
                    form_page=form_page)
    assert own.status_code == 303
    other = post_form(client, form_page, {"kind": "new", "reason": "Abuse",
                                          "group": str(group_id(app, "Cardiology"))},
                      form_page=form_page)
    assert other.status_code == 422
    assert "only for the care teams you administer" in other.get_data(as_text=True)
    everything = post_form(client, form_page, {"kind": "all", "group": "0", "reason": "x"},
                           form_page=form_page)
    assert everything.status_code == 422
    assert "Only the facility&#39;s coordinator" in everything.get_data(as_text=True)


def test_other_staff_cannot_restrict(login, client, app):
    login("nurse1")
    assert "Patients</a>" not in client.get("/triage/").get_data(as_text=True)
    assert client.get("/triage/patients").status_code == 404
    assert client.get(f"/triage/patients/{user_id(app, 'veteran1')}").status_code == 404


# Lifting a restriction, and reading its reason, follow the rule for placing it: every role,
# kind and team. (coordinator1: the facility's coordinator; doctor1: administers Blue only.)
LIFTS = [
    ("coordinator1", "all", None, True),
    ("coordinator1", "new", "Primary Care Team Blue", True),
    ("coordinator1", "reply", "Cardiology", True),
    ("doctor1", "all", None, False),
    ("doctor1", "new", "Primary Care Team Blue", True),
    ("doctor1", "reply", "Primary Care Team Blue", True),
    ("doctor1", "new", "Cardiology", False),
    ("doctor1", "reply", "Cardiology", False),
]


@pytest.mark.parametrize(("staff", "kind", "team", "allowed"), LIFTS)
def test_lifting_follows_the_rule_for_placing(login, client, app, staff, kind, team, allowed):
    with app.app_context():
        gid = group_id(app, team) if team else None
        entry = blocking.block(user("coordinator1"), user("veteran1"), kind, gid,
                               "Secret reason 42")
        block_id, patient_id = entry.id, user("veteran1").id
    login(staff)
    patient_page = f"/triage/patients/{patient_id}"
    html = page(client, patient_page)
    assert ("Secret reason 42" in html) is allowed
    assert (f"/blocks/{block_id}/lift" in html) is allowed
    response = post_form(client, f"{patient_page}/blocks/{block_id}/lift",
                         form_page=patient_page)
    assert response.status_code == (303 if allowed else 403)
    with app.app_context():
        assert (blocking.active_blocks(user("veteran1")) == []) is allowed


def test_staff_who_may_not_restrict_may_not_lift(login, client, app):
    block_id = block(app, "veteran1", "new", "Primary Care Team Blue")
    login("nurse1")
    response = post_form(client, f"/triage/patients/{user_id(app, 'veteran1')}/blocks/"
                         f"{block_id}/lift", form_page="/triage/")
    assert response.status_code == 404
    with app.app_context():
        assert len(blocking.active_blocks(user("veteran1"))) == 1
