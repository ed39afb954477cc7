"""The second factor: required of staff, coordinators and admins, a choice for patients. A code
from the app is accepted once; a recovery code once; enrolment shows a QR code and the key."""

import re
import subprocess
import sys
from pathlib import Path

import pyotp

from smweb.extensions import db
from smweb.models import AuditEvent
from tests.support import (
    csrf_token,
    demo_code,
    forget_used_codes,
    post_form,
    set_up_two_step,
    sign_in,
    user,
)


def password_step(client, username: str):
    return client.post("/sign-in", data={"username": username, "password": "demo-password-1",
                                         "csrf_token": csrf_token(client)})


def code_step(client, code: str):
    return client.post("/sign-in/code", data={
        "code": code, "csrf_token": csrf_token(client, "/sign-in/code")})


def reset_two_step(login, client, app, username: str = "nurse1") -> None:
    """An admin's "Reset two-step verification" (a lost phone): the next sign-in sets up."""
    login("admin1")
    with app.app_context():
        target = user(username).id
    post_form(client, f"/admin/users/{target}/two-step/reset",
              form_page=f"/admin/users/{target}")


def test_staff_need_the_code_after_the_password(client):
    first = password_step(client, "nurse1")
    assert first.status_code == 303 and first.location == "/sign-in/code"
    assert client.get("/triage/").status_code == 302  # not signed in yet
    page = client.get("/sign-in/code").text
    assert "Enter the code from your authenticator app" in page
    wrong = code_step(client, "000000" if demo_code() != "000000" else "111111")
    assert wrong.status_code == 401
    assert "That code is not right, or was already used." in wrong.text
    right = code_step(client, demo_code())
    assert right.status_code == 303 and right.location == "/triage/"
    assert client.get("/triage/").status_code == 200


def test_a_code_is_used_once(client, app):
    code = demo_code()
    password_step(client, "doctor1")
    assert code_step(client, code).status_code == 303
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/triage/")})
    password_step(client, "doctor1")
    replayed = code_step(client, code)
    assert replayed.status_code == 401
    assert client.get("/triage/").status_code == 302


def test_a_new_session_id_after_the_second_factor(client):
    password_step(client, "nurse1")
    with client.session_transaction() as session:
        assert "_user_id" not in session and "pending_sign_in" in session
    code_step(client, demo_code())
    with client.session_transaction() as session:
        assert "pending_sign_in" not in session and len(session["_user_id"]) >= 40


def test_the_code_step_expires(client, clock):
    password_step(client, "nurse1")
    clock.advance(minutes=6)
    late = code_step(client, demo_code())
    assert late.location == "/sign-in"
    assert "the time to enter the code ran out" in client.get("/sign-in").text


def test_guessing_codes_locks_the_account_name(client, app):
    password_step(client, "nurse1")
    answers = [code_step(client, "12345" + str(n)).status_code for n in range(5)]
    assert answers[:4] == [401] * 4 and answers[4] == 429
    assert code_step(client, demo_code()).status_code == 429
    # The trail has each wrong code and the refused try, as the account's.
    with app.app_context():
        nurse = user("nurse1").id
        trail = db.session.execute(db.select(AuditEvent.action, AuditEvent.actor_id)
                                   .order_by(AuditEvent.id)).all()
    assert trail == [("sign_in_failed", nurse)] * 5 + [("sign_in_locked", nurse)]


def test_typing_the_password_again_does_not_reset_the_code_count(client):
    """4 wrong codes, the right password again, 4 more: the code step stays paused after
    the 5th wrong code (before, every right password gave 4 more tries)."""
    wrong = "000000" if demo_code() != "000000" else "111111"
    answers = []
    for _ in range(2):
        assert password_step(client, "nurse1").location == "/sign-in/code"
        answers += [code_step(client, wrong).status_code for _ in range(4)]
    assert answers[:4] == [401] * 4 and answers[4:] == [429] * 4
    assert password_step(client, "nurse1").location == "/sign-in/code"  # the password is right
    assert code_step(client, demo_code()).status_code == 429  # but the codes are paused


