"""The rest of the patient's mailbox: sorting, the reply window, printing."""

from datetime import timedelta

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Thread
from tests.conftest import post_form


def thread_id(app, subject):
    with app.app_context():
        return db.session.scalar(db.select(Thread.id).where(Thread.subject == subject))


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


def test_old_thread_offers_a_new_message_instead_of_a_reply(login, client, app):
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        thread.last_message_at = utcnow() - timedelta(days=46)
        db.session.commit()
        tid, group_id = thread.id, thread.group_id
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
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        thread.last_message_at = utcnow() - timedelta(days=60)
        db.session.commit()
        tid = thread.id
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


def autosave(client, path, headers=None, **fields):
    from tests.conftest import csrf_token, htmx_fragment

    data = {"action": "autosave", "csrf_token": csrf_token(client, path), **fields}
    return client.post(path, data=data, headers=headers or htmx_fragment("compose-form-autosave"))


def test_autosave_keeps_one_draft_while_typing(login, client, app):
    from smweb.models import Draft

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
    from smweb.models import Draft
    from tests.conftest import user

    with app.app_context():
        theirs = Draft(author_id=user("veteran2").id, body="theirs")
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    login("veteran1")
    assert autosave(client, "/compose", body="x", draft_id=str(theirs_id)).status_code == 404


def test_reply_autosave(login, client, app):
    from smweb.models import Draft

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
