"""The audit trail: one row per access with who, what (ids), when and from where; never
message text; append-only in the database; the coordinator's filtered view and CSV."""

import csv
import io
import re

import pytest
from sqlalchemy import text

from smweb.extensions import db
from smweb.models import AuditEvent, Thread
from tests.support import csrf_token, post_form, send_with_files, sign_in, upload, user

PRIVATE_TEXT = "my private diagnosis words"


def events(app, action=None):
    with app.app_context():
        query = db.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [(e.action, e.actor_id, e.patient_id, e.thread_id, e.message_id,
                 e.attachment_id, e.ip, e.user_agent)
                for e in db.session.scalars(query)]


def refill_id(app):
    with app.app_context():
        return db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Refill for blood pressure pills"))


def ids(app, *usernames):
    with app.app_context():
        return [user(name).id for name in usernames]


def test_sign_in_failure_and_sign_out_are_recorded(client, app):
    vet, = ids(app, "veteran1")
    sign_in(client, "veteran1", "wrong-password-1")
    sign_in(client, "nobody-at-all", "wrong-password-1")
    sign_in(client, "veteran1")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/mailbox/inbox")})
    rows = [(a, actor) for a, actor, *_ in events(app)]
    assert rows == [("sign_in_failed", vet), ("sign_in_failed", None), ("sign_in", vet),
                    ("sign_out", vet)]
    assert all(e[6] == "127.0.0.1" for e in events(app))


def test_a_row_written_outside_a_request_names_no_origin(client, app):
    """The address and browser come from the request being served: a command or a job
    writing after a request has ended does not inherit that request's origin."""
    from smweb.services import audit

    client.environ_base["HTTP_USER_AGENT"] = "Firefox/128.0"
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    sign_in(client, "veteran1")
    with app.app_context():
        audit.record("sign_out", user("veteran1"))
    assert [e[6:] for e in events(app)] == [("192.0.2.7", "Firefox/128.0"), ("", "")]


def test_thread_view_send_download_and_record_are_recorded(login, client, app):
    vet, nurse = ids(app, "veteran1", "nurse1")
    tid = refill_id(app)
    login("veteran1")
    client.get(f"/threads/{tid}")
    (view,) = events(app, "thread_view")
    assert view[:7] == ("thread_view", vet, vet, tid, None, None, "127.0.0.1")
    assert view[7].startswith("Werkzeug/")  # the test client's user agent
    send_with_files(client, app, [("note.txt", b"hello")], body=PRIVATE_TEXT)
    (send,) = events(app, "message_send")
    assert send[1] == vet and send[2] == vet and send[4] is not None
    with app.app_context():
        attachment_id = db.session.scalar(db.text("SELECT id FROM attachments"))
    staff = app.test_client()
    sign_in(staff, "nurse1")
    staff.get(f"/attachments/{attachment_id}")
    (download,) = events(app, "attachment_download")
    assert download[1] == nurse and download[5] == attachment_id and download[2] == vet
    post_form(staff, f"/triage/threads/{tid}/record", form_page=f"/threads/{tid}")
    (saved,) = events(app, "record_save")
    assert saved[1] == nurse and saved[3] == tid


def test_no_message_text_in_the_trail_or_the_log(login, client, app, caplog):
    login("veteran1")
    send_with_files(client, app, [], body=PRIVATE_TEXT, subject="Secret subject here")
    with app.app_context():
        dump = " ".join(str(row) for row in db.session.execute(
            text("SELECT * FROM audit_events")).all())
    assert PRIVATE_TEXT not in dump and "Secret subject" not in dump
    assert PRIVATE_TEXT not in caplog.text and "Secret subject" not in caplog.text


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'x'",
                                       "DELETE FROM audit_events"])
