"""The patient's mailbox: folders and their order, compose, drafts and autosave, threads, the
reply window and printing — full pages and htmx fragments."""

from datetime import timedelta

import pytest

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Draft, Message, Thread, TriageGroup
from tests.support import BOOSTED, csrf_token, htmx_fragment, new_thread, post_form, sign_in, user


def group_id(app, name="Primary Care Team Blue"):
    with app.app_context():
        return db.session.scalar(db.select(TriageGroup.id).where(TriageGroup.name == name))


def compose(client, app, **fields):
    data = {"recipient": str(group_id(app)), "category": "Medications",
            "subject": "Refill please", "body": "I need more metformin.", "action": "send"}
    data.update(fields)
    headers = fields.pop("headers", None)
    data.pop("headers", None)
    return post_form(client, "/compose", data, form_page="/compose", headers=headers)


# --- Inbox -----------------------------------------------------------------------------

def test_inbox_lists_team_messages_newest_first_with_unread_mark(login, client):
    login("veteran1")
    page = client.get("/mailbox/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Inbox</h1>" in html
    flu = html.index("Flu shot clinic dates")
    refill = html.index("Refill for blood pressure pills")
    assert flu < refill  # 2 days ago before 6 days ago
    assert '<span class="badge">Unread</span> Flu shot clinic dates' in html
    assert "Dr. Sam Patel, Primary Care Team Blue" in html
    listed = html[html.index('id="message-list"'):]
    assert "Echo results question" not in listed  # no team message in it yet: only in Sent
    # ... though the summary above the list says its reply is expected
    assert "A reply from Cardiology is expected by" in html
    assert "call 911" in html  # the emergency notice stands before composing


def test_inbox_fragment_is_only_the_list(login, client):
    login("veteran1")
    response = client.get("/mailbox/inbox", headers=htmx_fragment("message-list"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="message-list"')
    assert "<html" not in html and "<h1>" not in html
    assert "Flu shot clinic dates" in html
    assert 'hx-trigger="every 60s"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_boosted_navigation_gets_the_whole_page(login, client):
    login("veteran1")
    html = client.get("/mailbox/inbox", headers=BOOSTED).get_data(as_text=True)
    assert "<h1>Inbox</h1>" in html and "<html" in html


def test_inbox_is_paged(login, client, app):
    with app.app_context():
        vet, nurse = user("veteran1"), user("nurse1")
        from smweb.services import messaging
        for n in range(12):
            thread = new_thread(subject=f"Paging question {n:02d}")
            messaging.reply(nurse, thread, f"Answer {n}")
        assert vet
    login("veteran1")
    first = client.get("/mailbox/inbox").get_data(as_text=True)
    assert "Paging question 11" in first and "Paging question 02" in first
    assert "Paging question 01" not in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/mailbox/inbox?page=2").get_data(as_text=True)
    assert "Paging question 01" in second and "Refill for blood pressure pills" in second
    assert 'rel="prev"' in second
    assert client.get("/mailbox/inbox?page=abc").status_code == 200


def test_folders_sort_newest_oldest_and_by_sender(login, client):
    login("veteran1")
    newest = client.get("/mailbox/inbox").get_data(as_text=True)
    assert newest.index("Flu shot clinic dates") < newest.index("Refill for blood pressure")
    oldest = client.get("/mailbox/inbox?sort=oldest").get_data(as_text=True)
    assert oldest.index("Refill for blood pressure") < oldest.index("Flu shot clinic dates")
    assert '<option value="oldest" selected>' in oldest
    by_sender = client.get("/mailbox/inbox?sort=sender").get_data(as_text=True)
    # "Dr. Sam Patel" before "Nurse Pat Lee, RN"
    assert by_sender.index("Flu shot clinic dates") < by_sender.index("Refill for blood")
    sent = client.get("/mailbox/sent?sort=sender").get_data(as_text=True)
    assert sent.index("Echo results question") < sent.index("Refill for blood pressure")
    assert client.get("/mailbox/sent?sort=nonsense").status_code == 200


def test_an_unchanged_poll_is_204_and_a_changed_one_is_the_list(login, client, app):
    login("veteran1")
    page = client.get("/mailbox/inbox").get_data(as_text=True)
    poll_url = page.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "v=" in poll_url
    unchanged = client.get(poll_url, headers=htmx_fragment("message-list"))
    assert unchanged.status_code == 204 and unchanged.data == b""
    with app.app_context():
        from smweb.services import messaging

        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        messaging.reply(user("nurse1"), thread, "One more thing.")
    changed = client.get(poll_url, headers=htmx_fragment("message-list"))
    assert changed.status_code == 200 and "Refill for blood pressure pills" in changed.get_data(
        as_text=True)
    # the Refresh button asks without a version: always the list
    assert client.get("/mailbox/inbox", headers=htmx_fragment("message-list")).status_code == 200


def test_unknown_folder_is_404(login, client):
    login("veteran1")
    assert client.get("/mailbox/secret").status_code == 404


# --- Compose and send ------------------------------------------------------------------

def test_compose_page_offers_only_own_care_teams_and_shows_emergency_notice(login, client):
    login("veteran2")
    html = client.get("/compose").get_data(as_text=True)
    assert "Primary Care Team Blue" in html
    assert "Cardiology" not in html
    assert "call 911" in html and "988 then press 1" in html and "3 business days" in html
    for category in ("General", "COVID", "Appointments", "Medications", "Test results",
                     "Education"):
        assert f">{category}</option>" in html


def test_send_puts_thread_in_team_queue(login, client, app):
    login("veteran1")
    response = compose(client, app)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/threads/")
    thread_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your message was sent." in thread_page
    assert "I need more metformin." in thread_page
    client.post("/sign-out", data={"csrf_token": ""})  # refused (no token); sign-out below
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.subject == "Refill please"))
        assert thread.unread_for_team and thread.category == "Medications"
    staff = app.test_client()
    sign_in(staff, "nurse1")
    assert "Refill please" in staff.get("/triage/").get_data(as_text=True)


def test_htmx_send_answers_with_hx_location(login, client, app):
    login("veteran1")
    response = compose(client, app, headers=htmx_fragment("compose-form"))
    assert response.status_code == 200
    assert response.headers["HX-Location"].startswith("/threads/")


@pytest.mark.parametrize(("fields", "message"), [
    ({"subject": ""}, "Enter a subject."),
    ({"subject": "x" * 51}, "The subject can be at most 50 characters."),
    ({"body": "   "}, "Enter your message."),
    ({"category": ""}, "Select a category."),
    ({"category": "Gossip"}, "Select a category from the list."),
    ({"recipient": ""}, "Select the care team to write to."),
    ({"recipient": "abc"}, "You can only write to your own care teams."),
])
def test_bad_compose_input_is_refused_and_keeps_what_was_typed(login, client, app, fields,
                                                                 message):
    login("veteran1")
    typed = {"body": "My typed words <b>stay</b>", **fields} if "body" not in fields else fields
    response = compose(client, app, **typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "There is a problem" in html
    if "body" not in fields:
        assert "My typed words &lt;b&gt;stay&lt;/b&gt;" in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Thread.id))) == 4  # the demo's only


