"""Search: each filter alone and together, the same ids on SQLite and PostgreSQL (this module
runs on both), input that looks like query syntax, and only the user's own messages."""

import re
from datetime import timedelta
from html import unescape

import pytest

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Message, Thread, User
from smweb.services import messaging, search, search_index
from tests.support import htmx_fragment, new_thread, user


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
        new_thread(patient="veteran2", subject="Other patient knee",
                   body="My knee is private.")
        db.session.commit()


def run(app, username, **args):
    with app.app_context():
        query, errors = search.parse(args)
        assert errors == {}
        page = search.search(user(username), query, 1, 50)
        return sorted(m.subject + " / " + db.session.get(User, m.author_id).username
                      for m in page.items)


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
     "“May 1st” is not a date: enter it as year-month-day"),
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
    assert '<section id="search-results"' in text and "<html" not in text
    # the date fields come along out of band, so their errors go with the results'
    assert text.lstrip().startswith('<fieldset class="search-grid" id="search-dates" '
                                    'data-hx-swap-oob="true">')
    assert "<mark>physiotherapy</mark>" in text
    empty = client.get("/search").get_data(as_text=True)
    assert "Type a word" in empty


def test_snippet_marks_the_words_searched_for():
    pieces = search.snippet("Use <b>ice</b> on the knee, then rest the knee.", ["knee"])
    assert pieces == [("Use <b>ice</b> on the ", False), ("knee", True),
                      (", then rest the ", False), ("knee", True), (".", False)]
    long = search.snippet("word " * 100 + "knee " + "word " * 100, ["knee"])
    assert long[0].text == "…" and long[-1].text.endswith("…")
    assert [p.text for p in long if p.marked] == ["knee"]


def test_a_snippet_is_escaped_on_the_page(login, client, app):
    """What a patient wrote is text on the results page, never markup."""
    login("veteran1")
    with app.app_context():
        messaging.reply(user("veteran1"), new_thread(), "My <b>kneecap</b> & the <i>shin</i>")
    page = client.get("/search?q=kneecap").get_data(as_text=True)
    assert "My &lt;b&gt;<mark>kneecap</mark>&lt;/b&gt; &amp; the &lt;i&gt;shin" in page


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
        statement = db.select(search_index.PG_MESSAGE_FTS.c.message_id).where(
            search_index.keyword_condition()).params(
            search_index.keyword_params(["knee", "pain"], ["~p1", "~g2"]))
        # the words and scope are written into the SQL (no generic plan blind to them)
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        assert "'knee:* & pain:*'" in str(compiled)
        assert "'''~p1'' | ''~g2'''" in str(compiled)
        with db.engine.connect() as connection:
            connection.execute(sql("SET enable_seqscan = off"))
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(
                f"EXPLAIN {compiled}"))
        assert "ix_message_fts_document" in plan


# The search index is scoped (migration 0014): on SQLite, FTS5 finds a word only among the
# messages of the user's own threads (patient) or care teams (staff), newest first. These
# tests fail if the scope tokens are wrong, stale after a move, or searchable as words.

def test_a_patient_finds_only_their_own_among_many_matches(app, corpus):
    with app.app_context():
        for n in range(12):
            new_thread(patient="veteran2", subject=f"Knee {n}", body="knee again")
        db.session.commit()
    assert run(app, "veteran1", q="knee") == [
        "Knee pain after walking / nurse1", "Knee pain after walking / veteran1"]
    assert run(app, "veteran1", q="again") == []
    assert len(run(app, "veteran2", q="knee")) == 13


def test_a_moved_thread_is_found_by_its_new_team_only(app, corpus):
    from smweb.models import TriageGroup
    from smweb.services import triage

    assert run(app, "cardio1", q="knee") == []
    with app.app_context():
        knee = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Knee pain after walking"))
        cardiology = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Cardiology"))
        knee_id = knee.id
        triage.reassign_group(user("nurse1"), knee, cardiology, "Heart, not knee")
    moved = ["Knee pain after walking / nurse1", "Knee pain after walking / veteran1"]
    assert run(app, "cardio1", q="knee") == moved
    assert run(app, "cardio1", q="physio") == ["Knee pain after walking / nurse1"]
    assert run(app, "nurse1", q="knee") == ["Other patient knee / veteran2"]
    assert run(app, "veteran1", q="knee") == moved  # the patient's own search is unchanged
    # A new message in the moved thread goes in under its new team, and only there.
    with app.app_context():
        knee = db.session.get(Thread, knee_id)
        messaging.reply(user("cardio1"), knee, "Tendon scan booked for the knee.")
    assert run(app, "cardio1", q="tendon") == ["Knee pain after walking / cardio1"]
    assert run(app, "nurse1", q="tendon") == []


