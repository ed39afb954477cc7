"""Patient folders read a page at a time from where the last one ended (keyset paging): every
folder and sort walked page by page (Older, then back with Newer) against a plain Python
reading of the same order, with ties in time and in name; and the links a browser follows."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import update

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Draft, Folder, Message, Thread, TriageGroup, User
from smweb.services import folders, mailbox, messaging
from tests.support import new_thread, user

SIZE = 4


@pytest.fixture
def mailbox_data(app):
    """veteran1: 30 threads across two teams answered by two staff members, their times in
    tied groups of three; some deleted, some in a folder of their own; 11 drafts, some with no
    care team, tied in time too."""
    with app.app_context():
        vet, clerk, doctor = user("veteran1"), user("clerk1"), user("doctor1")
        groups = {g.name: g for g in db.session.scalars(db.select(TriageGroup))}
        base = utcnow() - timedelta(days=2)
        threads = []
        for n in range(30):
            group = "Cardiology" if n % 3 == 0 else "Primary Care Team Blue"
            thread = new_thread(team=group, subject=f"Paging {n:02d}")
            staff = doctor if n % 2 and group != "Cardiology" else clerk
            messaging.reply(staff, thread, f"Answer {n}")
            threads.append(thread.id)
        for n, thread_id in enumerate(threads):
            moment = base + timedelta(minutes=n // 3)  # three threads share each time
            db.session.execute(update(Thread).where(Thread.id == thread_id).values(
                last_team_message_at=moment, last_message_at=moment))
            db.session.execute(update(Message).where(Message.thread_id == thread_id).values(
                sent_at=moment))
        mine = folders.create(vet, "Heart")
        db.session.commit()
        folders.move(vet, [db.session.get(Thread, t) for t in threads[:9]], "deleted")
        folders.move(vet, [db.session.get(Thread, t) for t in threads[9:18]], str(mine.id))
        for n in range(11):
            db.session.add(Draft(
                author_id=vet.id, subject=f"Draft {n:02d}", body="...",
                group_id=None if n % 4 == 0 else groups["Cardiology"].id,
                updated_at=base + timedelta(minutes=n // 2)))
        db.session.commit()
        return mine.id


def expected(patient: User, folder: str, sort: str, custom: int | None) -> list[int]:
    """The folder's ids in display order, worked out in Python from the ORM objects."""
    if folder == "drafts":
        rows = db.session.scalars(db.select(Draft).where(Draft.author_id == patient.id)).all()
        keyed = [((d.group.name if d.group else ""), d.updated_at, d.id) for d in rows]
    elif folder == "sent":
        rows = db.session.scalars(db.select(Message).join(Thread).where(
            Message.author_id == patient.id, Thread.patient_deleted_at.is_(None))).all()
        keyed = [(m.thread.group.name, m.sent_at, m.id) for m in rows]
    else:
        rows = db.session.scalars(db.select(Thread).where(Thread.patient_id == patient.id)).all()
        if folder == "inbox":
            rows = [t for t in rows if t.patient_deleted_at is None and t.folder_id is None
                    and t.last_team_message_at is not None]
            keyed = [(t.last_team_author.display_name, t.last_team_message_at, t.id)
                     for t in rows]
        else:
            rows = [t for t in rows if (t.patient_deleted_at is not None) == (folder == "deleted")
                    and (folder == "deleted" or t.folder_id == custom)]
            keyed = [(t.group.name, t.last_message_at, t.id) for t in rows]
    if sort == "oldest":
        keyed.sort(key=lambda k: (k[1], k[2]))
    elif sort == "newest":
        keyed.sort(key=lambda k: (k[1], k[2]), reverse=True)
    else:  # by name A to Z, then newest first
        keyed.sort(key=lambda k: (k[1], k[2]), reverse=True)
        keyed.sort(key=lambda k: k[0])
    return [k[2] for k in keyed]