def test_patient_cannot_write_to_a_team_they_are_not_associated_with(login, client, app):
    login("veteran2")  # Primary Care only
    response = compose(client, app, recipient=str(group_id(app, "Cardiology")))
    assert response.status_code == 422
    assert "You can only write to your own care teams." in response.get_data(as_text=True)


def test_htmx_compose_error_returns_just_the_form(login, client, app):
    login("veteran1")
    response = compose(client, app, subject="", headers=htmx_fragment("compose-form"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="compose-form"')
    assert "Enter a subject." in html and "I need more metformin." in html
    assert "<html" not in html


def test_body_is_plain_text_never_html(login, client, app):
    login("veteran1")
    response = compose(client, app, body="<script>alert(1)</script>")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_compose_without_csrf_token_is_refused(login, client, app):
    login("veteran1")
    response = client.post("/compose", data={"recipient": str(group_id(app)),
                                             "category": "General", "subject": "x",
                                             "body": "y", "action": "send"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Thread.id))) == 4


# --- Drafts ----------------------------------------------------------------------------

def test_save_open_and_send_a_draft(login, client, app):
    login("veteran1")
    saved = compose(client, app, action="save", subject="Half written", body="Dear team,")
    assert saved.status_code == 303
    draft_url = saved.headers["Location"]
    assert draft_url.startswith("/drafts/")
    page = client.get(draft_url).get_data(as_text=True)
    assert "Your draft was saved in Drafts. It has not been sent." in page
    assert 'value="Half written"' in page and "Dear team," in page
    assert "Delete draft" in page
    drafts = client.get("/mailbox/drafts").get_data(as_text=True)
    assert "Half written" in drafts
    sent = post_form(client, draft_url, {
        "recipient": str(group_id(app)), "category": "General", "subject": "Half written",
        "body": "Dear team, done now.", "action": "send"}, form_page=draft_url)
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/threads/")
    assert "Half written" not in client.get("/mailbox/drafts").get_data(as_text=True)
    assert "Half written" in client.get("/mailbox/sent").get_data(as_text=True)


def test_a_draft_may_be_incomplete_but_not_invalid(login, client, app):
    login("veteran1")
    saved = compose(client, app, action="save", recipient="", category="", subject="",
                    body="Only a start")
    assert saved.status_code == 303
    too_long = compose(client, app, action="save", subject="y" * 60, body="kept text")
    assert too_long.status_code == 422
    html = too_long.get_data(as_text=True)
    assert "The subject can be at most 50 characters." in html and "kept text" in html


def test_delete_a_draft(login, client, app):
    login("veteran1")
    draft_url = compose(client, app, action="save", subject="To be deleted").headers["Location"]
    response = post_form(client, f"{draft_url}/delete", form_page=draft_url)
    assert response.headers["Location"] == "/mailbox/drafts"
    assert "To be deleted" not in client.get("/mailbox/drafts").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0


def autosave(client, path, headers=None, **fields):
    data = {"action": "autosave", "csrf_token": csrf_token(client, path), **fields}
    return client.post(path, data=data, headers=headers or htmx_fragment("compose-form-autosave"))


def test_autosave_keeps_one_draft_while_typing(login, client, app):
    login("veteran1")
    first = autosave(client, "/compose", subject="Typing", body="Dear team")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert html.startswith("Saved in Drafts at ")
    assert 'id="draft-id"' in html and 'hx-swap-oob="true"' in html
    with app.app_context():
        draft = db.session.scalar(db.select(Draft))
        draft_id = draft.id
    assert first.headers["HX-Replace-Url"] == f"/drafts/{draft_id}"
    # the form now carries the draft's id: the next autosave updates the same draft
    second = autosave(client, "/compose", subject="Typing", body="Dear team, my knee",
                      draft_id=str(draft_id))
    assert second.status_code == 200
    with app.app_context():
        drafts = db.session.scalars(db.select(Draft)).all()
        assert [(d.id, d.body) for d in drafts] == [(draft_id, "Dear team, my knee")]
    too_long = autosave(client, "/compose", subject="x" * 60, draft_id=str(draft_id))
    assert too_long.status_code == 422
    assert too_long.get_data(as_text=True).startswith("Not saved: The subject can be")


def test_autosave_of_someone_elses_draft_id_is_404(login, client, app):
    with app.app_context():
        theirs = Draft(author_id=user("veteran2").id, body="theirs")
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    login("veteran1")
    assert autosave(client, "/compose", body="x", draft_id=str(theirs_id)).status_code == 404


def test_reply_autosave(login, client, app):
    tid = thread_id(app, "Refill for blood pressure pills")
    login("veteran1")
    response = autosave(client, f"/threads/{tid}/reply", body="Thanks, I will",
                        headers={"HX-Request": "true", "HX-Target": "reply-form-autosave"})
    assert response.status_code == 200 and 'id="draft-id"' not in response.get_data(as_text=True)
    with app.app_context():
        draft = db.session.scalar(db.select(Draft))
        assert draft.thread_id == tid and draft.body == "Thanks, I will"
    page = client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "Thanks, I will</textarea>" in page


# --- Threads ---------------------------------------------------------------------------

def thread_id(app, subject):
    with app.app_context():
        return db.session.scalar(db.select(Thread.id).where(Thread.subject == subject))


def test_open_thread_shows_messages_in_order_and_marks_read(login, client, app):
    login("veteran1")
    tid = thread_id(app, "Flu shot clinic dates")
    html = client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "Flu shots are offered in the lobby" in html
    assert 'id="reply-form"' in html
    inbox = client.get("/mailbox/inbox").get_data(as_text=True)
    assert '<span class="badge">Unread</span> Flu shot clinic dates' not in inbox
    tid2 = thread_id(app, "Refill for blood pressure pills")
    html = client.get(f"/threads/{tid2}").get_data(as_text=True)
    assert html.index("I have 5 days of lisinopril left") < html.index("Your renewal was sent")


def test_patient_reply_goes_to_the_same_team(login, client, app):
    login("veteran1")
    tid = thread_id(app, "Refill for blood pressure pills")
    response = post_form(client, f"/threads/{tid}/reply", {"body": "Thank you!"},
                         form_page=f"/threads/{tid}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/threads/{tid}#latest"
    with app.app_context():
        thread = db.session.get(Thread, tid)
        assert thread.messages[-1].body == "Thank you!" and thread.unread_for_team
        assert thread.group.name == "Primary Care Team Blue"


def test_empty_reply_is_refused_with_fragment_for_htmx(login, client, app):
    login("veteran1")
    tid = thread_id(app, "Refill for blood pressure pills")
    response = post_form(client, f"/threads/{tid}/reply", {"body": " "},
                         form_page=f"/threads/{tid}", headers=htmx_fragment("reply-form"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="reply-form"')
    assert "Enter your message." in html


def test_move_thread_to_deleted_and_back(login, client, app):
    login("veteran1")
    tid = thread_id(app, "Refill for blood pressure pills")
    # from the thread page: the move form sends the patient back to the thread
    thread_page = client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "<dt>Folder</dt><dd>Inbox</dd>" in thread_page
    assert '<option value="deleted">Deleted</option>' in thread_page
    assert '<option value="inbox">' not in thread_page  # it is in the Inbox already
    moved = post_form(client, "/mailbox/move", {
        "thread_ids": str(tid), "destination": "deleted", "back": f"/threads/{tid}"},
        form_page=f"/threads/{tid}")
    assert moved.headers["Location"] == f"/threads/{tid}"
    page = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert "The conversation was moved to Deleted." in page
    assert "<dt>Folder</dt><dd>Deleted</dd>" in page
    assert '<option value="inbox">Inbox</option>' in page
    assert "Refill for blood pressure pills" not in client.get("/mailbox/inbox").get_data(
        as_text=True)
    assert "Refill for blood pressure pills" in client.get("/mailbox/deleted").get_data(
        as_text=True)
    post_form(client, "/mailbox/move", {
        "thread_ids": str(tid), "destination": "inbox", "back": f"/threads/{tid}"},
        form_page=f"/threads/{tid}")
    assert "Refill for blood pressure pills" in client.get("/mailbox/inbox").get_data(
        as_text=True)
    with app.app_context():
        assert db.session.scalar(
            db.select(db.func.count(Message.id)).where(Message.thread_id == tid)) == 2


def test_sent_folder_shows_read_once_the_team_opens_it(login, client, app):
    login("veteran1")
    sent = client.get("/mailbox/sent").get_data(as_text=True)
    echo_row = sent[sent.index("Echo results question"):].split("</tr>", 1)[0]
    assert "Not yet read" in echo_row
    refill_row = sent[sent.index("Refill for blood pressure pills"):].split("</tr>", 1)[0]
    assert "READ" in refill_row
    staff = app.test_client()
    sign_in(staff, "cardio1")
    staff.get(f"/threads/{thread_id(app, 'Echo results question')}")
    sent = client.get("/mailbox/sent").get_data(as_text=True)
    echo_row = sent[sent.index("Echo results question"):].split("</tr>", 1)[0]
    assert "READ" in echo_row


# --- The reply window, printing ----------------------------------------------------------

def _last_message_days_ago(app, days: int) -> tuple[int, int]:
    """The demo's refill thread, its last message now `days` old (the reply window is 45):
    its id and its care team's."""
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        thread.last_message_at = utcnow() - timedelta(days=days)
        db.session.commit()
        return thread.id, thread.group_id


def test_old_thread_offers_a_new_message_instead_of_a_reply(login, client, app):
    tid, group_id = _last_message_days_ago(app, 46)
    login("veteran1")
    page = client.get(f"/threads/{tid}").get_data(as_text=True)
    assert "You can't reply to this conversation" in page
    assert 'id="reply-form"' not in page
    link = page.split("Start a new message to", 1)[0].rsplit('href="', 1)[1].split('"')[0]
    compose = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="Refill for blood pressure pills"' in compose
    assert f'<option selected value="{group_id}">' in compose or \
        f'<option value="{group_id}" selected>' in compose
    refused = post_form(client, f"/threads/{tid}/reply", {"body": "Still there?"},
                        form_page=f"/threads/{tid}")
    assert refused.status_code == 403
    assert "You can't reply to this conversation" in refused.get_data(as_text=True)


def test_staff_can_still_answer_an_old_thread(login, client, app):
    tid, _group_id = _last_message_days_ago(app, 60)
    login("nurse1")
    response = post_form(client, f"/threads/{tid}/reply", {"body": "Checking in."},
                         form_page=f"/threads/{tid}")
    assert response.status_code == 303


def test_print_page_shows_messages_senders_dates_and_attachment_names(login, client, app):
    tid = thread_id(app, "Refill for blood pressure pills")
    login("veteran1")
    assert f'href="/threads/{tid}/print"' in client.get(f"/threads/{tid}").get_data(as_text=True)
    page = client.get(f"/threads/{tid}/print")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    printed = page.get_data(as_text=True)
    assert "css/print.css" in printed and "<script>" not in printed
    assert printed.count('<article class="message">') == 2
    assert "Alex Rivera" in printed and "Nurse Pat Lee, RN" in printed
    assert "I have 5 days of lisinopril left" in printed
    assert "EST" in printed and "Primary Care Team Blue" in printed
