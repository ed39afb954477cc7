"""Sign-in protection: lockout by account name and by address that holds across processes,
one generic answer, the same answer time whether or not the account exists; passwords."""

import os
import re
import statistics
import sys
import time

import pytest

from smweb.services import throttle
from tests.liveapp import Browser, free_port, prepare_site, server, site_env
from tests.support import csrf_token, post_form, sign_in

WRONG = "not-the-password-9"


def try_password(client, username: str, password: str = WRONG):
    return client.post("/sign-in", data={"username": username, "password": password,
                                         "csrf_token": csrf_token(client)})


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong = try_password(client, "veteran1")
    missing = try_password(client, "nobody-at-all")
    assert wrong.status_code == missing.status_code == 401
    strip = re.compile(r'value="[^"]+"|"X-CSRFToken": "[^"]+"|value="[a-z-]+"')
    assert strip.sub("", wrong.text) == strip.sub("", missing.text)
    assert "Wrong username or password." in wrong.text


@pytest.mark.parametrize("username", ["veteran1", "nobody-at-all"])
def test_five_failures_lock_the_name_for_fifteen_minutes(client, clock, username):
    for _ in range(4):
        assert try_password(client, username).status_code == 401
    fifth = try_password(client, username)
    assert fifth.status_code == 429
    assert "Too many failed tries" in fifth.text and "about 15 minutes" in fifth.text
    # locked even with the right password, and the same for a name that doesn't exist
    assert try_password(client, username, "demo-password-1").status_code == 429
    clock.advance(minutes=10)
    assert "about 5 minutes" in try_password(client, username, "demo-password-1").text
    clock.advance(minutes=5, seconds=1)
    if username == "veteran1":
        assert try_password(client, username, "demo-password-1").status_code == 303


def test_a_successful_sign_in_forgets_earlier_failures(client):
    for _ in range(4):
        try_password(client, "veteran1")
    assert sign_in(client, "veteran1").status_code == 303
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/mailbox/inbox")})
    for _ in range(4):
        assert try_password(client, "veteran1").status_code == 401


