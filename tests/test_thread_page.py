"""The thread page and its printout: every message with its files and education items, the
read marks, and a cost that does not grow with the thread (services/reading.py)."""

import re

from smweb.extensions import db
from smweb.models import EducationItem, Message, Thread
from smweb.services import messaging
from tests.support import count_statements, send_with_files, sign_in, user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _thread_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Thread.id).order_by(Thread.id.desc()).limit(1))


def _staff_reply(app, thread_id: int, body: str, education: list[str] = ()) -> None:
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        items = [EducationItem(title=title, url=f"https://www.va.gov/{n}")
                 for n, title in enumerate(education)]
        db.session.add_all(items)
        messaging.reply(user("nurse1"), thread, body, education=items)


def _messages(html: str) -> list[str]:
    return re.findall(r'<li class="message .*?</li>\s*(?=<li class="message|</ol>)', html, re.S)


def test_each_message_shows_its_own_files_and_education_items(app, client):
    sign_in(client, "veteran1")
    assert send_with_files(client, app, [("lab.pdf", PDF)]).status_code == 303
    thread_id = _thread_id(app)
    _staff_reply(app, thread_id, "Here is some reading.", ["Knee pain basics", "Walking"])
    html = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    first, second = _messages(html)
    assert "lab.pdf" in first and "(PDF" in first and "Knee pain basics" not in first
    assert "Knee pain basics" in second and "Walking" in second and "lab.pdf" not in second
    assert second.index("Knee pain basics") < second.index("Walking")  # by title
    printed = client.get(f"/threads/{thread_id}/print").get_data(as_text=True)
    assert "Attachments: lab.pdf" in printed
    assert "Education materials: Knee pain basics (https://www.va.gov/0), Walking" in printed


def test_the_page_costs_the_same_statements_for_two_messages_or_six(app, client):
    sign_in(client, "veteran1")
    assert send_with_files(client, app, [("lab.pdf", PDF)]).status_code == 303
    thread_id = _thread_id(app)
    _staff_reply(app, thread_id, "Reading.", ["Knee pain basics"])
    client.get(f"/threads/{thread_id}")  # the first view marks the reply read
    short = count_statements(app, client, f"/threads/{thread_id}")
    for n in range(4):
        _staff_reply(app, thread_id, f"More reading {n}.", [f"Item {n}"])
    client.get(f"/threads/{thread_id}")
    assert count_statements(app, client, f"/threads/{thread_id}") == short


def test_the_first_team_member_to_open_it_marks_the_patients_messages_read(app, client):
    sign_in(client, "veteran1")
    assert send_with_files(client, app, []).status_code == 303
    thread_id = _thread_id(app)
    sent = client.get("/mailbox/sent").get_data(as_text=True)
    assert "Not yet read" in sent
    staff = app.test_client()
    sign_in(staff, "nurse1")
    html = staff.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "READ" in html and "first opened by" in html
    with app.app_context():
        message = db.session.scalar(db.select(Message).where(Message.thread_id == thread_id))
        reader = message.read_by_team_user.display_name
        assert message.read_by_team_at is not None
        assert not db.session.get(Thread, thread_id).unread_for_team
    assert f"first opened by {reader}" in html
    # A second colleague opening it later changes nothing: the first stays the reader.
    other = app.test_client()
    sign_in(other, "clerk1")
    assert f"first opened by {reader}" in other.get(f"/threads/{thread_id}").get_data(
        as_text=True)
    assert "READ" in client.get("/mailbox/sent").get_data(as_text=True)
