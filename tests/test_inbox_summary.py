"""The Inbox starts with what waits for the patient ("Waiting for you", and when they last
signed in): new replies per care team, the replies still expected and by when, and drafts
not sent, each a link; its cost is a few bounded index ranges, whatever the mailbox's size."""

from smweb.extensions import db
from smweb.models import Draft, Thread, UserSession
from smweb.services import mailbox
from tests.support import count_statements, htmx_fragment, new_thread, sign_in, user


def test_the_inbox_opens_with_what_waits(app):
    with app.app_context():
        thread = new_thread(subject="Knee question")  # veteran1 waits for Blue's reply
        thread_id, due = thread.id, thread.due_at
        db.session.add(Draft(author_id=user("veteran1").id, subject="Half written",
                             body="..."))
        db.session.commit()
        unread = mailbox.summary(user("veteran1"), None).new_by_team
        drafts = db.session.scalar(db.select(db.func.count(Draft.id)).where(
            Draft.author_id == user("veteran1").id))
    browser = app.test_client()
    assert sign_in(browser, "veteran1").status_code == 303
    page = browser.get("/mailbox/inbox").text
    assert "<h2 id=\"summary-title\">Waiting for you</h2>" in page
    for team, count in unread:
        assert f"{count} new {'reply' if count == 1 else 'replies'} from {team}" in page
    assert unread  # the demo leaves veteran1 team replies unread
    assert "A reply from Primary Care Team Blue is expected by" in page
    assert f'href="/threads/{thread_id}">Knee question</a>' in page
    assert f"{drafts} {'draft' if drafts == 1 else 'drafts'} not sent yet" in page
    assert due is not None


def test_the_summary_counts_what_it_says(app):
    with app.app_context():
        veteran = user("veteran1")
        before = mailbox.summary(veteran, None)
        thread = db.session.scalar(db.select(Thread).where(
            Thread.patient_id == veteran.id, Thread.unread_for_patient.is_(True)))
        thread.unread_for_patient = False
        db.session.commit()
        after = mailbox.summary(veteran, None)
        assert sum(n for _t, n in after.new_by_team) == \
            sum(n for _t, n in before.new_by_team) - 1


def test_a_second_sign_in_says_when_the_first_was(app):
    for _ in range(2):
        assert sign_in(app.test_client(), "veteran2").status_code == 303
    with app.app_context():
        first, second = db.session.scalars(db.select(UserSession).where(
            UserSession.user_id == user("veteran2").id).order_by(UserSession.id)).all()
        assert mailbox.summary(user("veteran2"), second.id).last_sign_in == first.created_at


def test_not_in_the_lists_refresh_nor_other_folders(app):
    browser = app.test_client()
    assert sign_in(browser, "veteran1").status_code == 303
    fragment = browser.get("/mailbox/inbox", headers=htmx_fragment("message-list")).text
    assert "Waiting for you" not in fragment
    assert "Waiting for you" not in browser.get("/mailbox/sent").text


def test_the_summary_costs_one_statement(app, client):
    assert sign_in(client, "veteran1").status_code == 303
    # the session, the page of the list, its count and the user: 4 before the summary came
    assert count_statements(app, client, "/mailbox/inbox") <= 5


def test_deleted_and_filed_threads_are_left_out(app):
    with app.app_context():
        veteran = user("veteran1")
        waiting = new_thread(subject="Deleted one")
        waiting.patient_deleted_at = waiting.created_at
        unread = db.session.scalar(db.select(Thread).where(
            Thread.patient_id == veteran.id, Thread.unread_for_patient.is_(True)))
        before = sum(n for _t, n in mailbox.summary(veteran, None).new_by_team)
        from smweb.services import folders

        folder = folders.create(veteran, "Kept")
        unread.folder_id = folder.id  # filed away: not in the Inbox's list
        db.session.commit()
        after = mailbox.summary(veteran, None)
        assert sum(n for _t, n in after.new_by_team) == before - 1
        assert "Deleted one" not in [row.subject for row in after.expected]
