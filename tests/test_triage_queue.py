"""The staff queue read in index order: every filter and sort walked page by page (Older, then
back with Newer) against a plain Python reading of the same rules, the tabs' bounded counts,
the htmx poll of a later page, and the queue's migration on a populated database."""

import random
import re
from datetime import timedelta
from html import unescape

import flask_migrate
import pytest
from sqlalchemy import text

from smweb import create_app
from smweb.clock import utcnow
from smweb.config import TestConfig
from smweb.extensions import db
from smweb.models import StaffAbsence, StaffNote, Thread, ThreadStatus, TriageGroup
from smweb.services import queue, triage
from tests.support import care_team, count_statements, htmx_fragment, patient, staff, user

OPEN = ThreadStatus.OPEN


def group_id(name):
    return db.session.scalar(db.select(TriageGroup.id).where(TriageGroup.name == name))


def make_threads(now):
    """Threads in both demo teams with ties on due and last-message times, threads with and
    without a reply due, overdue, due soon, completed, assigned to nurse1, to doctor1 (whom
    nurse1 covers today), and to doctor1 on behalf of nurse1 (nurse1 away)."""
    rng = random.Random(13)  # noqa: S311 - test data
    blue, cardio = group_id("Primary Care Team Blue"), group_id("Cardiology")
    patients = [user("veteran1").id, user("veteran2").id]
    nurse, doctor, clerk = user("nurse1").id, user("doctor1").id, user("clerk1").id
    dues = [None, None, now - timedelta(hours=5), now - timedelta(hours=5),  # overdue, a tie
            now + timedelta(hours=3), now + timedelta(hours=3), now + timedelta(days=2)]
    times = [now - timedelta(days=d) for d in (1, 1, 2, 3, 3, 7, 40)]  # ties too
    for n in range(40):
        status = rng.choice([*OPEN, ThreadStatus.COMPLETED])
        due = rng.choice(dues) if status != ThreadStatus.COMPLETED else None
        assignee = rng.choice([None, None, nurse, doctor, clerk])
        assigned_for = nurse if assignee == doctor and rng.random() < 0.3 else None
        thread = Thread(
            patient_id=rng.choice(patients), group_id=rng.choice([blue, blue, cardio]),
            category="General", subject=f"Queue case {n}", last_message_at=rng.choice(times),
            status=status, assignee_id=assignee, assigned_for_id=assigned_for, due_at=due,
            warn_at=due - timedelta(days=1) if due else None)
        # answered a day to a week ago; opened by the patient or not
        thread.last_team_message_at = rng.choice(times[:-1])
        thread.unread_for_patient = rng.random() < 0.5
        db.session.add(thread)
    # nurse1 away: clerk1 works one for them (only the surrogate rule makes it nurse1's),
    # doctor1 another (nurse1 covers doctor1 too: both rules hold, it is listed once)
    for n, assignee in enumerate((clerk, doctor)):
        db.session.add(Thread(
            patient_id=patients[0], group_id=blue, category="General",
            subject=f"Covered case {n}", last_message_at=times[n], status=ThreadStatus.ASSIGNED,
            assignee_id=assignee, assigned_for_id=nurse, due_at=dues[n + 2],
            warn_at=dues[n + 2] - timedelta(days=1) if dues[n + 2] else None))
    today = now.date()
    # nurse1 covers for doctor1 today (and doctor1 for nurse1: a thread of both is one row)
    db.session.add(StaffAbsence(user_id=doctor, surrogate_id=nurse, starts_on=today,
                                ends_on=today + timedelta(days=1)))
    db.session.add(StaffAbsence(user_id=nurse, surrogate_id=doctor, starts_on=today,
                                ends_on=today + timedelta(days=1)))
    # consults: cardio1 asks nurse1 about four Cardiology threads (one answered already),
    # and clerk1 about one
    db.session.flush()
    asked = db.session.scalars(db.select(Thread.id).where(Thread.group_id == cardio)
                               .order_by(Thread.id).limit(5)).all()
    for n, thread_id in enumerate(asked):
        db.session.add(StaffNote(thread_id=thread_id, author_id=user("cardio1").id,
                                 body="What do you think?", asked_id=clerk if n == 4 else nurse,
                                 answered_at=now if n == 0 else None))
    db.session.commit()


