"""Words of an emergency in a patient's message: Send stops at a page that says to call 911,
the crisis line or the team, with nothing sent and what was typed kept; "Send my message
anyway" sends it, flagged possible urgent at the top of the team's queue until the team
answers. Matched on whole words, in the usual English variants."""

import html
import re

import pytest

from smweb.extensions import db
from smweb.models import Draft, Message, Thread, TriageGroup
from smweb.services.urgent import words_in
from tests.support import htmx_fragment, sign_in, user

PHRASES = ["chest pain", "can't breathe", "cannot breathe", "stroke", "suicidal", "overdose",
           "kill myself"]


@pytest.mark.parametrize("text, found", [
    ("I have had CHEST PAIN since last night", ["chest pain"]),
    ("chest pains when I walk", ["chest pain"]),
    ("I can't breathe at night", ["can't breathe"]),
    ("I can’t breathe", ["can't breathe"]),  # a phone's curly apostrophe
    ("i cant breathe", ["can't breathe"]),
    ("I cannot  breathe", ["cannot breathe"]),
    ("Chest\npain and I feel suicidal", ["chest pain", "suicidal"]),
    ("He had a stroke.", ["stroke"]),
    ("I overdosed on my pills", ["overdose"]),
    ("I think I am overdosing", ["overdose"]),
    ("I cant breath at night", ["can't breathe"]),  # the usual misspelling
    ("I'm thinking about killing myself", ["kill myself"]),
    ("I feel sui\u00adcidal", ["suicidal"]),  # a soft hyphen pasted in
    ("I breathed fine, no chest", []),
    ("My painting class; a brushstroke", []),  # never inside another word
    ("chest painful", []),
    ("pain in my chest", []),
    ("", []),
])
def test_phrases_are_found_as_whole_words(app, text, found):
    with app.app_context():
        assert words_in(text, PHRASES) == found


@pytest.mark.parametrize("text, found", [
    ("Desde anoche tengo DOLOR DE PECHO", ["dolor de pecho"]),
    ("siento presion en el pecho", ["presión en el pecho"]),  # typed without the accent
    ("No puedo respirar bien", ["no puedo respirar"]),
    ("Tomé una sobredosis de pastillas", ["sobredosis"]),
    ("Ayer tuve convulsiones", ["convulsión"]),  # a plural, without the accent
    ("Quiero renovar mi receta de la presión", []),
    ("Creo que es un infarto", ["infarto"]),
    ("Los infartos de mi padre", ["infarto"]),
])
def test_the_default_list_catches_spanish_too(app, text, found):
    with app.app_context():
        assert words_in(text) == found


def test_the_sites_list_is_configuration(app):
    with app.app_context():
        assert "chest pain" in app.config["URGENT_WORDS"]
        assert words_in("I think I am having a heart attack") == ["heart attack"]
        assert words_in("some days I want to die") == ["want to die"]


def _form(page: str) -> dict:
    return {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1],
        "form_key": re.search(r'name="form_key" type="hidden" value="([0-9a-f]{32})"', page)[1],
    }


def _blue(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue"))


BODY = "I have chest pain when I climb stairs."


def _messages(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Message.id)))


@pytest.mark.parametrize("headers", [None, htmx_fragment("compose-form")],
                         ids=["no-js", "htmx"])