def test_a_whole_sign_in_forgets_both_counts(client, app):
    for _ in range(4):
        client.post("/sign-in", data={"username": "nurse1", "password": "wrong-one-1",
                                      "csrf_token": csrf_token(client)})
    password_step(client, "nurse1")
    for _ in range(4):
        code_step(client, "000000" if demo_code() != "000000" else "111111")
    forget_used_codes(app, "nurse1")
    assert code_step(client, demo_code()).location == "/triage/"
    post_form(client, "/sign-out", form_page="/triage/")
    password_step(client, "nurse1")  # counting from 0 again: a 5th wrong code is no pause
    assert code_step(client, "000000" if demo_code() != "000000" else "111111"
                     ).status_code == 401


def test_wrong_codes_on_the_setup_page_are_counted_too(login, client, app):
    reset_two_step(login, client, app)
    nurse = app.test_client()
    assert password_step(nurse, "nurse1").location == "/sign-in/setup"
    answers = [nurse.post("/sign-in/setup", data={
        "code": f"12345{n}", "csrf_token": csrf_token(nurse, "/sign-in/setup")}).status_code
        for n in range(6)]
    assert answers[:4] == [422] * 4 and answers[4:] == [429] * 2


def test_a_patient_turns_it_on_and_uses_a_recovery_code_once(login, client, app):
    login("veteran1")
    assert "Off." in client.get("/account").text
    setup = client.get("/account/two-step").text
    assert "<svg" in setup and "QR code for your authenticator app" in setup
    key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', setup).group(1)
    wrong = post_form(client, "/account/two-step", {"code": "000000"},
                      form_page="/account/two-step")
    assert wrong.status_code == 422 and "That code is not right." in wrong.text
    shown = post_form(client, "/account/two-step",
                      {"code": pyotp.TOTP(key.replace(" ", "")).now()},
                      form_page="/account/two-step")
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", shown.text)
    assert len(codes) == 10
    with app.app_context():
        stored = user("veteran1")
        assert stored.totp_secret == key.replace(" ", "")
        assert all(c not in str(db.session.execute(db.text(
            "SELECT code_hash FROM recovery_codes")).all()) for c in codes)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})

    assert password_step(client, "veteran1").location == "/sign-in/code"
    used = code_step(client, codes[0].upper())  # typed in capitals: still the same code
    assert used.location == "/mailbox/inbox"
    assert "You used a recovery code; 9 left." in client.get("/mailbox/inbox").text
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/mailbox/inbox")})
    password_step(client, "veteran1")
    assert code_step(client, codes[0]).status_code == 401


def test_a_patient_turns_it_off_with_the_password_staff_cannot(login, client, app):
    with app.app_context():
        from smweb.services import twofactor

        twofactor.enrol_with_secret(user("veteran2"), pyotp.random_base32())
        db.session.commit()
    login("nurse1")
    assert "Turn off two-step verification" not in client.get("/account").text
    post_form(client, "/account/two-step/off", {"password": "demo-password-1"},
              form_page="/account")
    with app.app_context():
        assert user("nurse1").totp_secret is not None
    other = app.test_client()
    with app.app_context():
        secret = user("veteran2").totp_secret
    password_step(other, "veteran2")
    code_step(other, pyotp.TOTP(secret).now())
    bad = post_form(other, "/account/two-step/off", {"password": "wrong-one-here"},
                    form_page="/account")
    assert bad.status_code == 422 and "Your current password is not right." in bad.text
    post_form(other, "/account/two-step/off", {"password": "demo-password-1"},
              form_page="/account")
    with app.app_context():
        assert user("veteran2").totp_secret is None


