"""Signing in and out, and the patient's way into messaging."""

import hashlib

from argon2 import PasswordHasher
from argon2.low_level import Type

from smweb.config import Config
from smweb.extensions import db
from smweb.models import UserSession
from tests.support import BOOSTED, csrf_token, post_form, sign_in, user


def test_sign_in_page_shows_the_form(client):
    page = client.get("/sign-in")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Sign in to Secure Messaging</h1>" in html
    assert 'name="password"' in html
    assert page.headers["Cache-Control"] == "no-store"


def test_patient_signs_in_and_lands_on_inbox(client):
    response = sign_in(client, "veteran1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/mailbox/inbox"
    inbox = client.get("/mailbox/inbox")
    assert inbox.status_code == 200
    assert "Signed in as Alex Rivera" in inbox.get_data(as_text=True)


def test_staff_signs_in_and_lands_on_queue(client):
    response = sign_in(client, "nurse1")
    assert response.headers["Location"] == "/triage/"


def test_username_is_not_case_sensitive(client):
    assert sign_in(client, "  VETERAN1 ").status_code == 303


def test_wrong_password_and_unknown_user_read_the_same(client):
    wrong = sign_in(client, "veteran1", "not-the-password")
    unknown = sign_in(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert "Wrong username or password." in html
        assert "nobody-here" not in html.split("<form", 1)[0]  # not echoed in the summary
    assert client.get("/mailbox/inbox").status_code == 302


def test_empty_sign_in_form_says_what_is_missing(client):
    token = csrf_token(client)
    response = client.post("/sign-in", data={"csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter your username." in html
    assert "Enter your password." in html


def test_sign_in_without_csrf_token_is_refused(client):
    response = client.post("/sign-in", data={"username": "veteran1", "password": "x"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_sign_in_starts_a_fresh_session(client, app):
    csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    sign_in(client, "veteran1")
    with client.session_transaction() as session:
        assert "planted" not in session
        token = session["_user_id"]
    # the cookie names a server-side session by a random token, not the user id
    with app.app_context():
        assert token != str(user("veteran1").id) and len(token) >= 40
        row = db.session.scalar(db.select(UserSession).where(
            UserSession.token_hash == hashlib.sha256(token.encode()).hexdigest()))
        assert row.user.username == "veteran1" and row.ended_at is None


def test_safe_next_is_followed_and_foreign_next_ignored(client):
    token = csrf_token(client)
    ok = client.post(
        "/sign-in?next=/mailbox/sent",
        data={"username": "veteran1", "password": "demo-password-1", "csrf_token": token},
    )
    assert ok.headers["Location"] == "/mailbox/sent"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/mailbox/inbox")})
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        token = csrf_token(client)
        response = client.post(
            "/sign-in", query_string={"next": evil},
            data={"username": "veteran1", "password": "demo-password-1", "csrf_token": token},
        )
        assert response.headers["Location"] == "/mailbox/inbox", evil
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/mailbox/inbox")})


def test_signed_out_user_is_sent_to_sign_in_with_next(client):
    response = client.get("/mailbox/sent")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/mailbox/sent"


def test_htmx_request_after_session_ends_gets_401_and_hx_redirect(client):
    response = client.get("/mailbox/inbox", headers={"HX-Request": "true",
                                                     "HX-Target": "message-list"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in?next=")
    assert response.get_data(as_text=True) == ""


def test_htmx_sign_in_reloads_the_whole_page(client):
    token = csrf_token(client)
    response = client.post(
        "/sign-in", headers=BOOSTED,
        data={"username": "veteran1", "password": "demo-password-1", "csrf_token": token},
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/mailbox/inbox"


def test_sign_out_ends_the_session(login, client):
    login("veteran1")
    response = post_form(client, "/sign-out", form_page="/mailbox/inbox")
    assert response.status_code == 303
    assert response.headers["Location"] == "/signed-out"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    page = client.get("/signed-out").get_data(as_text=True)
    assert "You are signed out" in page and "Alex Rivera" not in page
    assert client.get("/mailbox/inbox").status_code == 302


def test_sign_out_is_not_possible_by_get(login, client):
    login("veteran1")
    assert client.get("/sign-out").status_code == 405
    assert client.get("/mailbox/inbox").status_code == 200


def test_basic_account_is_told_messaging_needs_premium(login, client):
    login("basic1")
    response = client.get("/mailbox/inbox")
    assert response.status_code == 302
    assert response.headers["Location"] == "/premium-required"
    page = client.get("/premium-required").get_data(as_text=True)
    assert "Secure messaging needs a premium account" in page
    assert client.get("/compose").headers["Location"] == "/premium-required"


def test_premium_patient_who_has_not_opted_in_sees_terms_and_opts_in(login, client, app):
    with app.app_context():
        user("veteran2").opted_in_at = None
        db.session.commit()
    login("veteran2")
    assert client.get("/mailbox/inbox").headers["Location"] == "/terms"
    terms = client.get("/terms").get_data(as_text=True)
    for words in ("non-urgent", "call 911", "988 then press 1", "3 business days",
                  "saved to your medical record"):
        assert words in terms
    refused = post_form(client, "/terms", form_page="/terms")
    assert refused.status_code == 422
    assert "Check the box to accept the terms" in refused.get_data(as_text=True)
    accepted = post_form(client, "/terms", {"accept": "y"}, form_page="/terms")
    assert accepted.headers["Location"] == "/mailbox/inbox"
    assert client.get("/mailbox/inbox").status_code == 200


def test_patient_opts_out_in_preferences(login, client):
    login("veteran1")
    page = client.get("/preferences").get_data(as_text=True)
    assert "Opt out of secure messaging" in page
    response = post_form(client, "/preferences/opt-out", form_page="/preferences")
    assert response.headers["Location"] == "/terms"
    assert client.get("/mailbox/inbox").headers["Location"] == "/terms"


def test_passwords_are_argon2id_with_strong_production_parameters(ctx):
    assert Config.ARGON2_MEMORY_KIB >= 46 * 1024
    assert Config.ARGON2_TIME_COST >= 1
    assert Config.ARGON2_PARALLELISM == 1
    stored = user("veteran1").password_hash
    assert stored.startswith("$argon2id$")
    assert PasswordHasher(type=Type.ID).verify(stored, "demo-password-1")