def expected(staff, filter_name, sort, now):
    """The filter and sort as the queue's rules say, read from every thread in Python."""
    groups = set(staff.staff_group_ids())
    mine = {staff.id} | set(triage.covering_for(staff, now.date()))
    rules = {
        "open": lambda t: t.status in OPEN,
        "unassigned": lambda t: t.status in OPEN and t.assignee_id is None,
        "mine": lambda t: t.status in OPEN and (t.assignee_id in mine
                                                 or t.assigned_for_id == staff.id),
        "due-soon": lambda t: (t.status in OPEN and t.due_at is not None
                               and t.warn_at is not None and t.warn_at <= now < t.due_at),
        "overdue": lambda t: t.status in OPEN and t.due_at is not None and t.due_at <= now,
        "unread-by-patient": lambda t: (t.status == ThreadStatus.WAITING
                                        and t.unread_for_patient
                                        and t.last_team_message_at <= now - timedelta(days=3)),
        "completed": lambda t: t.status == ThreadStatus.COMPLETED,
    }
    consulted = set(db.session.scalars(db.select(StaffNote.thread_id).where(
        StaffNote.asked_id == staff.id, StaffNote.answered_at.is_(None))))
    rules["consults"] = lambda t: t.id in consulted  # of any team
    rows = [t for t in db.session.scalars(db.select(Thread))
            if (t.group_id in groups or filter_name == "consults") and rules[filter_name](t)]
    # stable sorts, least significant key first
    rows.sort(key=lambda t: t.id, reverse=sort != "oldest")
    rows.sort(key=lambda t: t.last_message_at, reverse=sort != "oldest")
    if sort == "due":
        rows.sort(key=lambda t: (t.due_at is None, t.due_at or now))
    elif sort == "patient":
        rows.sort(key=lambda t: t.patient.display_name)
    return [t.id for t in rows]


def walk(staff, filter_name, sort, now, size):
    """Every page from the first through Older links, then back through Newer links."""
    pages = [queue.page(staff, filter_name, 1, size, now, sort)]
    while pages[-1].has_next:
        last = pages[-1]
        pages.append(queue.page(staff, filter_name, last.number + 1, size, now, sort,
                                after=last.older))
        assert len(pages) < 100
    back = pages[-1]
    while back.has_prev:
        if back.newer is None:  # page 2's Newer is page 1
            assert back.number == 2
            back = queue.page(staff, filter_name, 1, size, now, sort)
        else:
            back = queue.page(staff, filter_name, back.number - 1, size, now, sort,
                              before=back.newer)
        assert [t.id for t in back.items] == [t.id for t in pages[back.number - 1].items]
    assert back.number == 1
    return pages


@pytest.mark.parametrize("sort", list(queue.SORTS))
@pytest.mark.parametrize("username", ["nurse1", "clerk1"])
def test_every_filter_pages_in_the_rules_order(ctx, username, sort):
    now = utcnow()
    make_threads(now)
    staff = user(username)
    for filter_name in queue.FILTERS:
        want = expected(staff, filter_name, sort, now)
        pages = walk(staff, filter_name, sort, now, size=3)
        got = [t.id for page in pages for t in page.items]
        assert got == want, (filter_name, sort)
        assert [page.number for page in pages] == list(range(1, len(pages) + 1))
        assert all(len(page.items) == 3 for page in pages[:-1])
        assert pages[0].has_prev is False and pages[-1].has_next is False