@pytest.mark.parametrize("folder", ["inbox", "sent", "drafts", "deleted", "custom"])
@pytest.mark.parametrize("sort", ["newest", "oldest", "sender"])
def test_every_folder_and_sort_walked_both_ways(app, mailbox_data, folder, sort):
    with app.app_context():
        vet = user("veteran1")
        custom = db.session.get(Folder, mailbox_data) if folder == "custom" else None
        want = expected(vet, folder, sort, mailbox_data)
        assert len(want) > 2 * SIZE  # at least three pages

        def read(number, after=None, before=None):
            return mailbox.folder_page(vet, folder, number, SIZE, sort, custom=custom,
                                       after=after, before=before)

        pages = [read(1)]
        while pages[-1].has_next:
            pages.append(read(pages[-1].number + 1, after=pages[-1].older))
        assert [row.id for page in pages for row in page.items] == want
        assert [page.number for page in pages] == list(range(1, len(pages) + 1))
        assert not pages[0].has_prev and all(page.has_prev for page in pages[1:])

        back = pages[-1]
        while back.has_prev:  # Newer: before the first row shown; page 2's is page 1
            number = back.number - 1
            back = read(1) if number == 1 else read(number, before=back.newer)
            assert [r.id for r in back.items] == [r.id for r in pages[number - 1].items]
            assert back.number == number


@pytest.mark.parametrize("sort", ["newest", "sender"])
def test_rows_that_move_meanwhile_are_not_shown_twice(app, mailbox_data, sort):
    """A link names the place where its page starts (time, id; for names, the staff member's
    or care team's id), not a row to look up: when a thread of page 1 gets a new answer
    and moves to the top, page 2 still follows on from where page 1 ended."""
    with app.app_context():
        vet = user("veteran1")
        first = mailbox.folder_page(vet, "inbox", 1, SIZE, sort)
        second = mailbox.folder_page(vet, "inbox", 2, SIZE, sort, after=first.older)
        thread = db.session.get(Thread, first.items[-1].id)
        messaging.reply(user("clerk1"), thread, "One more thing.")
        again = mailbox.folder_page(vet, "inbox", 2, SIZE, sort, after=first.older)
        assert [r.id for r in again.items] == [r.id for r in second.items]
        assert not {r.id for r in again.items} & {r.id for r in first.items}


def test_places_that_are_not_places_count_the_page(app, mailbox_data):
    """A hand-edited place is ignored: the page number alone is served, counted."""
    with app.app_context():
        vet = user("veteran1")
        top = [r.id for r in mailbox.folder_page(vet, "inbox", 1, SIZE).items]
        third = [r.id for r in mailbox.folder_page(vet, "inbox", 3, SIZE).items]
        for place in ("abc", "2026-01-01T00:00:00", "2026-13-01T00:00:00~5", "x~5",
                      "2026-01-01T00:00:00~-5", "2026-01-01T00:00:00~99999999999", "~", "",
                      "1~2026-01-01T00:00:00~5", "2026-01-01T00:00:00~5~6"):
            for way in ({"after": place}, {"before": place}):
                page = mailbox.folder_page(vet, "inbox", 3, SIZE, **way)
                assert page.number == 3 and [r.id for r in page.items] == third, way
        # a place past the end: nothing older, so the first page
        page = mailbox.folder_page(vet, "inbox", 9, SIZE, after="2000-01-01T00:00:00~1")
        assert page.number == 1 and [r.id for r in page.items] == top


def test_the_links_a_browser_follows(login, client, app, mailbox_data, monkeypatch):
    """Without JavaScript: Older links carry the last row shown, Newer the first; a refresh
    (the list's own poll) reads the same page; page=N without a row still works."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", SIZE)
    login("veteran1")
    seen, url, pages = [], "/mailbox/inbox?sort=oldest", []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(html)
        seen += re.findall(r'id="thread-(\d+)"', html)
        older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', html)
        url = unescape(older.group(1)) if older else None
        if url and len(pages) > 1:
            assert "after=" in url and f"page={len(pages) + 1}" in url
    with app.app_context():
        assert [int(i) for i in seen] == expected(user("veteran1"), "inbox", "oldest", None)
    last = pages[-1]
    newer = unescape(re.search(r'<a href="([^"]+)" rel="prev">Newer</a>', last).group(1))
    assert "before=" in newer
    back = client.get(newer).get_data(as_text=True)
    assert re.findall(r'id="thread-(\d+)"', back) == re.findall(r'id="thread-(\d+)"', pages[-2])
    # the list's refresh reads this same page (and 204 while nothing changed)
    poll = unescape(re.search(r'hx-get="([^"]+)"', back).group(1))
    assert "before=" in poll and "poll=1" in poll
    again = client.get(poll, headers={"HX-Request": "true", "HX-Target": "message-list"})
    assert again.status_code == 204
    # old-style links and nonsense still answer with a page
    for url in ("/mailbox/inbox?page=2", "/mailbox/inbox?after=abc", "/mailbox/inbox?page=999",
                "/mailbox/inbox?before=99999999999999999999", "/mailbox/inbox?after=-3"):
        assert client.get(url).status_code == 200, url
