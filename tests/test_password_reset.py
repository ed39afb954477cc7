"""Forgot your password?: the same answer whether or not an account matches, an email
through a real SMTP conversation (tests/mailrelay.py) with a link that works once for 30
minutes, a new password by the change's rules, the other sessions ended, and staff still
asked for their second factor."""

import hashlib

import pytest

from smweb.extensions import db
from smweb.models import AuditEvent, EmailLink, Notice, Preferences, UserSession
from tests import mailrelay
from tests.mailrelay import body_of
from tests.support import csrf_token, demo_code, forget_used_codes, sign_in, user

ANSWER = ("If an account matches, we sent a link to its email address. The link works once, "
          "for 30 minutes.")
NEW_PASSWORD = "a kettle hums on the blue stove"  # noqa: S105 - a test account's


def give_email(app, username: str, address: str) -> None:
    with app.app_context():
        person = user(username)
        prefs = db.session.get(Preferences, person.id) or Preferences(user_id=person.id)
        prefs.email = address
        db.session.add(prefs)
        db.session.commit()


def ask(client, who: str):
    return client.post("/forgot-password", data={
        "who": who, "csrf_token": csrf_token(client, "/forgot-password")})


def link_in(content: str) -> str:
    return mailrelay.link_in(content, "/reset-password/")


def test_the_sign_in_page_leads_to_forgot_your_password(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert '<a href="/forgot-password">Forgot your password?</a>' in html
    page = client.get("/forgot-password")
    assert page.status_code == 200
    assert "<h1>Forgot your password?</h1>" in page.get_data(as_text=True)
    assert "Username or email address" in page.get_data(as_text=True)


def test_known_and_unknown_read_the_same_and_only_the_known_get_an_email(app, client, relay):
    give_email(app, "veteran1", "alex@example.org")
    answers = [ask(client, who) for who in ("veteran1", "nobody-here", "no@example.org",
                                            "ALEX@example.org")]
    assert {a.status_code for a in answers} == {303}
    assert {a.location for a in answers} == {"/forgot-password?sent=1"}
    page = client.get("/forgot-password?sent=1").get_data(as_text=True)
    assert ANSWER in page and "<h1>Check your email</h1>" in page
    assert relay.recipients == ["alex@example.org", "alex@example.org"]
    _to, content = relay.accepted[0]
    assert "Subject: Choose a new password for Secure Messaging" in content
    assert "The link works once, for 30 minutes." in body_of(content)
    assert "username veteran1" in body_of(content)  # which account it is for
    for secret in ("Refill", "lisinopril", "Alex Rivera", "Rivera", "Primary Care", "Demo VA",
                   "message"):
        assert secret not in body_of(content)
    token = link_in(content).rsplit("/", 1)[1]
    with app.app_context():
        hashes = set(db.session.scalars(db.select(EmailLink.token_hash)))
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
        assert token not in str(db.session.execute(db.select(Notice.__table__)).all())
        # the audit trail and the throttle's keys hold no address
        assert "alex@example.org" not in str(db.session.execute(
            db.text("SELECT * FROM sign_in_failures")).all())


def test_the_link_sets_a_new_password_signs_in_and_ends_other_sessions(app, client, relay):
    give_email(app, "veteran1", "alex@example.org")
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "veteran1").status_code == 303
    ask(client, "veteran1")
    path = link_in(relay.accepted[0][1])
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Choose a new password</h1>" in html and "veteran1" in html
    token = csrf_token(client, path)
    weak = client.post(path, data={"new": "password1234", "confirm": "password1234",
                                   "csrf_token": token})
    assert weak.status_code == 422
    assert "one of the most common passwords" in weak.get_data(as_text=True)
    differ = client.post(path, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x",
                                     "csrf_token": token})
    assert differ.status_code == 422
    assert "The two new passwords differ." in differ.get_data(as_text=True)
    done = client.post(path, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                   "csrf_token": token})
    assert done.status_code == 303 and done.location == "/mailbox/inbox"
    inbox = client.get("/mailbox/inbox").get_data(as_text=True)
    assert "Your new password is set, and you are signed in." in inbox
    assert "Signed in as Alex Rivera" in inbox
    assert elsewhere.get("/mailbox/inbox").status_code == 302  # signed out there
    again = app.test_client().get(path)
    assert again.status_code == 410
    assert "This link was already used: a link works once." in again.get_data(as_text=True)
    assert '<a href="/forgot-password">Ask for a new link</a>' in again.get_data(as_text=True)
    assert sign_in(app.test_client(), "veteran1").status_code == 401  # the old password
    assert sign_in(app.test_client(), "veteran1", NEW_PASSWORD).status_code == 303
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.action == "password_reset_link"))
        assert event.actor_id == event.patient_id == user("veteran1").id
        ended = db.session.scalars(db.select(UserSession.end_reason).where(
            UserSession.ended_at.is_not(None))).all()
        assert "password" in ended


