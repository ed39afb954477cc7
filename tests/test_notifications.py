"""Preferences and email notices, through a real SMTP conversation (aiosmtpd on loopback):
notices arrive, say nothing of the message, and a digest never repeats a message."""

import socket
from email import message_from_string, policy

import pytest
from aiosmtpd.controller import Controller
from flask_babel import gettext

from smweb.extensions import db
from smweb.models import Notice, Thread
from smweb.services import messaging
from tests.support import new_thread, post_form, sign_in, user


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp(app, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    yield inbox
    controller.stop()


def set_prefs(client, **fields):
    data = {"signature_name": "", "signature_title": "", "notify": "none", "email": "",
            **fields}
    return post_form(client, "/preferences", data, form_page="/preferences")


def test_signature_is_added_to_new_messages_and_replies(login, client, app):
    login("veteran1")
    response = set_prefs(client, signature_name="Alex Rivera", signature_title="Army, 1991",
                         signature_by_default="y", contacts=["1", "2"])
    assert response.status_code == 303
    compose = client.get("/compose").get_data(as_text=True)
    assert "\n\nAlex Rivera\nArmy, 1991</textarea>" in compose
    with app.app_context():
        tid = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Refill for blood pressure pills"))
    assert "Alex Rivera\nArmy, 1991</textarea>" in client.get(f"/threads/{tid}").get_data(
        as_text=True)


def test_preferences_say_what_is_wrong(login, client, app):
    login("veteran1")
    no_email = set_prefs(client, notify="each")
    assert no_email.status_code == 422
    assert "Enter the email address for notices" in no_email.get_data(as_text=True)
    bad_email = set_prefs(client, notify="each", email="not an email")
    assert bad_email.status_code == 422
    assert "Enter an email address like name@example.com." in bad_email.get_data(as_text=True)
    no_contacts = set_prefs(client)  # no care team ticked
    assert no_contacts.status_code == 422
    assert "Keep at least one care team" in no_contacts.get_data(as_text=True)


def test_contact_list_decides_which_teams_appear_in_compose(login, client, app):
    with app.app_context():
        cardio = db.session.scalar(db.select(db.text("id FROM triage_groups WHERE name = "
                                                     "'Cardiology'")))
        blue = db.session.scalar(db.select(db.text("id FROM triage_groups WHERE name = "
                                                   "'Primary Care Team Blue'")))
    login("veteran1")
    assert set_prefs(client, contacts=[str(blue)]).status_code == 303
    compose = client.get("/compose").get_data(as_text=True)
    assert ">Primary Care Team Blue</option>" in compose and ">Cardiology</option>" not in compose
    assert set_prefs(client, contacts=[str(blue), str(cardio)]).status_code == 303
    assert ">Cardiology</option>" in client.get("/compose").get_data(as_text=True)


def test_each_message_email_says_only_that_a_message_waits(login, client, app, smtp):
    login("veteran1")
    set_prefs(client, notify="each", email="alex@example.org", contacts=["1", "2"])
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        messaging.reply(user("nurse1"), thread, "Your lisinopril refill is ready.")
    assert len(smtp.messages) == 1
    recipients, content = smtp.messages[0]
    assert recipients == ["alex@example.org"]
    assert "You have a new secure message in Secure Messaging." in content
    assert "http://127.0.0.1:5000/sign-in" in content
    for secret in ("Refill", "lisinopril", "Nurse", "Pat Lee", "Alex", "Rivera",
                   "Primary Care", "Demo VA", "blood pressure"):
        assert secret not in content


def test_a_notice_is_in_the_language_its_reader_chose(login, client, app, smtp):
    login("veteran1")
    set_prefs(client, notify="each", email="alex@example.org", contacts=["1", "2"],
              language="es")
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        messaging.reply(user("nurse1"), thread, "Your lisinopril refill is ready.")
    recipients, content = smtp.messages[0]
    email = message_from_string(content, policy=policy.default)
    assert email["Subject"] == "Tiene un mensaje nuevo en Mensajes Seguros"
    text = email.get_content()
    assert "Tiene un mensaje seguro nuevo en Mensajes Seguros." in text
    assert "http://127.0.0.1:5000/sign-in" in text
    assert "lisinopril" not in text and "Refill" not in text
    with app.app_context():  # and gettext is English again for what runs next
        assert gettext("Sign in to read it:") == "Sign in to read it:"


def test_staff_may_ask_for_a_notice_of_new_work(login, client, app, smtp):
    login("nurse1")
    set_prefs(client, notify="each", email="nurse@example.org")
    with app.app_context():
        new_thread(subject="Private knee question", body="My knee hurts at night.")
    assert [r for r, _ in smtp.messages] == [["nurse@example.org"]]  # not doctor1: no prefs
    content = smtp.messages[0][1]
    assert "New work in your Secure Messaging queue" in content
    assert "knee" not in content and "Alex" not in content


def test_daily_digest_once_per_new_message(login, client, app, smtp):
    login("veteran2")
    set_prefs(client, notify="daily", email="jordan@example.org", contacts=["1"])
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.subject == "Change of address"))
        messaging.reply(user("nurse1"), thread, "Update it at the front desk.")
        messaging.reply(user("doctor1"), thread, "Or by phone.")
    assert smtp.messages == []  # daily: nothing until the digest runs
    runner = app.test_cli_runner()
    assert "Queued 1 digest(s)." in runner.invoke(args=["smweb", "send-digests"]).output
    assert "Queued 0 digest(s)." in runner.invoke(args=["smweb", "send-digests"]).output
    assert len(smtp.messages) == 1
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.subject == "Change of address"))
        messaging.reply(user("nurse1"), thread, "One more thing.")
    assert "Queued 1 digest(s)." in runner.invoke(args=["smweb", "send-digests"]).output
    assert len(smtp.messages) == 2
    assert "Change of address" not in smtp.messages[1][1]


def test_mail_server_down_does_not_stop_the_message(login, client, app, monkeypatch, caplog):
    login("veteran1")
    set_prefs(client, notify="each", email="alex@example.org", contacts=["1", "2"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", closed_port)
    staff = app.test_client()
    sign_in(staff, "nurse1")
    with app.app_context():
        tid = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Refill for blood pressure pills"))
    response = post_form(staff, f"/threads/{tid}/reply", {"body": "Secret words here"},
                         form_page=f"/threads/{tid}")
    assert response.status_code == 303
    assert "not delivered: ConnectionRefusedError" in caplog.text
    assert "Secret words" not in caplog.text and "alex@example.org" not in caplog.text
    with app.app_context():  # kept in the outbox, to be tried again
        notice = db.session.scalar(db.select(Notice))
        assert notice.sent_at is None and notice.dropped is None
        assert notice.attempts == 1 and notice.last_error == "ConnectionRefusedError"


def test_development_mail_goes_to_the_outbox(login, client, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", str(tmp_path))
    login("veteran1")
    set_prefs(client, notify="each", email="alex@example.org", contacts=["1", "2"])
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        messaging.reply(user("nurse1"), thread, "Ready.")
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1 and b"alex@example.org" in files[0].read_bytes()
