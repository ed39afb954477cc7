"""Server-side sessions: a signed-out, ended or timed-out session can't be used again, however
its cookie is replayed; idle and absolute timeouts; sign out everywhere; cookies."""

import re

import pytest
from sqlalchemy import event

from smweb.config import Config, ProductionConfig
from smweb.extensions import db
from smweb.models import SignInFailure, UserSession
from tests.support import htmx_fragment, post_form, sign_in, user

COOKIE = "smweb_session"


def session_cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def replay(app, cookie: str):
    """Another browser that got hold of this cookie (copied from a shared computer)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def test_a_signed_out_session_cannot_be_replayed(login, client, app):
    login("veteran1")
    cookie = session_cookie(client)
    assert replay(app, cookie).get("/mailbox/inbox").status_code == 200  # the same session
    post_form(client, "/sign-out", form_page="/mailbox/inbox")
    again = replay(app, cookie).get("/mailbox/inbox")
    assert again.status_code == 302
    assert again.location.startswith("/sign-in?next=/mailbox/inbox")
    with app.app_context():
        row = db.session.scalar(db.select(UserSession))
        assert row.end_reason == "signed_out" and row.ended_at is not None


def test_sign_out_everywhere_ends_every_device(login, client, app):
    login("veteran1")
    phone = app.test_client()
    sign_in(phone, "veteran1", headers={"User-Agent": "x"})
    page = client.get("/account").get_data(as_text=True)
    assert page.count("<tr>") == 3  # the head and two devices
    assert "(this device)" in page
    response = post_form(client, "/account/sign-out-everywhere", form_page="/account")
    assert response.location == "/signed-out"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert phone.get("/mailbox/inbox").status_code == 302
    assert client.get("/mailbox/inbox").status_code == 302


def test_account_page_names_devices_and_last_activity(app):
    browser = app.test_client()
    firefox = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
               "Firefox/128.0")
    browser.environ_base["HTTP_USER_AGENT"] = firefox
    sign_in(browser, "veteran1")
    page = browser.get("/account").get_data(as_text=True)
    assert "Firefox on Windows <strong>(this device)</strong>" in page
    assert "127.0.0.1" in page


def test_an_admin_ends_a_users_sessions(login, client, app):
    nurse = app.test_client()
    sign_in(nurse, "nurse1")
    assert nurse.get("/triage/").status_code == 200
    login("admin1")
    with app.app_context():
        nurse_id = user("nurse1").id
    edit = client.get(f"/admin/users/{nurse_id}").get_data(as_text=True)
    assert "is signed in on 1 device." in edit
    response = post_form(client, f"/admin/users/{nurse_id}/sessions/end",
                         form_page=f"/admin/users/{nurse_id}")
    assert response.status_code == 303
    assert "Ended 1 session of nurse1." in client.get(response.location).get_data(as_text=True)
    assert nurse.get("/triage/").status_code == 302


def test_disabling_an_account_ends_its_sessions(login, client, app):
    patient = app.test_client()
    sign_in(patient, "veteran2")
    login("admin1")
    with app.app_context():
        vet = user("veteran2")
        vet_id, level = vet.id, vet.account_level
    post_form(client, f"/admin/users/{vet_id}", {"role": "patient", "account_level": level,
                                                "disabled": "y"},
              form_page=f"/admin/users/{vet_id}")
    assert patient.get("/mailbox/inbox").status_code == 302
    with app.app_context():
        row = db.session.scalar(db.select(UserSession).where(UserSession.user_id == vet_id))
        assert row.end_reason == "disabled"


@pytest.mark.parametrize(("username", "idle", "page"), [
    ("veteran1", 30, "/mailbox/inbox"), ("nurse1", 15, "/triage/")])
def test_idle_timeout_by_role(client, app, clock, username, idle, page):
    sign_in(client, username)
    clock.advance(minutes=idle - 1)
    assert client.get(page).status_code == 200  # activity: the idle time starts again
    clock.advance(minutes=idle - 1)
    assert client.get(page).status_code == 200
    clock.advance(minutes=idle, seconds=1)
    timed_out = client.get(page)
    assert timed_out.status_code == 302
    assert "ended=idle" in timed_out.location
    notice = client.get(timed_out.location).get_data(as_text=True)
    assert "you were signed out after a time without activity" in notice


def test_a_shared_computer_times_out_sooner(client, clock):
    sign_in(client, "veteran1", shared="y")
    clock.advance(minutes=4)
    assert client.get("/mailbox/inbox").status_code == 200
    clock.advance(minutes=5, seconds=1)
    assert "ended=idle" in client.get("/mailbox/inbox").location


def test_absolute_limit_of_twelve_hours(client, clock):
    sign_in(client, "veteran1")
    for _ in range(35):  # busy all day: a request every 20 minutes
        clock.advance(minutes=20)
        assert client.get("/mailbox/inbox").status_code == 200
    clock.advance(minutes=20)  # 12 hours after signing in
    response = client.get("/mailbox/inbox")
    assert "ended=absolute" in response.location
    assert "a session lasts at most 12 hours" in client.get(response.location).text


def test_a_list_refreshing_itself_is_not_activity(login, client, clock):
    login("veteran1")
    page = client.get("/mailbox/inbox").get_data(as_text=True)
    poll_url = re.search(r'hx-get="([^"]*poll=1)"', page).group(1).replace("&amp;", "&")
    for _ in range(3):
        clock.advance(minutes=9)
        response = client.get(poll_url, headers=htmx_fragment("message-list"))
        assert response.status_code in {200, 204}
    clock.advance(minutes=4)  # 31 minutes since the person last did anything
    ended = client.get(poll_url, headers=htmx_fragment("message-list"))
    assert ended.status_code == 401
    assert "ended=idle" in ended.headers["HX-Redirect"]


def test_a_form_posted_after_the_timeout_says_it_was_not_sent(login, client, clock):
    """Any form but a message's (which is kept as a draft: tests/test_submit.py)."""
    login("veteran1")
    token_page = client.get("/folders").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    clock.advance(minutes=31)
    response = client.post("/folders", data={"csrf_token": token, "name": "Later"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "What you did last was not saved or sent" in page
    assert "look in Drafts" in page


def test_stay_signed_in_and_the_remaining_time(client, app, clock):
    sign_in(client, "nurse1")
    page = client.get("/triage/")
    assert 895 <= int(page.headers["Smweb-Session-Remaining"]) <= 900
    assert re.search(r'data-remaining="(89\d|900)" data-warning="60"', page.text)
    clock.advance(minutes=14)
    status = client.get("/session?poll=1", headers={"HX-Request": "true"})
    assert status.status_code == 204
    assert int(status.headers["Smweb-Session-Remaining"]) <= 60  # asking is not activity
    stay = client.post("/session/extend", headers={"HX-Request": "true", "X-CSRFToken": re.search(
        r'"X-CSRFToken": "([^"]+)"', page.text).group(1)})
    assert stay.status_code == 204
    assert int(stay.headers["Smweb-Session-Remaining"]) >= 895
    clock.advance(minutes=14)
    assert client.get("/triage/").status_code == 200
    clock.advance(minutes=16)
    ended = client.get("/session?poll=1", headers={"HX-Request": "true"})
    assert ended.status_code == 204 and ended.headers["Smweb-Session-Remaining"] == "0"


def test_no_database_write_on_a_plain_page_view(login, client, app, clock):
    login("veteran1")
    writes = []

    def note(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement.split()[0:3])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        client.get("/mailbox/inbox")
        clock.advance(seconds=30)
        client.get("/mailbox/sent")
        assert writes == []
        clock.advance(seconds=31)  # a minute on: the activity is written, once
        client.get("/mailbox/inbox")
        client.get("/mailbox/sent")
        assert len(writes) == 1 and "user_sessions" in " ".join(writes[0])
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_no_remember_me_cookie_and_cookie_flags(app):
    browser = app.test_client()
    response = sign_in(browser, "veteran1")
    cookies = response.headers.getlist("Set-Cookie")
    assert not any("remember" in c.lower() for c in cookies)
    session_cookie_header = next(c for c in cookies if c.startswith(COOKIE + "="))
    assert "HttpOnly" in session_cookie_header and "SameSite=Lax" in session_cookie_header
    assert "Domain" not in session_cookie_header and "Path=/" in session_cookie_header


def test_production_cookie_is_host_prefixed_and_secure():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_NAME == "__Host-smweb_session"
    assert Config.SESSION_COOKIE_HTTPONLY is True
    assert Config.SESSION_COOKIE_SAMESITE == "Lax"


def test_prune_deletes_sessions_and_failures_long_over(app, clock):
    """`flask smweb prune` (cron, daily): a session ended a month ago and failures past the
    lockout window go; a live session and a recent failure stay."""
    gone = app.test_client()
    sign_in(gone, "veteran2")
    post_form(gone, "/sign-out", form_page="/mailbox/inbox")
    assert sign_in(app.test_client(), "nobody-by-that-name", "wrong password 1").status_code == 401
    runner = app.test_cli_runner()
    assert ("Deleted 0 ended session(s), 0 old failed sign-in(s) and 0 old email notice(s)."
            in runner.invoke(args=["smweb", "prune"]).output)
    clock.advance(days=31)
    live = app.test_client()
    sign_in(live, "veteran1")
    assert sign_in(app.test_client(), "veteran1", "wrong password 2").status_code == 401
    result = runner.invoke(args=["smweb", "prune"])
    assert result.exit_code == 0
    # veteran2's session, and the failure counted for the name never tried again (the
    # address's old one went when the address failed again)
    assert ("Deleted 1 ended session(s), 1 old failed sign-in(s) and 0 old email notice(s)."
            in result.output)
    assert live.get("/mailbox/inbox").status_code == 200
    with app.app_context():
        assert [r.user.username for r in db.session.scalars(db.select(UserSession))] == \
            ["veteran1"]
        assert db.session.scalar(db.select(db.func.count(SignInFailure.id))) == 2
    assert runner.invoke(args=["smweb", "prune", "--days", "0"]).exit_code == 2


def test_the_idle_warning_comes_on_the_password_change_page_too(app, login, client):
    """A person held to choosing a new password still gets "Are you still there?"."""
    from smweb.extensions import db as database
    from tests.support import user as find

    login("veteran1")
    with app.app_context():
        find("veteran1").must_change_password = True
        database.session.commit()
    assert client.get("/mailbox/inbox").status_code in (302, 303)  # held to the password
    warning = client.get("/session?poll=1&dialog=1&next=/account/password",
                         headers={"HX-Request": "true"})
    assert warning.status_code == 200 and "HX-Redirect" not in warning.headers
    assert "Are you still there?" in warning.get_data(as_text=True)