def test_a_moved_thread_leaves_no_row_behind_in_the_index(app, corpus):
    from sqlalchemy import text as sql

    from smweb.models import TriageGroup
    from smweb.services import triage

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the FTS5 table is SQLite's")
        knee = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Knee pain after walking"))
        blue, ids = knee.group_id, {m.id for m in knee.messages}
        cardiology = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Cardiology"))
        triage.reassign_group(user("nurse1"), knee, cardiology, "Heart")

        def rows(match: str) -> set[int]:
            return set(db.session.scalars(sql(
                "SELECT rowid FROM message_fts WHERE message_fts MATCH :m"), {"m": match}))

        assert ids <= rows(f"scope : xg{cardiology.id}")
        assert not rows(f"scope : xg{blue}") & ids
        assert rows('{subject body} : "knee"* AND scope : xg' + str(cardiology.id)) == ids
        assert rows('{subject body} : "knee"* AND scope : xg' + str(blue)) & ids == set()
        # the old rows were deleted with the very values they were indexed with
        db.session.execute(sql(
            "INSERT INTO message_fts (message_fts, rank) VALUES ('integrity-check', 0)"))


def test_scope_tokens_are_not_searchable_words(app, corpus):
    with app.app_context():
        me, team = user("veteran1").id, user("nurse1").staff_group_ids()[0]
    # SQLite's tokens (xp.., xg..) and PostgreSQL's (~p.., ~g..: the box keeps letters and
    # digits only, so "~p1" searches for "p1", and "p" must not find every message)
    for q in (f"xp{me}", f"xg{team}", "xp", "xg", "scope", f"scope xp{me}",
              f"~p{me}", f"p{me}", f"g{team}", "~g"):
        assert run(app, "veteran1", q=q) == [], q
    assert run(app, "veteran1", q="p") == [  # words beginning with p, not every message
        "Insulin pen needles / veteran1", "Knee pain after walking / nurse1",
        "Knee pain after walking / veteran1", "Parking question / veteran1",
        "Refill for blood pressure pills / nurse1", "Refill for blood pressure pills / veteran1"]


def test_deleted_threads_and_folders_filter_as_before(app, corpus):
    from smweb.services import folders

    with app.app_context():
        vet = user("veteran1")
        knee = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Knee pain after walking"))
        folder_id = folders.create(vet, "Joints").id
        folders.move(vet, [knee], str(folder_id))
    assert run(app, "veteran1", q="physio", folder="inbox") == []
    assert run(app, "veteran1", q="physio", folder=str(folder_id)) == [
        "Knee pain after walking / nurse1"]
    assert run(app, "veteran1", q="physio", folder="deleted") == ["Parking question / veteran1"]
    assert run(app, "veteran1", q="physio") == [
        "Knee pain after walking / nurse1", "Parking question / veteran1"]
    assert run(app, "veteran2", q="physio", folder=str(folder_id)) == []


def test_pages_of_ten_newest_first_without_a_gap_or_repeat(app, corpus):
    with app.app_context():
        for n in range(23):
            new_thread(subject=f"Blood sugar {n:02}", body=f"Reading number {n}")
        db.session.commit()
        vet = user("veteran1")
        query, _ = search.parse({"q": "reading"})
        pages = [search.search(vet, query, n, 10) for n in (1, 2, 3)]
        oldest, _ = search.parse({"q": "reading", "order": "oldest"})
        first = search.search(vet, oldest, 1, 10)
    assert [len(p.items) for p in pages] == [10, 10, 3]
    assert [p.has_next for p in pages] == [True, True, False]
    subjects = [m.subject for p in pages for m in p.items]
    assert subjects == [f"Blood sugar {n:02}" for n in range(22, -1, -1)]
    assert [m.subject for m in first.items] == [f"Blood sugar {n:02}" for n in range(10)]