def test_mine_holds_covered_colleagues_and_my_surrogates_threads_once(ctx):
    now = utcnow()
    make_threads(now)
    nurse, doctor = user("nurse1"), user("doctor1")
    ids = [t.id for t in queue.page(nurse, "mine", 1, 100, now).items]
    assert len(ids) == len(set(ids))
    rows = {t.id: t for t in db.session.scalars(db.select(Thread).where(Thread.id.in_(ids)))}
    assert {t.assignee_id for t in rows.values()} <= {nurse.id, doctor.id, user("clerk1").id}
    subjects = {t.subject for t in rows.values()}
    assert {"Covered case 0", "Covered case 1"} <= subjects


def test_counts_are_exact_up_to_the_cap_then_capped(ctx, monkeypatch):
    now = utcnow()
    make_threads(now)
    for cap in (2, 100):
        monkeypatch.setattr(queue, "COUNT_CAP", cap)
        for username in ("nurse1", "clerk1", "cardio1", "coordinator1"):
            staff = user(username)
            counts = queue.counts(staff, now)
            for filter_name in queue.FILTERS:
                exact = len(expected(staff, filter_name, "due", now))
                assert counts[filter_name] == min(exact, cap + 1), (username, filter_name)


def test_a_hand_edited_cursor_is_ignored(ctx):
    now = utcnow()
    make_threads(now)
    staff = user("clerk1")
    plain = queue.page(staff, "open", 2, 3, now)  # no cursor: page 2 by OFFSET
    for bad in ("x", "9~2026-01-01T00:00:00~1", "0~not-a-date~1~2", "0~~", "-1~1"):
        for cursor in ({"after": bad}, {"before": bad}):
            page = queue.page(staff, "open", 2, 3, now, **cursor)
            assert [t.id for t in page.items] == [t.id for t in plain.items]
            assert page.number == 2 and page.after is None and page.before is None


def test_newer_back_to_the_start_shows_a_whole_first_page(ctx):
    now = utcnow()
    make_threads(now)
    staff = user("clerk1")
    first = [t.id for t in queue.page(staff, "open", 1, 3, now).items]
    ones = walk(staff, "open", "due", now, size=1)  # pages of one thread: their cursors
    # three threads before page 4's: exactly the first page; two before page 3's: too few,
    # so the first page is read again in full
    for page in (ones[3], ones[2]):
        back = queue.page(staff, "open", 2, 3, now, before=page.newer)
        assert [t.id for t in back.items] == first
        assert back.number == 1 and not back.has_prev and back.has_next
        assert back.before is None  # a first page: its Newer link is none (has_prev)


def test_a_page_number_without_cursor_is_bounded(ctx):
    now = utcnow()
    make_threads(now)
    page = queue.page(user("clerk1"), "open", 5000, 1, now)
    assert page.number == queue.OFFSET_PAGES


def test_staff_without_a_team_have_an_empty_queue(ctx):
    coordinator = user("coordinator1")
    assert queue.page(coordinator, "open", 1, 10).items == []
    assert set(queue.counts(coordinator).values()) == {0}
    make_threads(utcnow())  # a plain staff member of no team, with threads everywhere
    newcomer = staff()
    assert queue.page(newcomer, "open", 1, 10).items == []
    assert set(queue.counts(newcomer).values()) == {0}


def test_a_team_of_its_own_queues_only_its_own_threads(ctx):
    """A care team at a facility of its own, its nurse, its patient: the demo's threads (in
    other teams) never reach its queue, nor its thread theirs."""
    podiatry = care_team("Podiatry")
    nurse = staff(podiatry)
    heel = Thread(patient=patient(podiatry), group=podiatry, category="General",
                  subject="Heel pain", last_message_at=utcnow())
    db.session.add(heel)
    db.session.commit()
    assert [t.id for t in queue.page(nurse, "open", 1, 10).items] == [heel.id]
    assert heel.id not in [t.id for t in queue.page(user("clerk1"), "open", 1, 100).items]


# --- the page -------------------------------------------------------------------------------

def older_link(html):
    match = re.search(r'<a href="([^"]+)" rel="next">Older</a>', html)
    return unescape(match.group(1)) if match else None


