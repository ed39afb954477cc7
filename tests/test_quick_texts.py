"""Quick texts: staff keep their own and group administrators their team's; staff insert one
into a reply or a new message with the placeholders filled in, without JavaScript (Insert
posts the form, which comes back with the text added) and with htmx (the form in place).
Nothing typed is lost, nothing is sent, and patients never reach any of it."""

import html
import re

from smweb.extensions import db
from smweb.models import Message, QuickText, Thread
from tests.support import csrf_token, htmx_fragment, post_form, sign_in, user

REFILL = "Refill for blood pressure pills"  # veteran1 (Alex Rivera) to Primary Care Team Blue


def _ids(app):
    with app.app_context():
        thread = db.session.scalar(db.select(Thread.id).where(Thread.subject == REFILL))
        texts = {t.title: t.id for t in db.session.scalars(db.select(QuickText))}
        return thread, texts


def _textarea(page: str, name: str = "body") -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1)).strip()


def _messages(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Message.id)))


def test_the_reply_form_offers_the_staff_members_and_the_teams(login, client, app):
    tid, _texts = _ids(app)
    login("nurse1")
    page = client.get(f"/threads/{tid}").text
    assert '<label class="field__label" for="reply-form-quick-text">Quick text</label>' in page
    assert '<optgroup label="Yours"><option' in page and ">Call me back</option>" in page
    assert '<optgroup label="Primary Care Team Blue">' in page
    assert ">Lab results normal</option>" in page
    assert "Cardiology" not in page.split('id="reply-form-quick-text"')[1].split("</select>")[0]


def test_insert_without_javascript_adds_the_filled_text_and_sends_nothing(login, client, app):
    tid, texts = _ids(app)
    login("nurse1")
    before = _messages(app)
    answer = post_form(client, f"/threads/{tid}/reply", {
        "body": "Thanks for writing.", "action": "insert",
        "quick_text": str(texts["Lab results normal"])}, form_page=f"/threads/{tid}")
    assert answer.status_code == 303 and answer.location.endswith(f"/threads/{tid}")
    page = client.get(answer.location).text
    assert "The quick text was added at the end of your message. It has not been sent yet." \
        in page
    assert _textarea(page) == (
        "Thanks for writing.\n\nHello Alex, your recent lab results are normal and need no "
        "action. If you have questions, call Primary Care Team Blue at 555-0100.\n"
        "Nurse Pat Lee, RN")
    assert _messages(app) == before  # kept as the reply's draft, not sent


def test_insert_with_htmx_answers_with_the_form(login, client, app):
    tid, texts = _ids(app)
    login("nurse1")
    answer = post_form(client, f"/threads/{tid}/reply", {
        "body": "", "action": "insert", "quick_text": str(texts["Call me back"])},
        form_page=f"/threads/{tid}", headers=htmx_fragment("reply-form"))
    assert answer.status_code == 200
    fragment = answer.text
    assert fragment.lstrip().startswith('<form id="reply-form"') and "<html" not in fragment
    assert _textarea(fragment) == (
        "Please call me at 555-0100 when you can. If I am not there, the team will help.")
    assert answer.headers["HX-Replace-Url"] == f"/threads/{tid}"


def test_insert_with_nothing_chosen_says_so_and_keeps_the_text(login, client, app):
    tid, _texts = _ids(app)
    login("nurse1")
    answer = post_form(client, f"/threads/{tid}/reply",
                       {"body": "Half a thought", "action": "insert", "quick_text": ""},
                       form_page=f"/threads/{tid}")
    assert answer.status_code == 422
    assert "Choose a quick text to insert." in answer.text
    assert _textarea(answer.text) == "Half a thought"


def test_a_new_message_needs_its_patient_before_a_quick_text(login, client, app):
    _tid, texts = _ids(app)
    login("nurse1")
    with app.app_context():
        veteran = user("veteran1").id
        blue = db.session.scalar(db.select(Thread.group_id).where(Thread.subject == REFILL))
    fields = {"category": "General", "subject": "Your labs", "body": "", "action": "insert",
              "quick_text": str(texts["Refill sent to pharmacy"])}
    answer = post_form(client, "/triage/compose", {**fields, "recipient": ""},
                       form_page="/triage/compose")
    assert answer.status_code == 422
    assert "Choose the patient first, then insert the quick text." in answer.text
    assert 'value="Your labs"' in answer.text  # the subject typed is kept
    answer = post_form(client, "/triage/compose", {**fields, "recipient": f"{blue}:{veteran}"},
                       form_page="/triage/compose")
    assert answer.status_code == 303
    page = client.get(answer.location).text
    assert _textarea(page).startswith("Hello Alex, we sent your refill to the pharmacy.")
    assert _textarea(page).endswith("Nurse Pat Lee, RN, Primary Care Team Blue")