def test_filters_without_words_use_the_users_scope(app, corpus):
    mine = run(app, "veteran2", category="General")
    assert "Other patient knee / veteran2" in mine
    assert all(found.endswith(" / veteran2") for found in mine)
    assert "Knee pain after walking / veteran1" not in mine
    assert "Other patient knee / veteran2" in run(app, "nurse1", category="General")
    assert "Other patient knee / veteran2" not in run(app, "cardio1", category="General")


def test_upgrade_indexes_existing_messages_with_their_scope(tmp_path):
    """A populated database upgraded to 0014: old messages are found, within their scope;
    a downgrade gives back 0005's index."""
    import flask_migrate
    from sqlalchemy import text as sql

    from smweb import create_app
    from smweb.config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'up.db'}",
                     ATTACHMENTS_DIR=str(tmp_path / "files"))
    with app.app_context():
        flask_migrate.upgrade(revision="0013_queue_indexes")
        with db.engine.begin() as connection:
            for row in (
                "INSERT INTO facilities (id, name, timezone, phone) VALUES (1, 'VAMC', "
                "'America/New_York', '555-0100')",
                "INSERT INTO triage_groups (id, facility_id, name) VALUES (1, 1, 'A'), "
                "(2, 1, 'B')",
                "INSERT INTO users (id, username, password_hash, display_name, role, "
                "account_level, disabled, created_at) VALUES "
                "(1, 'p1', 'x', 'P1', 'patient', 'premium', 0, '2026-01-05 10:00:00'), "
                "(2, 'p2', 'x', 'P2', 'patient', 'premium', 0, '2026-01-05 10:00:00')",
                "INSERT INTO threads (id, patient_id, group_id, category, subject, created_at, "
                "last_message_at, unread_for_patient, unread_for_team) VALUES "
                "(1, 1, 1, 'General', 'Refill', '2026-01-05 10:00:00', '2026-01-05 10:00:00', "
                "0, 0), (2, 2, 2, 'General', 'Refill', '2026-01-05 10:00:00', "
                "'2026-01-05 10:00:00', 0, 0)",
                "INSERT INTO messages (id, thread_id, author_id, from_patient, subject, body, "
                "sent_at) VALUES (1, 1, 1, 1, 'Refill', 'pills please', '2026-01-05 10:00:00'),"
                " (2, 2, 2, 1, 'Refill', 'pills too', '2026-01-05 11:00:00')",
            ):
                connection.execute(sql(row))
        flask_migrate.upgrade()

        def found(match: str) -> list[int]:
            with db.engine.connect() as connection:
                return list(connection.scalars(sql(
                    "SELECT rowid FROM message_fts WHERE message_fts MATCH :m "
                    "ORDER BY rowid"), {"m": match}))

        assert found('{subject body} : "pills"* AND scope : xp1') == [1]
        assert found('{subject body} : "refill"* AND scope : (xg1 OR xg2)') == [1, 2]
        assert found('{subject body} : "pills"* AND scope : xg2') == [2]
        flask_migrate.downgrade(revision="0013_queue_indexes")
        assert found('"pills"*') == [1, 2]
        flask_migrate.upgrade()
        assert found("scope : xp2") == [2]
        db.engine.dispose()


@pytest.mark.parametrize("order", ["newest", "oldest", "sender"])
@pytest.mark.parametrize("who", ["veteran1", "clerk1"])
def test_next_and_previous_pages_start_from_a_result(app, corpus, order, who):
    """Later pages are read from the last result shown (`after`), earlier ones from the first
    (`before`): the same results as counting pages off from the top, both ways, for a patient
    and for staff, in every order (many results of one sender among them)."""
    with app.app_context():
        for n in range(23):
            new_thread(subject=f"Blood sugar {n:02}", body=f"Reading number {n}",
                       team="Cardiology" if n % 3 else "Primary Care Team Blue")
        db.session.commit()
        searcher = user(who)
        query, _ = search.parse({"q": "reading", "order": order})
        counted = [search.search(searcher, query, n, 4) for n in range(1, 7)]  # 23 results
        want = [[m.id for m in p.items] for p in counted]
        assert [len(p) for p in want] == [4, 4, 4, 4, 4, 3] and not counted[-1].has_next

        pages = [search.search(searcher, query, 1, 4)]
        while pages[-1].has_next:
            pages.append(search.search(searcher, query, pages[-1].number + 1, 4,
                                       after=pages[-1].older))
        assert [[m.id for m in p.items] for p in pages] == want
        back = pages[-1]
        while back.has_prev:
            number = back.number - 1
            back = search.search(searcher, query, number, 4,
                                 before=None if number == 1 else back.newer)
            assert [m.id for m in back.items] == want[number - 1] and back.number == number