def test_one_address_trying_many_names_is_paused(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_FAILURES_PER_IP", 6)
    for n in range(5):
        assert try_password(client, f"guess{n}").status_code == 401
    assert try_password(client, "guess-last").status_code == 429
    assert try_password(client, "veteran2", "demo-password-1").status_code == 429


def test_lockout_in_redis_when_configured(client, app, monkeypatch):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    redis.Redis.from_url(url).flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    try:
        for _ in range(4):
            assert try_password(client, "veteran2").status_code == 401
        assert try_password(client, "veteran2").status_code == 429
        keys = redis.Redis.from_url(url).keys("smweb:sign-in-failures:*")
        assert b"smweb:sign-in-failures:account:veteran2" in keys
        with app.app_context():
            assert throttle.DatabaseStore().locked_until("account:veteran2", 5) is None
    finally:
        redis.Redis.from_url(url).flushdb()


def test_an_unreachable_redis_falls_back_to_the_database(client, app, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    for _ in range(4):
        assert try_password(client, "veteran2").status_code == 401
    assert try_password(client, "veteran2").status_code == 429  # still protected
    assert "Redis unreachable" in caplog.text


def test_answer_time_does_not_tell_whether_the_account_exists(client, app, monkeypatch):
    """Benchmark-style: medians over many tries, within a factor of two of each other."""
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_FAILURES", 10_000)
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_FAILURES_PER_IP", 10_000)
    token = csrf_token(client)

    def timed(username: str) -> float:
        start = time.perf_counter()
        response = client.post("/sign-in", data={
            "username": username, "password": WRONG, "csrf_token": token})
        assert response.status_code == 401
        return time.perf_counter() - start

    existing, missing = [], []
    for n in range(30):
        existing.append(timed("veteran1"))
        missing.append(timed(f"no-such-user-{n}"))
    ratio = statistics.median(existing) / statistics.median(missing)
    print(f"sign-in answer time, existing / missing user: {ratio:.2f}")
    assert 0.5 < ratio < 2.0


# -- two app processes sharing one database ------------------------------------------------

@pytest.fixture
def two_servers(tmp_path):
    """Two smweb processes on one SQLite file, as two gunicorn workers would share it."""
    env = site_env(tmp_path)
    prepare_site(env)
    flask = [sys.executable, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1"]
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    with server([*flask, "--port", str(ports[0])], env, bases[0]), \
            server([*flask, "--port", str(ports[1])], env, bases[1]):
        yield bases


def test_lockout_holds_across_two_processes(two_servers):
    first, second = (Browser(base) for base in two_servers)
    answers = [(first if n % 2 == 0 else second).sign_in("veteran1", WRONG) for n in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    # each process refuses the right password now: the count lives in the shared database
    assert Browser(two_servers[0]).sign_in("veteran1", "demo-password-1") == 429
    assert Browser(two_servers[1]).sign_in("veteran1", "demo-password-1") == 429
    assert Browser(two_servers[1]).sign_in("veteran2", "demo-password-1") == 303


# -- passwords --------------------------------------------------------------------------

@pytest.mark.parametrize(("new", "message"), [
    ("short one", "Use at least 12 characters."),
    ("x" * 129, "Use at most 128 characters."),
    ("password1234", "This password is one of the most common passwords."),
    ("aaaaaaaaaaaaaaaa", "Choose a longer or less predictable password"),
    ("veteran1veteran1", "Choose a longer or less predictable password"),
])
def test_new_passwords_that_are_refused(login, client, new, message):
    login("veteran1")
    response = post_form(client, "/account/password", {
        "current": "demo-password-1", "new": new, "confirm": new}, form_page="/account/password")
    assert response.status_code == 422
    assert message in response.text


def test_change_password_asks_for_the_current_one_and_ends_other_sessions(login, client, app):
    login("veteran1")
    other = app.test_client()
    sign_in(other, "veteran1")
    wrong = post_form(client, "/account/password", {
        "current": "not-it-at-all", "new": "a quiet walk by the lake", "confirm":
        "a quiet walk by the lake"}, form_page="/account/password")
    assert wrong.status_code == 422 and "Your current password is not right." in wrong.text
    differ = post_form(client, "/account/password", {
        "current": "demo-password-1", "new": "a quiet walk by the lake", "confirm":
        "a quiet walk by the river"}, form_page="/account/password")
    assert differ.status_code == 422 and "The two new passwords differ." in differ.text
    done = post_form(client, "/account/password", {
        "current": "demo-password-1", "new": "a quiet walk by the lake", "confirm":
        "a quiet walk by the lake"}, form_page="/account/password")
    assert done.location == "/account"
    assert "You were signed out on your other devices." in client.get("/account").text
    assert other.get("/mailbox/inbox").status_code == 302
    assert client.get("/mailbox/inbox").status_code == 200
    fresh = app.test_client()
    assert sign_in(fresh, "veteran1").status_code == 401
    assert sign_in(fresh, "veteran1", "a quiet walk by the lake").status_code == 303


def test_wrong_current_passwords_count_with_the_sign_in_limits(login, client, app):
    """A stolen session can't be used to guess the password: wrong current passwords on
    the change-password page pause it, and signing in, after 5 (the sign-in's limit)."""
    login("veteran1")

    def change(current):
        return post_form(client, "/account/password", {
            "current": current, "new": "a quiet walk by the lake",
            "confirm": "a quiet walk by the lake"}, form_page="/account/password")

    answers = [change(f"guess-number-{n}").status_code for n in range(5)]
    assert answers == [422] * 4 + [429]
    paused = change("demo-password-1")  # even the right one, while paused
    assert paused.status_code == 429 and "Too many wrong passwords." in paused.text
    assert try_password(app.test_client(), "veteran1", "demo-password-1").status_code == 429


def test_wrong_passwords_to_turn_off_two_step_are_counted(client, app):
    import pyotp

    from smweb.extensions import db
    from smweb.services import twofactor
    from tests.support import user

    with app.app_context():
        secret = pyotp.random_base32()
        twofactor.enrol_with_secret(user("veteran2"), secret)
        db.session.commit()
    sign_in(client, "veteran2")
    client.post("/sign-in/code", data={"code": pyotp.TOTP(secret).now(),
                                       "csrf_token": csrf_token(client, "/sign-in/code")})
    answers = [post_form(client, "/account/two-step/off", {"password": f"guess-{n}-x"},
                         form_page="/account").status_code for n in range(6)]
    assert answers == [422] * 4 + [429] * 2
    with app.app_context():
        assert user("veteran2").totp_secret == secret  # still on


@pytest.mark.parametrize("target", ["/mailbox/inbox\r\nSet-Cookie: x=1", "/\nLocation: //e.x",
                                    "/mailbox/\tinbox"])
def test_control_characters_in_a_redirect_target_are_dropped(client, app, target):
    """CR/LF in `next` or `back` once broke the Location header (a 500 with the user
    signed in behind it): such a target is simply not used."""
    response = client.post("/sign-in", query_string={"next": target}, data={
        "username": "veteran1", "password": "demo-password-1",
        "csrf_token": csrf_token(client)})
    assert response.status_code == 303 and response.location == "/mailbox/inbox"
    extended = post_form(client, "/session/extend", {"next": target}, form_page="/mailbox/inbox")
    assert extended.status_code in (302, 303) and "\n" not in extended.location
    moved = post_form(client, "/mailbox/move", {"thread_ids": "1", "destination": "inbox",
                                                "back": target}, form_page="/mailbox/inbox")
    assert moved.status_code == 303 and moved.location == "/mailbox/inbox"
