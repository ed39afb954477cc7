"""messaging.submit: one press of a message form's button is sent exactly once, or kept, or
refused with the reason — whatever order a hurried person's requests arrive in."""

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy.orm.attributes import set_committed_value

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Attachment, Draft, Message, Thread, TriageGroup
from smweb.services import blocking, drafts, messaging
from smweb.services.drafts import DraftFields
from smweb.services.messaging import (
    ATTACH,
    AUTOSAVE,
    BUSY,
    INCOMPLETE,
    KEPT,
    REFUSED,
    SAVE,
    SEND,
    SENT,
)
from tests import samples
from tests.support import csrf_token, files_on_disk, htmx_fragment, new_thread, upload, user

KEY = "a" * 32


def blue() -> int:
    return db.session.scalar(db.select(TriageGroup.id).where(
        TriageGroup.name == "Primary Care Team Blue"))


def new_fields(**extra) -> DraftFields:
    return DraftFields(**{"group_id": blue(), "category": "General", "subject": "Knee",
                          "body": "It hurts.", **extra})


def count(model, *where) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def test_a_send_with_files_sends_once_and_leaves_no_draft(ctx):
    patient = user("veteran1")
    files = [upload("lab.pdf", samples.pdf()), upload("rash.png", samples.png())]
    outcome = messaging.submit(patient, SEND, new_fields(files=files), form_key=KEY)
    assert outcome.result == SENT and not outcome.again
    message = outcome.thread.messages[0]
    assert [a.filename for a in message.attachments] == ["lab.pdf", "rash.png"]
    assert count(Draft) == 0
    # the same form again — a double click, Enter twice, a resend after a slow answer — and
    # any later request of it (an autosave that fired late, an upload) sends and keeps nothing
    for action in (SEND, AUTOSAVE, ATTACH, SAVE):
        again = messaging.submit(patient, action, new_fields(
            files=[upload("late.txt", b"late")]), form_key=KEY)
        assert (again.result, again.again, again.thread.id) == (SENT, True, outcome.thread.id)
    assert count(Message, Message.body == "It hurts.") == 1
    assert count(Draft) == 0 and count(Attachment) == 2


def test_every_request_of_one_form_writes_to_one_draft(ctx):
    patient = user("veteran1")
    saved = messaging.submit(patient, AUTOSAVE, new_fields(), form_key=KEY)
    assert saved.result == KEPT and saved.draft.form_key == KEY
    # the upload started before the autosave's answer (and its draft id) reached the page
    attached = messaging.submit(patient, ATTACH, new_fields(
        files=[upload("a.txt", b"first")]), form_key=KEY)
    assert attached.draft.id == saved.draft.id and attached.notice == "Attached a.txt."
    # and so did the Send: it finds the draft, and its file, by the form's key
    sent = messaging.submit(patient, SEND, new_fields(), form_key=KEY)
    assert sent.result == SENT
    assert [a.filename for a in sent.thread.messages[0].attachments] == ["a.txt"]
    assert count(Draft) == 0


def test_a_send_that_overtakes_an_upload_waits_for_it_and_loses_nothing(ctx):
    patient = user("veteran1")
    kept = messaging.submit(patient, SAVE, new_fields(), form_key=KEY).draft
    kept.uploads_pending, kept.upload_started_at = 1, utcnow()  # another request is storing
    db.session.commit()
    outcome = messaging.submit(patient, SEND, new_fields(body="Typed meanwhile."),
                               form_key=KEY)
    assert outcome.result == BUSY and "still being uploaded" in outcome.refusal
    assert "has not been sent" in outcome.refusal
    assert count(Message, Message.body == "Typed meanwhile.") == 0
    assert db.session.get(Draft, kept.id).body == "Typed meanwhile."  # the text is kept
    # a worker that died mid-upload holds nothing back for long
    kept.upload_started_at = utcnow() - drafts.UPLOAD_STALE - timedelta(seconds=1)
    db.session.commit()
    assert messaging.submit(patient, SEND, new_fields(), form_key=KEY).result == SENT