def test_send_stops_at_the_warning_and_send_anyway_flags_it(app, headers):
    patient = app.test_client()
    assert sign_in(patient, "veteran1").status_code == 303
    fields = {**_form(patient.get("/compose").text), "recipient": str(_blue(app)),
              "category": "General", "subject": "Stairs", "body": BODY}
    before = _messages(app)
    stopped = patient.post("/compose", data={**fields, "action": "send"}, headers=headers)
    assert stopped.status_code == 200
    text = html.unescape(stopped.text)
    assert "If this is an emergency, don't wait for a reply" in text
    assert "Your message mentions “chest pain”" in text
    assert "<strong>Call 911</strong>" in text and "dial 988 then press 1" in text
    assert "To talk to Primary Care Team Blue, call <strong>555-0100</strong>" in text
    assert "Your message has not been sent." in text
    assert 'value="send_anyway"' in text and BODY in text  # what was typed, still there
    assert _messages(app) == before
    with app.app_context():  # kept as a draft: Back or a reload finds it
        assert db.session.scalar(db.select(Draft.body).where(
            Draft.author_id == user("veteran1").id, Draft.form_key == fields["form_key"])) \
            == BODY

    sent = patient.post("/compose", data={**fields, "action": "send_anyway"}, headers=headers)
    assert sent.status_code in (200, 303)
    assert _messages(app) == before + 1
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.subject == "Stairs"))
        assert thread.urgent_at is not None
        thread_id = thread.id

    nurse = app.test_client()
    assert sign_in(nurse, "nurse1").status_code == 303
    queue = nurse.get("/triage/").text
    assert "Possible urgent (1)" in queue
    assert queue.index("Possible urgent (1)") < queue.index("<table")  # above the list
    assert f'href="/threads/{thread_id}">Stairs</a>' in queue
    assert "Possible urgent" in nurse.get(f"/threads/{thread_id}").text  # in the panel
    page = nurse.get(f"/threads/{thread_id}").text
    answer = nurse.post(f"/threads/{thread_id}/reply", data={
        **_form(page), "action": "send", "body": "Please call 911 now if it is happening."})
    assert answer.status_code == 303
    assert "Possible urgent" not in nurse.get("/triage/").text  # answered: off the top


def test_a_reply_with_urgent_words_stops_too_and_staff_are_never_stopped(app):
    patient = app.test_client()
    assert sign_in(patient, "veteran1").status_code == 303
    with app.app_context():
        thread_id = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Refill for blood pressure pills"))
    page = patient.get(f"/threads/{thread_id}").text
    stopped = patient.post(f"/threads/{thread_id}/reply", data={
        **_form(page), "action": "send", "body": "Now I can't breathe well."})
    assert stopped.status_code == 200
    assert "Your message mentions “can't breathe”" in html.unescape(stopped.text)
    nurse = app.test_client()
    assert sign_in(nurse, "nurse1").status_code == 303
    page = nurse.get(f"/threads/{thread_id}").text
    sent = nurse.post(f"/threads/{thread_id}/reply", data={
        **_form(page), "action": "send", "body": "If you have chest pain, call 911."})
    assert sent.status_code == 303  # staff write about emergencies: never stopped


def test_a_completed_thread_leaves_the_top_of_the_queue(app):
    patient = app.test_client()
    assert sign_in(patient, "veteran1").status_code == 303
    fields = {**_form(patient.get("/compose").text), "recipient": str(_blue(app)),
              "category": "General", "subject": "Breathing", "body": "I can't breathe well."}
    assert patient.post("/compose", data={**fields, "action": "send_anyway"}).status_code \
        == 303
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.subject == "Breathing"))
        first_flag, thread_id = thread.urgent_at, thread.id
    again = patient.get(f"/threads/{thread_id}").text
    patient.post(f"/threads/{thread_id}/reply", data={
        **_form(again), "action": "send_anyway", "body": "Still can't breathe."})
    with app.app_context():  # the first flag's time stays: oldest first in the list
        assert db.session.get(Thread, thread_id).urgent_at == first_flag
    nurse = app.test_client()
    assert sign_in(nurse, "nurse1").status_code == 303
    assert "Possible urgent (1)" in nurse.get("/triage/").text
    page = nurse.get(f"/threads/{thread_id}").text
    done = nurse.post(f"/triage/threads/{thread_id}/complete",
                      data={"csrf_token": _form(page)["csrf_token"]})
    assert done.status_code == 303
    assert "Possible urgent" not in nurse.get("/triage/").text