def test_result_pages_a_browser_follows(login, client, app, corpus, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    with app.app_context():
        for n in range(10):
            new_thread(subject=f"Blood sugar {n:02}", body=f"Reading number {n}")
        db.session.commit()
    login("veteran1")
    first = client.get("/search?q=reading").get_data(as_text=True)
    assert 'aria-label="Result pages"' in first and 'rel="prev"' not in first
    found = re.findall(r"Blood sugar \d\d", first)
    url = unescape(re.search(r'<a href="([^"]+)" rel="next">Next</a>', first).group(1))
    second = client.get(url).get_data(as_text=True)
    assert "after=" in url and "q=reading" in url and "page=2" in url
    found += re.findall(r"Blood sugar \d\d", second)
    url = unescape(re.search(r'<a href="([^"]+)" rel="next">Next</a>', second).group(1))
    third = client.get(url).get_data(as_text=True)
    found += re.findall(r"Blood sugar \d\d", third)
    assert found == [f"Blood sugar {n:02}" for n in range(9, -1, -1)]
    back = unescape(re.search(r'<a href="([^"]+)" rel="prev">Previous</a>', third).group(1))
    assert "before=" in back
    assert re.findall(r"Blood sugar \d\d", client.get(back).get_data(as_text=True)) == \
        re.findall(r"Blood sugar \d\d", second)
    for url in ("/search?q=reading&after=abc", "/search?q=reading&before=-1",
                "/search?q=reading&after=99999999999", "/search?q=reading&page=50",
                "/search?q=reading&label=x&on=y&back=z&endpoint=w"):
        assert client.get(url).status_code == 200, url
    # by sender, pages are counted: no person's name or id names a place in a link
    by_sender = client.get("/search?q=reading&order=sender").get_data(as_text=True)
    older = unescape(re.search(r'<a href="([^"]+)" rel="next">Next</a>', by_sender).group(1))
    assert "after=" not in older and "page=2" in older


def test_words_are_letters_and_digits_as_the_indexes_split_them():
    # an underscore splits words in both indexes: "_" alone is no word (nothing to search)
    assert search.parse({"q": "_"})[0].is_empty
    assert search.parse({"q": "__ ~"})[0].is_empty
    assert search.parse({"q": "knee_pain x2"})[0].words == ["knee", "pain", "x2"]


def test_reindex_search_finds_messages_loaded_without_the_index(app, corpus):
    """Data restored with triggers off leaves the index empty: search finds nothing until
    `flask smweb reindex-search` fills it again, scope and all."""
    from sqlalchemy import text as sql

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(sql("INSERT INTO message_fts (message_fts) VALUES ('delete-all')"))
        else:
            db.session.execute(sql("DELETE FROM message_fts"))
        db.session.commit()
        total = db.session.scalar(db.select(db.func.count(Message.id)))
    assert run(app, "veteran1", q="knee") == []
    result = app.test_cli_runner().invoke(args=["smweb", "reindex-search"])
    assert result.exit_code == 0, result.output
    assert f"Indexed {total:,} message(s) for search." in result.output
    assert run(app, "veteran1", q="knee") == [
        "Knee pain after walking / nurse1", "Knee pain after walking / veteran1"]
    assert len(run(app, "veteran2", q="knee")) == 1  # the other patient's own, no more
    # run again: the same index, not twice over
    assert app.test_cli_runner().invoke(args=["smweb", "reindex-search"]).exit_code == 0
    assert run(app, "veteran1", q="knee") == [
        "Knee pain after walking / nurse1", "Knee pain after walking / veteran1"]


def test_date_boxes_say_their_format_before_anything_is_typed(login, client):
    """A browser without a date picker shows a text box: the format is told up front."""
    login("veteran1")
    page = client.get("/search").get_data(as_text=True)
    assert page.count("Year-month-day, for example 2026-03-31") == 2
    assert 'id="start" name="start" value="" aria-describedby="start-hint"' in page