def test_a_send_with_files_after_a_server_died_mid_upload_goes_once_the_mark_is_stale(ctx):
    """A server killed while storing a file leaves its mark; once that is UPLOAD_STALE old, a
    send that brings files again starts the count afresh (not on top of the dead one)."""
    patient = user("veteran1")
    kept = messaging.submit(patient, SAVE, new_fields(), form_key=KEY).draft
    kept.uploads_pending = 1  # the dead server's upload, which will never count down
    kept.upload_started_at = utcnow() - drafts.UPLOAD_STALE - timedelta(seconds=1)
    db.session.commit()
    outcome = messaging.submit(patient, SEND, new_fields(
        files=[upload("scan.txt", b"my scan")]), form_key=KEY)
    assert outcome.result == SENT, outcome
    assert [a.filename for a in outcome.message.attachments] == ["scan.txt"]


def test_the_send_checks_for_uploads_again_under_the_write_lock(ctx):
    """An upload that marks the draft between the send's first look and its commit still
    stops the send: the draft is taken inside the send's own transaction."""
    patient = user("veteran1")
    draft = messaging.submit(patient, SAVE, new_fields(), form_key=KEY).draft
    db.session.execute(db.update(Draft).where(Draft.id == draft.id).values(
        uploads_pending=1, upload_started_at=utcnow()))
    db.session.commit()
    set_committed_value(draft, "uploads_pending", 0)  # what the send saw a moment earlier
    with pytest.raises(messaging.FilesStillUploading):
        messaging.send_new_message(patient, messaging.NewMessage(
            blue(), "General", "Knee", "It hurts."), draft=draft, form_key=KEY)
    db.session.rollback()
    assert count(Message, Message.body == "It hurts.") == 0


def test_an_upload_that_ends_after_its_draft_was_sent_keeps_no_file(ctx, app):
    patient = user("veteran1")
    draft = messaging.submit(patient, SAVE, new_fields(), form_key=KEY).draft
    store = drafts.attachments.store_files
    before = files_on_disk(app)

    def send_meanwhile(*args):
        stored = store(*args)
        # the upload is stored; before it is attached, the draft is sent and gone
        db.session.execute(db.update(Draft).where(Draft.id == draft.id).values(
            uploads_pending=0))
        messaging.send_new_message(patient, messaging.NewMessage(
            blue(), "General", "Knee", "It hurts."), draft=draft, form_key=KEY)
        return stored

    drafts.attachments.store_files = send_meanwhile
    try:
        outcome = messaging.submit(patient, ATTACH, new_fields(
            files=[upload("late.txt", b"late")]), form_key=KEY)
    finally:
        drafts.attachments.store_files = store
    assert (outcome.result, outcome.again) == (SENT, True)
    assert count(Attachment) == 0 and count(Draft) == 0
    assert files_on_disk(app) == before  # the stored bytes went with it


def test_refused_and_incomplete_outcomes_keep_what_was_typed(ctx):
    patient = user("veteran1")
    incomplete = messaging.submit(patient, SEND, new_fields(files=[
        upload("a.txt", b"kept")]), form_key=KEY, complete=False)
    assert incomplete.result == INCOMPLETE
    assert [a.filename for a in incomplete.draft.attachments] == ["a.txt"]
    refused_file = messaging.submit(patient, SEND, new_fields(files=[
        upload("fake.pdf", b"<html>")]), form_key=KEY)
    assert refused_file.result == INCOMPLETE and refused_file.file_errors == [
        "fake.pdf: the file's content is not a real .pdf file."]
    assert count(Message, Message.body == "It hurts.") == 0
    blocking.block(user("coordinator1"), patient, "new", blue(), "Reason")
    refused = messaging.submit(patient, AUTOSAVE, new_fields(body="More"), form_key=KEY)
    assert refused.result == REFUSED and "restricted" in refused.refusal
    assert db.session.get(Draft, incomplete.draft.id).body == "It hurts."  # not changed


def test_a_reply_finds_its_draft_and_the_reply_window_is_a_refusal(ctx):
    thread = new_thread()
    patient = user("veteran1")
    saved = messaging.submit(patient, AUTOSAVE, DraftFields(thread=thread, body="Thanks"),
                             form_key=KEY)
    assert saved.result == KEPT and saved.draft.thread_id == thread.id
    # a new page (a new form key) finds the reply already started in the thread
    other = messaging.submit(patient, SAVE, DraftFields(thread=thread, body="Thanks!"),
                             form_key="b" * 32)
    assert other.draft.id == saved.draft.id
    thread.last_message_at = utcnow() - timedelta(days=46)
    db.session.commit()
    late = messaging.submit(patient, SEND, DraftFields(thread=thread, body="Thanks!"),
                            form_key="b" * 32)
    assert late.result == REFUSED and "too old to reply" in late.refusal
    assert db.session.get(Thread, thread.id).messages[-1].body == "It hurts when I walk."


