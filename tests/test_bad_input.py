"""Bad input, as review found it: unknown form actions, huge ids, NUL characters, a file
removed and added in one post, another's file id, a missing token. Each gets a clear 4xx or
keeps what the user had, never a 500 or a lost file; nothing of a message reaches the logs
(nor a database error)."""

import pytest
from sqlalchemy.exc import IntegrityError

from smweb.extensions import db
from smweb.models import Attachment, Message, Thread
from tests.support import csrf_token, htmx_fragment, post_form, send_with_files, sign_in


def test_database_errors_do_not_carry_message_text(ctx):
    with pytest.raises(IntegrityError) as error:
        db.session.add(Message(thread_id=987654, author_id=1, from_patient=True,
                               body="my HIV test result"))
        db.session.commit()
    db.session.rollback()
    assert "my HIV test result" not in str(error.value)


@pytest.mark.parametrize("action", ["bogus", "remove:", "remove:abc", "remove:-1"])
def test_unknown_actions_are_refused_not_sent(login, client, app, action):
    login("veteran1")
    response = send_with_files(client, app, [], action=action)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Thread.id))) == 4


@pytest.mark.parametrize("path", ["/threads/99999999999999999999", "/drafts/3000000000",
                                  "/attachments/99999999999999999999",
                                  "/triage/records/99999999999999999999.json"])
def test_huge_ids_are_not_found(login, client, path):
    login("nurse1" if path.startswith("/triage") else "veteran1")
    assert client.get(path).status_code == 404


def test_nul_characters_are_refused_plainly(login, client, app):
    login("veteran1")
    response = send_with_files(client, app, [], body="hello\x00there")
    assert response.status_code == 400
    assert "contained a character that can" in response.get_data(as_text=True)
    assert client.get("/mailbox/inbox?page=1%00").status_code == 400


def test_remove_and_add_the_same_file_in_one_post(login, client, app):
    login("veteran1")
    draft_url = send_with_files(client, app, [("a.txt", b"A")], action="save").headers[
        "Location"]
    with app.app_context():
        a = db.session.scalar(db.select(Attachment))
    response = send_with_files(client, app, [("a.txt", b"A")], action=f"remove:{a.id}",
                               path=draft_url, headers=htmx_fragment("compose-form"))
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 1


def test_remove_one_of_four_and_add_another(login, client, app):
    login("veteran1")
    four = [(f"{n}.txt", f"file {n}".encode()) for n in range(4)]
    draft_url = send_with_files(client, app, four, action="save").headers["Location"]
    with app.app_context():
        first = db.session.scalar(db.select(Attachment).order_by(Attachment.id))
    response = send_with_files(client, app, [("new.txt", b"new")], action=f"remove:{first.id}",
                               path=draft_url, headers=htmx_fragment("compose-form"))
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        names = sorted(db.session.scalars(db.select(Attachment.filename)))
    assert names == ["1.txt", "2.txt", "3.txt", "new.txt"]


def test_removing_a_file_already_gone_keeps_the_form(login, client, app):
    login("veteran1")
    draft_url = send_with_files(client, app, [("a.txt", b"A")], action="save").headers[
        "Location"]
    response = send_with_files(client, app, [], action="remove:424242", path=draft_url,
                               body="still here", headers=htmx_fragment("compose-form"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That file is no longer attached." in html and "still here" in html
    assert html.lstrip().startswith('<form id="compose-form"')


def test_another_users_attachment_id_cannot_be_removed(login, client, app):
    login("veteran2")
    send_with_files(client, app, [("theirs.txt", b"T")], action="save")
    with app.app_context():
        theirs = db.session.scalar(db.select(Attachment)).id
    other = app.test_client()
    sign_in(other, "veteran1")
    draft_url = send_with_files(other, app, [("mine.txt", b"M")], action="save").headers[
        "Location"]
    response = send_with_files(other, app, [], action=f"remove:{theirs}", path=draft_url)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Attachment, theirs) is not None


def test_pages_with_errors_say_so_in_the_title(login, client, app):
    login("veteran1")
    response = post_form(client, "/compose", {"action": "send"}, form_page="/compose")
    assert "<title>Error: Start a new message" in response.get_data(as_text=True)


def test_sign_out_needs_its_token(login, client):
    login("veteran1")
    assert client.post("/sign-out").status_code == 400
    assert client.post("/sign-out", data={"csrf_token": csrf_token(client, "/mailbox/inbox")}
                       ).status_code == 303
