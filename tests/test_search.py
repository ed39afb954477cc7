"""Search: each filter alone and together, the same ids on SQLite and PostgreSQL (this module
runs on both), input that looks like query syntax, and only the user's own messages."""

from datetime import timedelta

import pytest

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Message, Thread
from smweb.services import messaging, search
from tests.conftest import htmx_fragment, new_thread, user


@pytest.fixture
def corpus(app):
    """A few more threads for veteran1, one old, one in Deleted."""
    with app.app_context():
        knee = new_thread(subject="Knee pain after walking", body="My left knee aches.",
                          category="General")
        messaging.reply(user("nurse1"), knee, "Try ice twice daily; physiotherapy referral sent.")
        new_thread(subject="Insulin pen needles", body="Which needles fit my pen?",
                   category="Medications")
        old = new_thread(subject="Travel vaccines", body="Do I need a yellow fever shot?",
                         category="COVID")
        for message in old.messages:
            message.sent_at = utcnow() - timedelta(days=200)
        gone = new_thread(subject="Parking question", body="Where do I park for physiotherapy?")
        gone.patient_deleted_at = utcnow()
        new_thread(patient_name="veteran2", subject="Other patient knee",
                   body="My knee is private.")
        db.session.commit()


def run(app, username, **args):
    with app.app_context():
        query, errors = search.parse(args)
        assert errors == {}
        page = search.search(user(username), query, 1, 50)
        return sorted(m.thread.subject + " / " + m.author.username for m in page.items)


@pytest.mark.parametrize(("args", "expected"), [
    # the subject is searched with every message of its thread
    ({"q": "knee"}, ["Knee pain after walking / nurse1", "Knee pain after walking / veteran1"]),
    ({"q": "KNEE aches"}, ["Knee pain after walking / veteran1"]),
    ({"q": "physio"}, ["Knee pain after walking / nurse1", "Parking question / veteran1"]),
    ({"q": "physio", "folder": "deleted"}, ["Parking question / veteran1"]),
    ({"q": "physio", "folder": "inbox"}, ["Knee pain after walking / nurse1"]),
    ({"q": "needles", "category": "Medications"}, ["Insulin pen needles / veteran1"]),
    ({"q": "needles", "category": "General"}, []),
    ({"sender": "pat lee"}, ["Knee pain after walking / nurse1",
                             "Refill for blood pressure pills / nurse1"]),
    ({"q": "vaccines"}, ["Travel vaccines / veteran1"]),
    ({"q": "vaccines", "period": "3"}, []),
    ({"q": "vaccines", "period": "12"}, ["Travel vaccines / veteran1"]),
    ({"category": "COVID"}, ["Travel vaccines / veteran1"]),
    ({"q": "lisinopril renew"}, ["Refill for blood pressure pills / veteran1"]),
    ({"q": "knee", "folder": "sent"}, ["Knee pain after walking / veteran1"]),
])
def test_filters_alone_and_together(app, corpus, args, expected):
    assert run(app, "veteran1", **args) == expected


@pytest.mark.parametrize("q", ['"', "'", "*", "NEAR", "knee NEAR pain", "knee OR pain",
                               "knee AND", "%", "_", "\\", "(", ")", ":", "-knee", "^",
                               "x" * 5000, "knee " * 300, "🙂", "DROP TABLE messages;--"])
def test_query_syntax_is_just_text(app, corpus, q):
    with app.app_context():
        query, errors = search.parse({"q": q})
        page = search.search(user("veteran1"), query, 1, 10)
        assert len(page.items) <= 10
        assert db.session.scalar(db.select(db.func.count(Message.id))) > 0


def test_a_patient_never_finds_another_patients_messages(app, corpus):
    assert run(app, "veteran1", q="private") == []
    assert run(app, "veteran2", q="knee") == ["Other patient knee / veteran2"]


def test_staff_search_their_groups(app, corpus):
    assert run(app, "cardio1", q="knee") == []
    assert run(app, "nurse1", q="private") == ["Other patient knee / veteran2"]


def test_custom_dates(app, corpus):
    today = utcnow().date()
    assert run(app, "veteran1", q="vaccines", period="custom",
               start=str(today - timedelta(days=210)),
               end=str(today - timedelta(days=190))) == ["Travel vaccines / veteran1"]
    assert run(app, "veteran1", q="knee", period="custom",
               start=str(today - timedelta(days=210)),
               end=str(today - timedelta(days=190))) == []


@pytest.mark.parametrize(("args", "message"), [
    ({"period": "custom", "start": "2026-05-01", "end": "2026-04-01"},
     "The last date can&#39;t be before the first."),
    ({"period": "custom", "start": "May 1st", "end": "2026-04-01"},
     "Enter the date as year-month-day"),
    ({"period": "custom", "start": "2026-05-01"}, "Enter the last date."),
    ({"category": "Gossip"}, "Choose a category from the list."),
])
def test_bad_search_input_is_a_clear_422(login, client, corpus, args, message):
    login("veteran1")
    response = client.get("/search", query_string=args)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_search_page_and_live_fragment(login, client, corpus):
    login("veteran1")
    page = client.get("/search?q=knee")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Search messages</h1>" in html
    assert "Knee pain after walking" in html and "<mark>knee</mark>" in html
    assert 'value="knee"' in html
    fragment = client.get("/search?q=physio", headers=htmx_fragment("search-results"))
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="search-results"') and "<html" not in text
    assert "<mark>physiotherapy</mark>" in text
    empty = client.get("/search").get_data(as_text=True)
    assert "Type a word" in empty


def test_snippet_escapes_and_marks():
    marked = search.snippet("Use <b>ice</b> on the knee, then rest the knee.", ["knee"])
    assert "&lt;b&gt;ice&lt;/b&gt;" in marked
    assert str(marked).count("<mark>knee</mark>") == 2


def test_threads_moved_keep_their_search_rows(app, corpus):
    with app.app_context():
        count = db.session.scalar(db.select(db.func.count(Thread.id)))
    assert count >= 9


def test_results_newest_or_oldest_first(login, client, corpus):
    login("veteran1")
    newest = client.get("/search?q=physio").get_data(as_text=True)
    oldest = client.get("/search?q=physio&order=oldest").get_data(as_text=True)
    assert newest.index("Parking question") < newest.index("Knee pain after walking")
    assert oldest.index("Knee pain after walking") < oldest.index("Parking question")
    # "knee": Alex Rivera's question, then Nurse Pat Lee's newer answer in the same thread
    newest = client.get("/search?q=knee").get_data(as_text=True)
    by_sender = client.get("/search?q=knee&order=sender").get_data(as_text=True)
    assert newest.index("Nurse Pat Lee, RN,") < newest.index("Alex Rivera,")
    assert by_sender.index("Alex Rivera,") < by_sender.index("Nurse Pat Lee, RN,")


def test_postgresql_keyword_search_uses_its_index(app, corpus):
    from sqlalchemy import text as sql

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the GIN index is PostgreSQL's; SQLite searches its FTS5 table")
        statement = db.select(Message.id).where(search._keyword_condition(["knee", "pain"]))
        compiled = statement.compile(db.engine)
        with db.engine.connect() as connection:
            connection.execute(sql("SET enable_seqscan = off"))
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(
                f"EXPLAIN {compiled}", compiled.params))
        assert "ix_messages_search" in plan