# Through HTTP: what the browser gets for each outcome.

def post(client, path, data, headers=None, files=()):
    form = {"csrf_token": csrf_token(client, path), **data}
    for name, content in files:
        form.setdefault("attachments", []).append(upload(name, content).stream and
                                                  (upload(name, content).stream, name))
    return client.post(path, data=form, headers=headers or {},
                       content_type="multipart/form-data")


def test_a_restricted_autosave_answers_with_the_notice_alone(login, client, app):
    with app.app_context():
        blocking.block(user("coordinator1"), user("veteran1"), "new", blue(), "Reason")
        group = blue()
    login("veteran1")
    response = post(client, "/compose", {"action": "autosave", "recipient": str(group),
                                         "body": "Typing", "form_key": KEY},
                    htmx_fragment("compose-form-autosave"))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 403
    assert html.startswith("Not saved: You have been restricted from a Triage Group")
    assert "<form" not in html and "<html" not in html and len(html) < 400


def test_an_upload_answers_with_the_files_alone_and_names_the_draft(login, client, app):
    login("veteran1")
    response = post(client, "/compose", {"action": "attach", "form_key": KEY, "body": "Hi"},
                    htmx_fragment("compose-form-files"), files=[("a.txt", b"first")])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<fieldset class="attachments" id="compose-form-files">')
    assert "Attached a.txt." in html and "<form" not in html
    with app.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
    assert response.headers["HX-Replace-Url"] == f"/drafts/{draft_id}"
    # the Send queued behind it carries no draft id yet, only the form's key: it sends the file
    sent = post(client, "/compose", {"action": "send", "form_key": KEY, "recipient": "",
                                     "category": "General", "subject": "Files",
                                     "body": "See the file"}, {"HX-Request": "true"})
    assert sent.status_code == 422  # no care team chosen: said, and nothing is lost
    assert "Select the care team to write to." in sent.get_data(as_text=True)
    with app.app_context():
        group = blue()
    sent = post(client, "/compose", {"action": "send", "form_key": KEY, "recipient": group,
                                     "category": "General", "subject": "Files",
                                     "body": "See the file"}, {"HX-Request": "true"})
    assert sent.status_code == 200 and sent.headers["HX-Location"].startswith("/threads/")
    with app.app_context():
        message = db.session.scalar(db.select(Message).where(Message.body == "See the file"))
        assert [a.filename for a in message.attachments] == ["a.txt"]
        assert count(Draft) == 0


def test_a_send_that_overtakes_an_upload_says_so_with_a_409(login, client, app):
    login("veteran1")
    post(client, "/compose", {"action": "save", "form_key": KEY, "body": "Hi"})
    with app.app_context():
        db.session.execute(db.update(Draft).values(uploads_pending=1,
                                                   upload_started_at=utcnow()))
        db.session.commit()
        group = blue()
    response = post(client, "/compose", {
        "action": "send", "form_key": KEY, "recipient": group, "category": "General",
        "subject": "Files", "body": "Typed before the upload ended"},
        htmx_fragment("compose-form"))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "Your message has not been sent yet: your files are still being uploaded." in html
    assert "Typed before the upload ended" in html and html.lstrip().startswith("<form")


# The session timing out mid-compose: what was written is kept, never sent, never shown.

def timed_out_post(client, clock, path, data, minutes=31, headers=None, files=()):
    """Fill in the form's page, let the session run out of time, then press the button."""
    token = csrf_token(client, path)
    clock.advance(minutes=minutes)
    form = {"csrf_token": token, **data}
    for name, content in files:
        form.setdefault("attachments", []).append((upload(name, content).stream, name))
    return client.post(path, data=form, headers=headers or {},
                       content_type="multipart/form-data")


