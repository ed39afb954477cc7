"""The patient's own folders: each naming rule, rename, remove only when empty, moving one or
several threads, counts in the navigation."""

import pytest

from smweb.extensions import db
from smweb.models import Folder, Message, Thread
from tests.support import post_form, sign_in


def ids(app, *subjects):
    with app.app_context():
        return [db.session.scalar(db.select(Thread.id).where(Thread.subject == s))
                for s in subjects]


def create(client, name):
    return post_form(client, "/folders", {"name": name}, form_page="/folders")


@pytest.mark.parametrize(("name", "message"), [
    ("", "Enter a name for the folder."),
    ("   ", "Enter a name for the folder."),
    ("x" * 51, "A folder name can be at most 50 characters."),
    ("Heart/Lungs", "A folder name can have only letters, digits and spaces."),
    ("<script>", "A folder name can have only letters, digits and spaces."),
    ("inbox", "inbox is already one of your mailbox"),
    ("Drafts", "Drafts is already one of your mailbox"),
    # the folders' names in every language the mailbox is shown in
    ("Borradores", "Borradores is already one of your mailbox"),
    ("bandeja de entrada", "bandeja de entrada is already one of your mailbox"),
])
def test_each_folder_rule_says_what_failed(login, client, app, name, message):
    login("veteran1")
    response = create(client, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Folder.id))) == 0


def test_create_rename_and_duplicate_names(login, client, app):
    login("veteran1")
    assert create(client, "Heart care 2026").status_code == 303
    page = client.get("/folders").get_data(as_text=True)
    assert "The folder Heart care 2026 was created." in page
    duplicate = create(client, "heart CARE 2026")
    assert duplicate.status_code == 422
    assert "You already have a folder named heart CARE 2026." in duplicate.get_data(as_text=True)
    with app.app_context():
        folder_id = db.session.scalar(db.select(Folder.id))
    post_form(client, f"/folders/{folder_id}/rename", {"name": "Cardiology notes"},
              form_page="/folders")
    page = client.get("/folders").get_data(as_text=True)
    assert "The folder is now called Cardiology notes." in page
    post_form(client, f"/folders/{folder_id}/rename", {"name": "bad/name"}, form_page="/folders")
    assert "only letters, digits and spaces" in client.get("/folders").get_data(as_text=True)
    # another patient may use the same name
    other = client.application.test_client()
    sign_in(other, "veteran2")
    assert create(other, "Cardiology notes").status_code == 303


def test_move_threads_into_a_folder_and_back(login, client, app):
    login("veteran1")
    create(client, "Pharmacy")
    with app.app_context():
        folder_id = db.session.scalar(db.select(Folder.id))
    refill, flu = ids(app, "Refill for blood pressure pills", "Flu shot clinic dates")
    response = post_form(client, "/mailbox/move", {
        "thread_ids": [str(refill), str(flu)], "destination": str(folder_id),
        "back": "/mailbox/inbox"}, form_page="/mailbox/inbox")
    assert response.headers["Location"] == "/mailbox/inbox"
    inbox = client.get("/mailbox/inbox").get_data(as_text=True)
    assert "2 conversations were moved to" in inbox
    assert "Refill for blood pressure" not in inbox and "Flu shot clinic" not in inbox
    assert "Pharmacy <span class=\"count\">(1 unread)</span>" in inbox  # the nav
    folder = client.get(f"/mailbox/folders/{folder_id}").get_data(as_text=True)
    assert "<h1>Pharmacy</h1>" in folder
    assert "Refill for blood pressure" in folder and "Flu shot clinic" in folder
    # removing a folder that holds threads is refused, with the reason
    post_form(client, f"/folders/{folder_id}/delete", form_page="/folders")
    page = client.get("/folders").get_data(as_text=True)
    assert "Pharmacy still holds 2 conversation(s). Move them to another folder first" in page
    back = f"/mailbox/folders/{folder_id}"
    post_form(client, "/mailbox/move", {"thread_ids": [str(refill), str(flu)],
                                        "destination": "inbox", "back": back}, form_page=back)
    assert "Refill for blood pressure" in client.get("/mailbox/inbox").get_data(as_text=True)
    post_form(client, f"/folders/{folder_id}/delete", form_page="/folders")
    assert "The folder Pharmacy was removed." in client.get("/folders").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 5  # nothing lost


def test_move_to_deleted_keeps_everything(login, client, app):
    login("veteran1")
    (refill,) = ids(app, "Refill for blood pressure pills")
    post_form(client, "/mailbox/move", {"thread_ids": [str(refill)], "destination": "deleted"},
              form_page="/mailbox/inbox")
    assert "Refill for blood pressure" in client.get("/mailbox/deleted").get_data(as_text=True)
    with app.app_context():
        thread = db.session.get(Thread, refill)
        assert thread.patient_deleted_at is not None and len(thread.messages) == 2


def test_moving_needs_a_selection_and_a_real_destination(login, client, app):
    login("veteran1")
    none = post_form(client, "/mailbox/move", {"destination": "inbox"},
                     form_page="/mailbox/inbox")
    assert none.status_code == 303
    assert "Select at least one conversation" in client.get("/mailbox/inbox").get_data(
        as_text=True)
    (refill,) = ids(app, "Refill for blood pressure pills")
    bad = post_form(client, "/mailbox/move", {"thread_ids": [str(refill)],
                                              "destination": "nowhere"},
                    form_page="/mailbox/inbox")
    assert bad.status_code == 303
    assert "Choose where to move" in client.get("/mailbox/inbox").get_data(as_text=True)
    # someone else's thread or folder: 404, nothing moves
    (change,) = ids(app, "Change of address")
    assert post_form(client, "/mailbox/move", {"thread_ids": [str(change)],
                                               "destination": "deleted"},
                     form_page="/mailbox/inbox").status_code == 404
    evil_back = post_form(client, "/mailbox/move", {
        "thread_ids": [str(refill)], "destination": "inbox", "back": "//evil.example/"},
        form_page="/mailbox/inbox")
    assert evil_back.headers["Location"] == "/mailbox/inbox"