def test_a_link_expires_after_30_minutes_and_a_made_up_one_is_unknown(app, client, relay,
                                                                      clock):
    give_email(app, "veteran1", "alex@example.org")
    ask(client, "veteran1")
    path = link_in(relay.accepted[0][1])
    clock.advance(minutes=29)
    assert client.get(path).status_code == 200
    clock.advance(minutes=2)
    expired = client.get(path)
    assert expired.status_code == 410
    assert "This link has expired: it worked for 30 minutes." in expired.get_data(as_text=True)
    unknown = client.get("/reset-password/not-a-real-token")
    assert unknown.status_code == 404
    assert "This link is not one we sent" in unknown.get_data(as_text=True)
    posted = client.post("/reset-password/not-a-real-token", data={
        "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(client, "/forgot-password")})
    assert posted.status_code == 404


def test_a_newer_password_stops_the_other_links(app, client, relay):
    give_email(app, "veteran1", "alex@example.org")
    ask(client, "veteran1")
    ask(client, "veteran1")
    first, second = (link_in(content) for _to, content in relay.accepted)
    assert first != second
    client.post(second, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                              "csrf_token": csrf_token(client, second)})
    assert app.test_client().get(first).status_code == 410


def test_staff_still_give_their_second_factor(app, client, relay):
    give_email(app, "nurse1", "pat@example.org")
    ask(client, "nurse1")
    path = link_in(relay.accepted[0][1])
    done = client.post(path, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                   "csrf_token": csrf_token(client, path)})
    assert done.status_code == 303 and done.location == "/sign-in/code"
    assert client.get("/triage/").status_code == 302  # not signed in yet
    code_page = client.get("/sign-in/code").get_data(as_text=True)
    assert "Your new password is set. To finish signing in" in code_page
    forget_used_codes(app, "nurse1")
    signed = client.post("/sign-in/code", data={
        "code": demo_code(), "csrf_token": csrf_token(client, "/sign-in/code")})
    assert signed.status_code == 303 and signed.location == "/triage/"
    assert client.get("/triage/").status_code == 200


def test_too_many_requests_get_a_429_that_says_when(app, client, relay):
    give_email(app, "veteran1", "alex@example.org")
    for _ in range(3):
        assert ask(client, "veteran1").status_code == 303
    paused = ask(client, "veteran1")
    assert paused.status_code == 429
    html = paused.get_data(as_text=True)
    assert "Too many requests for a new password" in html
    assert "wait about 15 minutes and try again" in html
    assert len(relay.accepted) == 3
    # an unknown name is paused alike: the limit says nothing of who has an account
    for _ in range(3):
        assert ask(client, "nobody-here").status_code == 303
    assert ask(client, "nobody-here").status_code == 429


def test_the_account_limit_stops_emails_silently(app, client, relay):
    give_email(app, "veteran1", "alex@example.org")
    for who in ("veteran1", "alex@example.org", "veteran1", "Alex@Example.org"):
        assert ask(client, who).status_code == 303
    assert len(relay.accepted) == 3  # the fourth is not sent, and the page says the same


def test_the_address_limit(app, client, relay, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_LINKS_PER_IP", 4)
    for n in range(4):
        assert ask(client, f"someone{n}").status_code == 303
    assert ask(client, "someone-else").status_code == 429


@pytest.mark.parametrize(("who", "says"), [
    ("", "Enter your username or your email address."),
    ("x" * 255, "That is longer than any username or address."),
])
def test_bad_input_is_a_clear_422(client, who, says):
    response = ask(client, who)
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)


def test_no_csrf_token_is_refused(client):
    assert client.post("/forgot-password", data={"who": "veteran1"}).status_code == 400


def test_disabled_accounts_and_accounts_without_an_address_get_nothing(app, client, relay):
    give_email(app, "veteran2", "jordan@example.org")
    with app.app_context():
        user("veteran2").disabled = True
        db.session.commit()
    assert ask(client, "veteran2").status_code == 303
    assert ask(client, "veteran1").status_code == 303  # no address on file
    assert relay.accepted == []