def test_a_send_after_the_idle_timeout_is_kept_as_a_draft(login, client, app, clock):
    login("veteran1")
    with app.app_context():
        group = blue()
    response = timed_out_post(client, clock, "/compose", {
        "action": "send", "form_key": KEY, "recipient": group, "category": "General",
        "subject": "Long letter", "body": "Written for an hour without JavaScript."},
        files=[("notes.txt", b"my notes")])
    with app.app_context():
        draft = db.session.scalar(db.select(Draft))
        assert draft.body == "Written for an hour without JavaScript."
        assert [a.filename for a in draft.attachments] == ["notes.txt"]
        assert count(Message, Message.body.like("Written for an hour%")) == 0  # never sent
        draft_id = draft.id
    assert response.status_code == 302
    assert response.location == f"/sign-in?ended=idle&unsent=kept&next=/drafts/{draft_id}"
    assert "Written" not in response.get_data(as_text=True)
    page = unescape(client.get(response.location).get_data(as_text=True))
    assert "Your message has not been sent: what you wrote and attached is saved" in page
    assert "Written for an hour" not in page  # the sign-in page shows none of it
    login("veteran1")
    draft_page = client.get(f"/drafts/{draft_id}").get_data(as_text=True)
    assert "Written for an hour without JavaScript." in draft_page and "notes.txt" in draft_page


def test_an_autosave_after_the_timeout_is_kept_and_sends_the_browser_to_sign_in(
        login, client, app, clock):
    login("nurse1")
    with app.app_context():
        thread = new_thread()
        thread_id = thread.id
    response = timed_out_post(client, clock, f"/threads/{thread_id}/reply", {
        "action": "autosave", "form_key": KEY, "body": "Half a reply"},
        minutes=16, headers=htmx_fragment("reply-form-autosave"))
    assert response.status_code == 401 and response.get_data(as_text=True) == ""
    assert response.headers["HX-Redirect"] == (
        f"/sign-in?ended=idle&unsent=kept&next=/threads/{thread_id}")
    with app.app_context():
        draft = db.session.scalar(db.select(Draft))
        assert (draft.thread_id, draft.body) == (thread_id, "Half a reply")


def test_a_session_ended_on_purpose_keeps_nothing(login, client, app, clock):
    login("veteran1")
    token = csrf_token(client, "/compose")
    client.post("/account/sign-out-everywhere",
                data={"csrf_token": csrf_token(client, "/account")})
    response = client.post("/compose", data={"csrf_token": token, "action": "send",
                                             "form_key": KEY, "body": "After sign-out"})
    assert response.status_code == 400  # "This form has expired": the sign-out forgot it
    with app.app_context():
        assert count(Draft) == 0


def test_a_timeout_long_ago_keeps_nothing_and_other_forms_are_not_kept(
        login, client, app, clock):
    login("veteran1")
    response = timed_out_post(client, clock, "/compose", {
        "action": "send", "form_key": KEY, "body": "The next morning"}, minutes=13 * 60)
    assert response.status_code == 302 and "unsent=1" in response.location
    login("veteran1")
    response = timed_out_post(client, clock, "/folders", {"name": "Later"})
    assert response.status_code == 302 and "unsent=1" in response.location
    with app.app_context():
        assert count(Draft) == 0


def test_a_stale_draft_object_is_refused_not_a_500(ctx):
    """The race itself: this request read the draft, the other deleted it, this one saves."""
    patient = user("veteran1")
    draft = messaging.submit(patient, SAVE, new_fields(), form_key=KEY).draft
    from sqlalchemy import create_engine, text

    other = create_engine(db.engine.url)
    with other.begin() as connection:
        connection.execute(text("DELETE FROM drafts WHERE id = :id"), {"id": draft.id})
    other.dispose()
    with pytest.raises(drafts.DraftGone, match="deleted in another window a moment ago"):
        drafts.keep(patient, draft, new_fields(body="Typed on"), KEY)
    assert count(Draft) == 0
    drafts.delete_draft(draft)  # deleting what is gone already is done, not a fault


def test_a_send_is_one_transaction_with_its_audit_row(ctx):
    """The message and its audit row commit together: no crash between two commits can
    leave a send the trail does not know of."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from smweb.models import AuditEvent

    thread = db.session.scalar(db.select(Thread).where(
        Thread.subject == "Refill for blood pressure pills"))
    commits = []
    listener = lambda _session: commits.append(1)  # noqa: E731
    event.listen(Session, "after_commit", listener)
    try:
        message = messaging.reply(user("nurse1"), thread, "Your refill is ready.")
    finally:
        event.remove(Session, "after_commit", listener)
    assert commits == [1]
    assert db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "message_send", AuditEvent.message_id == message.id)) is not None
