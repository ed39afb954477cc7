"""A reference number on every message: on the send confirmation, in the thread, on the
print page and in the FHIR export; staff search finds the message by it (the help desk's
first question), and only staff who may see the message."""

import json
import re

import pytest

from smweb.extensions import db
from smweb.models import Message
from smweb.services import references
from tests.support import post_form, send_with_files, sign_in

REFERENCE = re.compile(r"SM-\d{7}-\d")


@pytest.mark.parametrize("message_id", [1, 1234, 9_999_999, 123_456_789])
def test_a_reference_names_its_message_however_it_is_typed(message_id):
    printed = references.of(message_id)
    digits = printed.replace("SM-", "").replace("-", "")
    for typed in (printed, printed.lower(), f" {printed} ", "SM" + digits,
                  f"sm {digits[:-1]} {digits[-1]}", printed[3:]):
        assert references.message_id_of(typed) == message_id, typed


def test_a_misheard_reference_names_nothing():
    printed = references.of(1234)  # SM-0001234-0
    wrong_digit = printed[:-1] + str((int(printed[-1]) + 1) % 10)
    swapped = printed.replace("1234", "1243")
    for typed in (wrong_digit, swapped, "1234", "00012340", "SM-", "", "refill 1234"):
        assert references.message_id_of(typed) is None, typed


def _signed_in(app, username: str):
    """Another browser, signed in as `username` (staff: with the code step)."""
    browser = app.test_client()
    assert sign_in(browser, username).status_code == 303
    return browser


def _sent(client, app, subject="Reference check"):
    """veteran1 sends a message; the page it lands on, and the message's reference."""
    answer = send_with_files(client, app, [], subject=subject, body="A question for the team.")
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        message_id = db.session.scalar(db.select(Message.id).where(
            Message.body == "A question for the team."))
    return page, references.of(message_id)


def test_the_confirmation_the_thread_and_the_print_page_show_it(login, client, app):
    login("veteran1")
    page, reference = _sent(client, app)
    assert "Your message was sent." in page and f"Reference number: {reference}." in page
    thread_path = re.search(r'action="(/threads/\d+)/reply"', page).group(1)
    again = client.get(thread_path).get_data(as_text=True)
    assert f"Reference {reference}" in again  # beside the message, once the notice is gone
    assert "Reference number:" not in again
    printed = client.get(f"{thread_path}/print").get_data(as_text=True)
    assert f"Reference {reference}" in printed


def test_staff_find_the_message_by_its_reference(login, client, app):
    login("veteran1")
    _page, reference = _sent(client, app, subject="Help desk finds me")
    nurse = _signed_in(app, "nurse1")  # on the message's care team
    for typed in (reference, reference.lower().replace("-", " ")):
        found = nurse.get("/search", query_string={"q": typed})
        assert found.status_code == 200
        html = found.get_data(as_text=True)
        assert "Help desk finds me" in html and html.count('class="snippet"') == 1, typed
        assert "Alex Rivera" in html  # the patient wrote it
    wrong = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    assert "No messages match." in nurse.get("/search", query_string={"q": wrong}).text


def test_staff_of_another_team_find_nothing_by_it(login, client, app):
    login("veteran1")
    _page, reference = _sent(client, app, subject="Not for cardiology")
    answer = _signed_in(app, "cardio1").get("/search", query_string={"q": reference})
    assert answer.status_code == 200
    assert "No messages match." in answer.text and "Not for cardiology" not in answer.text


def test_the_fhir_export_carries_each_messages_reference(login, client, app):
    login("veteran1")
    page, reference = _sent(client, app, subject="For the record")
    thread_path = re.search(r'action="(/threads/\d+)/reply"', page).group(1)
    nurse = _signed_in(app, "nurse1")
    assert post_form(nurse, f"/triage{thread_path}/record",
                     form_page=thread_path).status_code == 303
    entry_link = re.search(r'href="(/triage/records/\d+\.json)"',
                           nurse.get(thread_path).text).group(1)
    resource = json.loads(nurse.get(entry_link).data)
    assert resource["identifier"] == [
        {"system": "urn:smweb:message-reference", "value": reference}]