def test_staff_keep_their_own_and_placeholders_are_checked(login, client, app):
    login("nurse1")
    page = client.get("/triage/quick-texts")
    assert page.status_code == 200 and "<h1>Quick texts</h1>" in page.text
    assert "{patient_first_name}" in page.text  # the placeholders are listed
    assert "Everyone on Primary Care Team Blue" not in page.text  # nurse1 keeps no team's
    refused = post_form(client, "/triage/quick-texts", {
        "title": "Greeting", "body": "Dear {patient_name}, thanks.", "team": "0"},
        form_page="/triage/quick-texts")
    assert refused.status_code == 422
    assert "Unknown placeholder {patient_name}." in html.unescape(refused.text)
    assert _textarea(refused.text) == "Dear {patient_name}, thanks."  # kept to correct
    saved = post_form(client, "/triage/quick-texts", {
        "title": "Greeting", "body": "Dear {patient_first_name}, thanks.", "team": "0"},
        form_page="/triage/quick-texts")
    assert saved.status_code == 303
    listing = client.get("/triage/quick-texts").text
    assert "The quick text is saved." in listing and "Dear {patient_first_name}, thanks." \
        in listing
    with app.app_context():
        greeting = db.session.scalar(db.select(QuickText).where(QuickText.title == "Greeting"))
        assert greeting.owner_id == user("nurse1").id and greeting.group_id is None
        blue = db.session.scalar(db.select(Thread.group_id).where(Thread.subject == REFILL))
    # a team nurse1 does not keep, named by hand
    refused = post_form(client, "/triage/quick-texts", {
        "title": "Team", "body": "Hello.", "team": str(blue)},
        form_page="/triage/quick-texts")
    assert refused.status_code == 422
    assert "Choose one of the care teams you keep quick texts for." in refused.text


def test_a_group_administrator_keeps_the_teams(login, client, app):
    _tid, texts = _ids(app)
    login("doctor1")  # group administrator of Primary Care Team Blue
    page = client.get("/triage/quick-texts").text
    assert "Everyone on Primary Care Team Blue" in page
    change = f"/triage/quick-texts/{texts['Lab results normal']}"
    assert client.get(change).status_code == 200
    saved = post_form(client, change, {"title": "Lab results normal",
                                       "body": "Your labs are fine, {patient_first_name}.",
                                       "team": str(_blue(app))}, form_page=change)
    assert saved.status_code == 303
    assert post_form(client, f"{change}/delete", form_page="/triage/quick-texts") \
        .status_code == 303
    with app.app_context():
        assert db.session.get(QuickText, texts["Lab results normal"]) is None


def _blue(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Thread.group_id).where(Thread.subject == REFILL))


def test_who_may_not_reach_quick_texts(app):
    tid, texts = _ids(app)
    team_text, own_text = texts["Lab results normal"], texts["Call me back"]  # nurse1's own
    cases = [
        ("veteran1", "GET", "/triage/quick-texts"),
        ("veteran1", "POST", "/triage/quick-texts"),
        ("veteran1", "POST", f"/threads/{tid}/reply"),  # an Insert press from a patient
        ("cardio1", "GET", f"/triage/quick-texts/{team_text}"),  # another team's
        ("nurse1", "GET", f"/triage/quick-texts/{team_text}"),  # her team's, not hers to keep
        ("nurse1", "POST", f"/triage/quick-texts/{team_text}/delete"),
        ("doctor1", "GET", f"/triage/quick-texts/{own_text}"),  # a colleague's own
        ("doctor1", "POST", f"/triage/quick-texts/{own_text}/delete"),
    ]
    for username, method, path in cases:
        browser = app.test_client()
        assert sign_in(browser, username).status_code == 303
        if method == "GET":
            answer = browser.get(path)
        else:
            answer = browser.post(path, data={
                "csrf_token": csrf_token(browser, "/account"), "action": "insert",
                "quick_text": str(team_text), "body": "x"})
        assert answer.status_code == 404, (username, method, path)
    # the cardiology doctor can't insert Blue's text into Cardiology's threads either
    with app.app_context():
        echo = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Echo results question"))
    browser = app.test_client()
    sign_in(browser, "cardio1")
    answer = post_form(browser, f"/threads/{echo}/reply", {
        "body": "x", "action": "insert", "quick_text": str(team_text)},
        form_page=f"/threads/{echo}")
    assert answer.status_code == 404