def test_the_database_refuses_to_change_the_trail(login, app, statement):
    login("veteran1")
    with app.app_context():
        with pytest.raises(Exception, match="cannot be changed or deleted"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == 1


def test_coordinator_filters_and_exports(client, app):
    tid = refill_id(app)
    patient = app.test_client()
    sign_in(patient, "veteran1")
    patient.get(f"/threads/{tid}")
    sign_in(client, "coordinator1")
    page = client.get("/triage/audit?action=thread_view&patient=veteran1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"#{tid}" in html and "Opened a thread" in html
    none = client.get("/triage/audit?action=thread_view&patient=veteran2").get_data(
        as_text=True)
    assert "No events match." in none
    bad = client.get("/triage/audit?start=2026-05-01&end=2026-01-01")
    assert bad.status_code == 422 and "can&#39;t be before the first" in bad.get_data(
        as_text=True)
    csv = client.get("/triage/audit.csv?user=veteran1")
    body = csv.get_data(as_text=True)
    assert csv.mimetype == "text/csv" and body.startswith("id,at_utc,action,actor,patient")
    assert ",thread_view,veteran1,veteran1," in body and ",sign_in,veteran1," in body
    assert events(app, "audit_export")[0][1] == ids(app, "coordinator1")[0]


def test_trail_pages_carry_only_the_filter(client, app):
    """The Newer/Older links keep the filter; anything else in the URL is left behind (and
    never breaks the page)."""
    tid = refill_id(app)
    patient = app.test_client()
    sign_in(patient, "veteran1")
    for _ in range(51):  # the trail shows 50 a page
        patient.get(f"/threads/{tid}")
    sign_in(client, "coordinator1")
    page = client.get("/triage/audit?action=thread_view&page=2&label=x&on=y&back=z&endpoint=w")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'rel="prev">Newer</a>' in html
    newer = re.search(r'<a href="([^"]+)" rel="prev">', html).group(1)
    assert "action=thread_view" in newer and "page=1" in newer and "label" not in newer


def test_the_csv_never_holds_a_formula(client, app):
    """A user agent is whatever a failed sign-in sent: in the CSV it is text, not a formula
    a spreadsheet would run (OWASP: CSV injection)."""
    attacker = app.test_client()
    for agent in ('=HYPERLINK("http://example.invalid","Click")', "+1+1", "-2", "@SUM(A1)",
                  "\tcmd"):
        attacker.post("/sign-in", data={"username": "veteran1", "password": "wrong-pass-1",
                                        "csrf_token": csrf_token(attacker)},
                      headers={"User-Agent": agent})
    sign_in(client, "coordinator1")
    body = client.get("/triage/audit.csv?action=sign_in_failed").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    cells = [row["user_agent"] for row in rows]
    assert "'=HYPERLINK(\"\"http://example.invalid\"\"" in body
    assert {"'+1+1", "'-2", "'@SUM(A1)"} <= set(cells)
    assert not any(c.startswith(("=", "+", "-", "@", "\t")) for c in cells), cells


def test_a_downloaded_draft_file_can_still_be_removed_and_its_draft_deleted(login, client, app):
    """The trail keeps the file's id as a plain value: removing what it names is no 500."""
    from smweb.models import Attachment, Draft
    from tests import samples

    login("veteran1")

    def post(path, data):
        return client.post(path, data={"csrf_token": csrf_token(client, "/compose"), **data},
                           content_type="multipart/form-data")

    post("/compose", {"action": "attach", "form_key": "k" * 32, "subject": "Two files",
                      "attachments": [(upload("a.pdf", samples.pdf()).stream, "a.pdf"),
                                      (upload("b.png", samples.png()).stream, "b.png")]})
    with app.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
        first, second = db.session.scalars(db.select(Attachment.id).order_by(Attachment.id))
    for attachment_id in (first, second):
        assert client.get(f"/attachments/{attachment_id}").status_code == 200
    removed = post(f"/drafts/{draft_id}", {"action": f"remove:{first}", "form_key": "k" * 32})
    assert removed.status_code == 303
    deleted = post(f"/drafts/{draft_id}/delete", {})
    assert deleted.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0
    downloaded = [row[5] for row in events(app, "attachment_download")]
    assert downloaded == [first, second]  # the trail still says who downloaded what


def test_a_search_is_recorded_without_its_words(login, client, app):
    """Results show parts of message bodies: each search is in the trail (who, when, how
    many shown), never the words searched for."""
    login("veteran1")
    assert client.get("/search?q=blood+pressure").status_code == 200
    assert client.get("/search?q=zzzunfoundable").status_code == 200
    with app.app_context():
        rows = list(db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "search").order_by(AuditEvent.id)))
        assert [r.actor_id for r in rows] == [user("veteran1").id] * 2
        assert rows[0].result_count >= 1 and rows[1].result_count == 0
        for row in rows:
            assert "blood" not in repr(row.__dict__) and "zzz" not in repr(row.__dict__)
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator1")
    trail = coordinator.get("/triage/audit?action=search").get_data(as_text=True)
    assert "Searched messages (0 shown)" in trail
    assert "blood" not in coordinator.get("/triage/audit.csv?action=search").get_data(
        as_text=True)


@pytest.mark.parametrize("end", ["9999-12-31", "0001-01-01"])
def test_dates_at_the_ends_of_time_are_a_clear_422(client, end):
    sign_in(client, "coordinator1")
    trail = client.get("/triage/audit", query_string={"start": "2026-01-01", "end": end})
    assert trail.status_code == 422
    assert "Enter a date between 1900 and 2999" in trail.get_data(as_text=True)
    assert client.get("/triage/audit.csv", query_string={"end": end}).status_code < 500