def test_new_recovery_codes_replace_the_old(login, client):
    login("nurse1")
    assert "Recovery codes left: 0." in client.get("/account").text
    shown = post_form(client, "/account/recovery-codes", form_page="/account")
    assert len(re.findall(r"<li><code>", shown.text)) == 10
    assert "Recovery codes left: 10." in client.get("/account").text


def test_an_admin_resets_a_lost_phone(login, client, app):
    reset_two_step(login, client, app)
    nurse = app.test_client()
    assert password_step(nurse, "nurse1").location == "/sign-in/setup"
    page = nurse.get("/sign-in/setup").text
    assert "Set up two-step verification" in page and "<svg" in page
    assert "Save your recovery codes" in set_up_two_step(nurse, app, "nurse1").text
    assert nurse.get("/triage/").status_code == 200


def setup_key(browser) -> str:
    page = browser.get("/sign-in/setup").text
    return re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page).group(1).replace(
        " ", "")


def test_a_key_being_set_up_belongs_to_one_browser(login, client, app):
    """After an admin's reset, the key on the setup page is this browser's alone: another
    sign-in with the password is shown a new key, which voids the first; confirming one
    leaves nothing for any other session to confirm."""
    reset_two_step(login, client, app)
    someone, nurse = app.test_client(), app.test_client()
    password_step(someone, "nurse1")
    copied = setup_key(someone)
    assert setup_key(someone) == copied  # a reload (or a wrong code) shows the same key
    password_step(nurse, "nurse1")
    own = setup_key(nurse)
    assert own != copied  # the copied key is void from now on
    done = nurse.post("/sign-in/setup", data={
        "code": pyotp.TOTP(own).now(), "csrf_token": csrf_token(nurse, "/sign-in/setup")})
    assert "Save your recovery codes" in done.text
    with app.app_context():
        nurse_row = user("nurse1")
        assert nurse_row.totp_secret == own and nurse_row.totp_pending_secret is None
    # whoever copied the first key can't confirm it, nor sign in with its codes
    late = someone.post("/sign-in/setup", data={
        "code": pyotp.TOTP(copied).now(), "csrf_token": csrf_token(someone, "/sign-in")})
    assert late.location == "/sign-in"
    again = app.test_client()
    assert password_step(again, "nurse1").location == "/sign-in/code"
    assert code_step(again, pyotp.TOTP(copied).now()).status_code == 401


def test_a_wrong_code_or_a_reload_keeps_the_key_on_screen(login, client, app):
    reset_two_step(login, client, app)
    nurse = app.test_client()
    password_step(nurse, "nurse1")
    key = setup_key(nurse)
    wrong = nurse.post("/sign-in/setup", data={
        "code": "000000" if pyotp.TOTP(key).now() != "000000" else "111111",
        "csrf_token": csrf_token(nurse, "/sign-in/setup")})
    assert wrong.status_code == 422 and key[:4] in wrong.text
    assert setup_key(nurse) == key


def test_patients_sign_in_with_the_password_alone_by_default(client):
    assert sign_in(client, "veteran1").location == "/mailbox/inbox"


def test_demo_code_command_prints_the_current_code(tmp_path):
    import os

    env = {**os.environ, "SMWEB_ENV": "development", "SMWEB_INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SMWEB_SECRET_KEY": "k" * 32}
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "app", "smweb", "demo-code"],
        cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
        check=True).stdout.strip()
    assert re.fullmatch(r"\d{6}", out)
    assert pyotp.TOTP("SMWEBDEMOONLYTOTPKEY234567ABCDEF").verify(out, valid_window=1)


def test_the_code_and_setup_steps_need_a_password_first(client):
    for path in ("/sign-in/code", "/sign-in/setup"):
        response = client.get(path)
        assert response.status_code == 303 and response.location == "/sign-in"
    assert client.post("/sign-in/code", data={"code": demo_code()}).status_code in {303, 400}
    assert client.get("/triage/").status_code == 302
