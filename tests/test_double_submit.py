"""A message form posted twice — a double click, a resend after a slow answer, two requests
at once — sends one message. A new form (a new key) sends a new one."""

import re
import threading

from smweb.extensions import db
from smweb.models import Attachment, Draft, Message, TriageGroup
from tests import samples
from tests.support import new_thread, upload, user


def form_fields(client, path: str) -> dict:
    page = client.get(path).text
    return {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1],
        "form_key": re.search(r'name="form_key" type="hidden" value="([0-9a-f]{32})"', page)[1],
    }


def count_messages(app, body: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Message.id)).where(
            Message.body == body))


def blue_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue"))


def test_a_new_message_posted_twice_is_sent_once(login, client, app):
    login("veteran1")
    fields = form_fields(client, "/compose")
    data = {**fields, "recipient": blue_id(app), "category": "General",
            "subject": "Double click", "body": "Clicked Send twice."}
    first = client.post("/compose", data=data)
    second = client.post("/compose", data=data)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location  # both go to the one thread
    assert count_messages(app, "Clicked Send twice.") == 1
    assert "Your message was sent." in client.get(second.location).text
    # a fresh form is a new message, even with the same words
    again = {**data, **form_fields(client, "/compose")}
    assert client.post("/compose", data=again).status_code == 303
    assert count_messages(app, "Clicked Send twice.") == 2


def test_sent_again_after_its_file_was_kept_it_goes_once_with_the_file_once(login, client, app):
    """The first press kept the draft and its file, then its server died before the send
    (the browser showed an error). Back, then Send, posts the same form with the same file:
    the message goes, with one copy of the file, not a refusal of a duplicate."""
    login("veteran1")
    data = {**form_fields(client, "/compose"), "recipient": blue_id(app),
            "category": "General", "subject": "With my results", "body": "Results attached."}
    report = samples.pdf("My results")
    kept = client.post("/compose", data={**data, "action": "save",
                                         "attachments": [upload("results.pdf", report)]})
    assert kept.status_code == 303
    again = client.post("/compose", data={**data, "action": "send",
                                          "attachments": [upload("results.pdf", report)]})
    assert again.status_code == 303, again.text
    assert "Your message was sent." in client.get(again.location).text
    assert count_messages(app, "Results attached.") == 1
    with app.app_context():
        names = db.session.scalars(db.select(Attachment.filename).join(Message).where(
            Message.body == "Results attached.")).all()
    assert names == ["results.pdf"]


def test_a_reply_posted_twice_is_sent_once(login, client, app):
    with app.app_context():
        thread_id = new_thread().id
    login("veteran1")
    data = {**form_fields(client, f"/threads/{thread_id}"), "body": "One reply only."}
    answers = [client.post(f"/threads/{thread_id}/reply", data=data) for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 303]
    assert count_messages(app, "One reply only.") == 1


def test_a_draft_sent_twice_is_sent_once_and_the_second_is_not_an_error(login, client, app):
    login("veteran1")
    with app.app_context():
        draft = Draft(author_id=user("veteran1").id, group_id=blue_id(app),
                      category="General", subject="From a draft", body="Draft text.")
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    data = {**form_fields(client, f"/drafts/{draft_id}"), "recipient": blue_id(app),
            "category": "General", "subject": "From a draft", "body": "Draft text."}
    first = client.post(f"/drafts/{draft_id}", data=data)
    second = client.post(f"/drafts/{draft_id}", data=data)  # the draft is gone by now
    assert (first.status_code, second.status_code) == (303, 303)
    assert second.location == first.location
    assert count_messages(app, "Draft text.") == 1


def test_staff_compose_posted_twice_is_sent_once(login, client, app):
    login("nurse1")
    with app.app_context():
        recipient = f"{user('veteran1').id}:{blue_id(app)}"
    data = {**form_fields(client, "/triage/compose"), "recipient": recipient,
            "category": "General", "subject": "Lab results", "body": "Your labs are fine."}
    for _ in range(2):
        assert client.post("/triage/compose", data=data).status_code == 303
    assert count_messages(app, "Your labs are fine.") == 1


def test_two_posts_of_one_form_at_the_same_moment_send_once(login, client, app):
    login("veteran1")
    data = {**form_fields(client, "/compose"), "recipient": blue_id(app),
            "category": "General", "subject": "At once", "body": "Two requests at once."}
    cookie = client.get_cookie("smweb_session").value
    start = threading.Barrier(2)
    answers = []

    def post():
        other = app.test_client()
        other.set_cookie("smweb_session", cookie)
        start.wait()
        answers.append(other.post("/compose", data=data).status_code)

    workers = [threading.Thread(target=post) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(answers) == [303, 303]
    assert count_messages(app, "Two requests at once.") == 1