def test_older_and_newer_links_walk_the_queue_and_a_later_page_polls_204(
        login, client, app, monkeypatch):
    with app.app_context():
        make_threads(utcnow())
    login("clerk1")
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    first = client.get("/triage/?sort=newest").get_data(as_text=True)
    assert 'rel="prev"' not in first and "<span>Page 1</span>" in first
    second_url = older_link(first)
    assert "after=" in second_url and "page=2" in second_url
    second = client.get(second_url).get_data(as_text=True)
    assert "<span>Page 2</span>" in second
    # page 2's Newer is page 1, without a cursor
    newer = unescape(re.search(r'<a href="([^"]+)" rel="prev">Newer</a>', second).group(1))
    assert "before=" not in newer and "page=1" in newer
    third = client.get(older_link(second)).get_data(as_text=True)
    back = unescape(re.search(r'<a href="([^"]+)" rel="prev">Newer</a>', third).group(1))
    assert "before=" in back
    subjects = re.compile(r"Queue case \d+|Change of address|Refill for blood pressure pills")
    assert subjects.findall(client.get(back).get_data(as_text=True)) == \
        subjects.findall(second)
    # the list's poll carries the cursor: unchanged, it answers 204
    poll = unescape(re.search(r'hx-get="([^"]+poll=1[^"]*)"', second).group(1))
    assert "after=" in poll
    assert client.get(poll, headers=htmx_fragment("queue-list")).status_code == 204


def test_a_tab_over_the_cap_says_more_than(login, client, app, monkeypatch):
    with app.app_context():
        make_threads(utcnow())
    monkeypatch.setattr(queue, "COUNT_CAP", 2)
    login("clerk1")
    html = client.get("/triage/").get_data(as_text=True)
    assert ('All open <span class="count">(<span aria-hidden="true">2+</span>'
            '<span class="visually-hidden">more than 2</span>)</span>') in html
    monkeypatch.setattr(queue, "COUNT_CAP", 1000)
    html = client.get("/triage/").get_data(as_text=True)
    assert re.search(r'All open <span class="count">\(\d+\)</span>', html)


def test_a_later_page_costs_the_statements_of_the_first(login, client, app, monkeypatch):
    with app.app_context():
        make_threads(utcnow())
    login("clerk1")
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    first = count_statements(app, client, "/triage/")
    url = older_link(client.get("/triage/").get_data(as_text=True))
    assert count_statements(app, client, url) == first


# --- the migration -------------------------------------------------------------------------

def test_queue_indexes_migrate_up_and_down_on_a_populated_database(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'q.db'}",
                     ATTACHMENTS_DIR=str(tmp_path / "files"))
    with app.app_context():
        # The demo is written by today's models, then the schema goes back to before the
        # queue indexes (every later migration's downgrade on a populated database, too).
        flask_migrate.upgrade()
        from smweb.services import demo

        demo.seed_demo()
        db.session.remove()
        flask_migrate.downgrade(revision="0012_form_key")

        def indexes():
            with db.engine.connect() as connection:
                return {row[0] for row in connection.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'threads'"))}

        def thread_count():
            with db.engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM threads")).scalar()

        count = thread_count()
        assert count > 0 and "ix_threads_group_status_due" in indexes()
        flask_migrate.upgrade(revision="0013_queue_indexes")
        assert {"ix_threads_queue_due", "ix_threads_queue_recent",
                "ix_threads_queue_assignee_due", "ix_threads_queue_assignee_recent",
                "ix_threads_assigned_for"} <= indexes()
        assert "ix_threads_group_status_due" not in indexes() and thread_count() == count
        flask_migrate.downgrade(revision="0012_form_key")
        assert "ix_threads_group_status_due" in indexes()
        assert not {i for i in indexes() if i.startswith("ix_threads_queue")}
        flask_migrate.upgrade()
        assert "ix_threads_queue_due" in indexes() and thread_count() == count
        db.engine.dispose()

