"""Signing up: a basic patient account, an email through a real SMTP conversation
(tests/mailrelay.py) with a link that confirms the address once, within 24 hours; until then
the account stays on "Confirm your email address"; then it is told how to become premium."""

import pytest

from smweb.extensions import db
from smweb.models import AuditEvent, EmailLink, Preferences
from tests.mailrelay import body_of, link_in
from tests.support import csrf_token, sign_in, user

PASSWORD = "a heron waits by the cold river"  # noqa: S105 - a test account's
OTHER = "another long phrase to remember"  # noqa: S105
FORM = {"kind": "patient", "display_name": "Jordan  Lee Smith", "username": "jsmith",
        "email": "jordan@example.org", "password": PASSWORD, "confirm": PASSWORD}


def sign_up(client, **changes):
    data = FORM | changes
    return client.post("/sign-up", data=data | {"csrf_token": csrf_token(client, "/sign-up")})


def confirm_path(relay, index: int = -1) -> str:
    return link_in(relay.accepted[index][1], "/confirm-email/")


def actions_of(app, username: str) -> list[str]:
    with app.app_context():
        who = user(username)
        return list(db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.actor_id == who.id)
            .order_by(AuditEvent.id)))


def test_the_sign_in_page_leads_to_sign_up(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert '<a href="/sign-up">Sign up</a>' in html
    page = client.get("/sign-up")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Sign up for Secure Messaging</h1>" in html
    for label in ("Your full name", "Choose a username", "Email address", "Choose a password",
                  "Password again"):
        assert label in html
    assert "Bring a photo ID to your facility" in html


def test_signing_up_makes_a_basic_account_signs_in_and_sends_the_link(app, client, relay):
    answer = sign_up(client)
    assert answer.status_code == 303 and answer.location == "/confirm-email"
    page = client.get("/confirm-email").get_data(as_text=True)
    assert "Your account is made. One more step: confirm your email address." in page
    assert "We sent an email with a link to <strong>jordan@example.org</strong>" in page
    with app.app_context():
        person = user("jsmith")
        assert (person.role, person.account_level, person.signed_up) == ("patient", "basic", True)
        assert person.display_name == "Jordan Lee Smith"  # spaces as one
        assert person.email_confirmed_at is None
        assert db.session.get(Preferences, person.id).email == "jordan@example.org"
    assert actions_of(app, "jsmith") == ["sign_up", "sign_in"]
    assert relay.recipients == ["jordan@example.org"]
    content = relay.accepted[0][1]
    assert "Subject: Confirm your email address for Secure Messaging" in content
    text = body_of(content)
    assert "username jsmith" in text and "The link works once, for 24 hours." in text
    assert "Jordan" not in text and "Smith" not in text  # no name in an email
    # Until the address is confirmed, every page leads back here (htmx too).
    for path in ("/mailbox/inbox", "/compose", "/account", "/terms"):
        held = client.get(path)
        assert held.status_code == 303 and held.location == "/confirm-email", path
    held = client.get("/mailbox/inbox", headers={"HX-Request": "true"})
    assert held.headers["HX-Redirect"] == "/confirm-email"
    assert client.get("/help").status_code == 200


def test_the_link_asks_before_it_confirms_then_the_account_goes_on(app, client, relay):
    sign_up(client)
    path = confirm_path(relay)
    page = client.get(path)  # what a mail scanner does: nothing is used up
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Confirm my email address" in html and "<strong>jsmith</strong>" in html
    with app.app_context():
        assert user("jsmith").email_confirmed_at is None
    done = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert done.status_code == 303 and done.location == "/mailbox/inbox"
    inbox = client.get("/mailbox/inbox")
    assert inbox.status_code == 302 and inbox.location.endswith("/premium-required")
    basic = client.get("/premium-required").get_data(as_text=True)
    assert "Your email address is confirmed." in basic
    assert "Your account is a <strong>basic</strong> account." in basic
    assert "Tell them your username: <strong>jsmith</strong>" in basic
    assert client.get("/confirm-email").location == "/mailbox/inbox"
    with app.app_context():
        assert user("jsmith").email_confirmed_at is not None
    assert actions_of(app, "jsmith")[-1] == "email_confirm"
    again = client.post(path, data={"csrf_token": csrf_token(client, "/sign-in")})
    assert again.status_code == 410
    assert "This link was already used" in again.get_data(as_text=True)


def test_a_link_opened_in_another_browser_confirms_and_asks_to_sign_in(app, client, relay):
    sign_up(client)
    path = confirm_path(relay)
    phone = app.test_client()
    done = phone.post(path, data={"csrf_token": csrf_token(phone, path)})
    assert done.status_code == 303 and done.location == "/sign-in?confirmed=1"
    page = phone.get(done.location).get_data(as_text=True)
    assert "Your email address is confirmed. Sign in to go on." in page
    assert sign_in(phone, "jsmith", PASSWORD).location == "/mailbox/inbox"
    assert phone.get("/mailbox/inbox").location.endswith("/premium-required")
    # the first browser goes on too, at its next click
    assert client.get("/mailbox/inbox").location.endswith("/premium-required")


def test_what_was_typed_wrong_is_said_by_its_box_and_kept(app, client, relay):
    empty = client.post("/sign-up", data={"csrf_token": csrf_token(client, "/sign-up")})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    for text in ("Choose who the account is for.", "Enter your full name.", "Choose a username.",
                 "Enter your email address: we send a link to it.", "Choose a password."):
        assert text in html
    cases = [
        ({"username": "veteran1"}, "This username is taken."),
        ({"username": "VETERAN1 "}, "This username is taken."),
        ({"username": "j smith"}, "No spaces."),
        ({"username": "js"}, "Use 3 to 64 letters"),
        ({"email": "jordan at example"}, "Enter an email address like name@example.com."),
        ({"password": "password1234", "confirm": "password1234"},
         "one of the most common passwords"),
        ({"confirm": PASSWORD + "!"}, "The two passwords differ."),
    ]
    for changes, message in cases:
        answer = sign_up(client, **changes)
        assert answer.status_code == 422, changes
        html = answer.get_data(as_text=True)
        assert message in html, changes
        assert 'value="Jordan  Lee Smith"' in html  # nothing typed is lost
        assert PASSWORD not in html  # but a password is never sent back
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).where(
            db.text("username = 'jsmith'")).select_from(db.text("users"))) == 0
    assert relay.accepted == []


def test_send_again_to_a_corrected_address_and_only_the_newest_link_works(app, client,
                                                                        relay, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_LINKS_PER_ACCOUNT", 3)
    sign_up(client, email="jordan@exmaple.org")
    first = confirm_path(relay)
    answer = client.post("/confirm-email", data={
        "email": "jordan@example.org", "csrf_token": csrf_token(client, "/confirm-email")})
    assert answer.status_code == 303
    page = client.get("/confirm-email").get_data(as_text=True)
    assert "We sent a new link to jordan@example.org. Links sent before no longer work." in page
    assert "<strong>jordan@example.org</strong>" in page
    assert [to for to, _ in relay.accepted] == [["jordan@exmaple.org"], ["jordan@example.org"]]
    assert client.post(first, data={"csrf_token": csrf_token(client, "/sign-in")}
                       ).status_code == 410
    bad = client.post("/confirm-email", data={
        "email": "nope", "csrf_token": csrf_token(client, "/confirm-email")})
    assert bad.status_code == 422
    assert "Enter an email address like name@example.com." in bad.get_data(as_text=True)
    for _ in range(2):
        client.post("/confirm-email", data={
            "email": "jordan@example.org", "csrf_token": csrf_token(client, "/confirm-email")})
    paused = client.post("/confirm-email", data={
        "email": "jordan@example.org", "csrf_token": csrf_token(client, "/confirm-email")})
    assert paused.status_code == 429
    assert "Too many emails for this account." in paused.get_data(as_text=True)
    assert len(relay.accepted) == 4
    latest = confirm_path(relay)
    assert client.post(latest, data={"csrf_token": csrf_token(client, latest)}
                       ).status_code == 303


def test_a_link_lasts_24_hours(app, client, relay, clock):
    sign_up(client)
    path = confirm_path(relay)
    clock.advance(hours=24, minutes=1)
    page = client.get(path)
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "This link has expired: it worked for 24 hours." in html
    assert "the next page sends a new link" in html
    unknown = client.get("/confirm-email/not-a-token")
    assert unknown.status_code == 404


def test_make_my_account_pressed_twice_makes_one_account_and_goes_on(app, client, relay):
    again = app.test_client()  # the second press left before the first one's cookie came
    assert sign_up(client).location == "/confirm-email"
    assert sign_up(again).location == "/confirm-email"
    assert "<strong>jordan@example.org</strong>" in again.get("/confirm-email").get_data(
        as_text=True)
    assert len(relay.accepted) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(EmailLink.id))) == 1
    # not with another password, and not once the address is confirmed
    other = sign_up(app.test_client(), password=OTHER, confirm=OTHER)
    assert other.status_code == 422 and "This username is taken." in other.get_data(
        as_text=True)
    path = confirm_path(relay)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    late = sign_up(app.test_client())
    assert late.status_code == 422 and "This username is taken." in late.get_data(as_text=True)


def test_sign_ups_from_one_address_are_limited(app, client, relay, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_UPS_PER_IP", 3)
    assert sign_up(app.test_client(), username="veteran1").status_code == 422  # counts too
    for n in range(2):
        fresh = app.test_client()
        assert sign_up(fresh, username=f"person{n}").status_code == 303
    paused = sign_up(app.test_client(), username="person9")
    assert paused.status_code == 429
    html = paused.get_data(as_text=True)
    assert "Too many sign-ups from this network." in html
    assert 'value="person9"' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(EmailLink.id))) == 2


@pytest.mark.parametrize("username", ["veteran1", "nurse1"])
def test_a_signed_in_person_is_not_shown_sign_up(client, username, login):
    login(username)
    answer = client.get("/sign-up")
    assert answer.status_code == 303
    assert answer.location in {"/mailbox/inbox", "/triage/"}


def test_a_caregiver_signs_up_and_the_patient_gives_access_by_email(app, client, relay, login):
    assert sign_up(client, kind="caregiver", email="Sam.R@example.org").status_code == 303
    with app.app_context():
        assert user("jsmith").role == "caregiver"
    alex = app.test_client()
    sign_in(alex, "veteran1")
    give = {"username": "sam.r@example.org", "access": "read",
            "csrf_token": csrf_token(alex, "/caregivers")}
    early = alex.post("/caregivers", data=give)  # the address is not confirmed yet
    assert early.status_code == 422
    assert "There is no caregiver account with that username or email address." in \
        early.get_data(as_text=True)
    path = confirm_path(relay)
    done = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert done.location == "/mailbox/inbox"
    waiting = client.get("/acting-for").get_data(as_text=True)
    assert "No patient has given you access to their messages." in waiting
    assert "<strong>jsmith</strong> (or your email address)" in waiting
    assert alex.post("/caregivers", data=give).status_code == 303
    assert "Jordan Lee Smith" in alex.get("/caregivers").get_data(as_text=True)
    opened = client.get("/mailbox/inbox")
    assert opened.status_code == 200
    assert "Acting for Alex Rivera" in opened.get_data(as_text=True)
