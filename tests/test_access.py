"""The access-control matrix: every route × (signed out, another patient, staff of another
team) is refused — with 404 for anything the user may not see, in pages and fragments alike."""

import pytest

from smweb.extensions import db
from smweb.models import Draft, Message, Thread
from tests.support import ROUTES, csrf_token, sign_in, user

# The routes, (method, path, endpoint), are tests.support.ROUTES (test_html_valid walks them
# too); the `objects` fixture (conftest.py) gives the ids their paths take.

# Open to anyone: signing in (the code and setup steps check their own pending sign-in),
# signing out, help, static files; "Forgot your password?" and the link it sends (which
# checks its own token: tests/test_password_reset.py); choosing English or Español (a cookie
# before signing in: tests/test_languages.py).
PUBLIC = {"auth.index", "auth.choose_language", "auth.sign_in", "auth.sign_in_code",
          "auth.sign_in_setup",
          "auth.sign_out", "auth.signed_out", "auth.session_status", "auth.help_page",
          "auth.forgot_password", "auth.reset_password", "auth.sign_up_page",
          "auth.confirm_email", "static", "assets.htmx"}

def _patient_side(path: str) -> bool:
    """A route a caregiver reaches for the patient (past the caregiver's gate)."""
    return path.startswith(("/mailbox", "/folders", "/search", "/compose", "/threads",
                            "/drafts", "/attachments"))


# Who must be refused, with what, for each object-bearing or role-bound route.
REFUSALS = [
    # another patient and staff of another team can't see veteran1's thread
    *[(m, p, who, 404) for m, p, _ in ROUTES if "{thread}" in p
      for who in ("veteran2", "cardio1")],
    # ... nor the files sent in it
    *[("GET", "/attachments/{attachment}", who, 404) for who in ("veteran2", "cardio1")],
    # a draft, and the files on it, are its author's alone
    *[(m, p, who, 404) for m, p, _ in ROUTES if "{draft}" in p
      for who in ("veteran2", "nurse1")],
    *[("GET", "/attachments/{draft_attachment}", who, 404)
      for who in ("veteran2", "nurse1")],
    *[(m, p, who, 404) for m, p, _ in ROUTES if "{staff_draft}" in p
      for who in ("veteran1", "doctor1", "cardio1")],
    # administration is for admins only
    *[(m, p, who, 404) for m, p, _ in ROUTES if p.startswith("/admin/")
      for who in ("veteran1", "nurse1", "coordinator1")],
    # a patient's own folders are theirs alone
    *[(m, p, who, 404) for m, p, _ in ROUTES if "{folder}" in p
      for who in ("veteran2", "nurse1")],
    ("POST", "/mailbox/move", "nurse1", 404),
    # a call-back is asked by the thread's own patient, and made by its team
    ("POST", "/threads/{thread}/call-back", "nurse1", 404),
    # the patient's mailbox is not a staff page, and the queue is not a patient's
    ("GET", "/mailbox/inbox", "nurse1", 404),
    ("GET", "/compose", "nurse1", 404),
    *[(m, p, "nurse1", 404) for m, p, _ in ROUTES if p.startswith("/compose/")],
    ("POST", "/compose", "nurse1", 404),
    ("GET", "/triage/", "veteran1", 404),
    ("GET", "/triage/compose", "veteran1", 404),
    ("POST", "/triage/compose", "veteran1", 404),
    # the care team's work on a thread is not the patient's, nor another team's
    *[(m, p, "veteran1", 404) for m, p, _ in ROUTES if p.startswith("/triage/threads/")],
    ("GET", "/triage/records/{record}.json", "veteran1", 404),
    ("GET", "/triage/records/{record}.json", "cardio1", 404),
    ("GET", "/triage/escalations", "nurse1", 404),  # coordinators only
    ("GET", "/triage/audit", "nurse1", 404),
    *[(m, p, who, 404) for m, p, _ in ROUTES if p.startswith("/triage/patients")
      for who in ("nurse1", "veteran1")],
    ("GET", "/triage/audit.csv", "nurse1", 404),
    ("GET", "/triage/audit", "veteran1", 404),
    ("GET", "/triage/escalations", "veteran1", 404),
    ("GET", "/triage/away", "veteran1", 404),
    ("POST", "/triage/away", "veteran1", 404),
    # quick texts are staff's; a team's are kept by its group administrators alone
    *[(m, p, "veteran1", 404) for m, p, _ in ROUTES if p.startswith("/triage/quick-texts")],
    *[(m, p, who, 404) for m, p, _ in ROUTES if "{quick_text}" in p
      for who in ("nurse1", "cardio1")],
    # identity is verified at a desk: coordinators, clerks and group administrators only
    *[(m, p, who, 404) for m, p, _ in ROUTES if p.startswith("/triage/identity")
      for who in ("nurse1", "cardio1", "veteran1", "basic1", "caregiver1", "admin1")],
    # response-time reports are for coordinators and group administrators
    *[(m, p, who, 404) for m, p, _ in ROUTES if p.startswith("/triage/reports")
      for who in ("veteran1", "nurse1", "cardio1")],
    # a caregiver of another patient sees nothing of veteran1's
    *[(m, p, "caregiver2", 404) for m, p, _ in ROUTES
      if any(k in p for k in ("{thread}", "{draft}", "{folder}")) and _patient_side(p)],
    *[("GET", f"/attachments/{{{k}}}", "caregiver2", 404)
      for k in ("attachment", "draft_attachment")],
    # a read-only caregiver posts nothing; an ended caregiver opens nothing
    *[(m, p, "caregiver3", 403) for m, p, _ in ROUTES if m == "POST" and _patient_side(p)],
    *[(m, p, "caregiver4", 403) for m, p, _ in ROUTES if _patient_side(p)],
    # who may act for a patient is the patient's own to say, and only caregivers choose
    *[(m, p, who, 404) for m, p, _ in ROUTES if p.startswith("/caregivers")
      for who in ("caregiver1", "nurse1", "admin1")],
    *[(m, p, "veteran2", 404) for m, p, _ in ROUTES if "{caregiver_link}" in p],
    *[(m, p, who, 404) for m, p, _ in ROUTES if p.startswith("/acting-for")
      for who in ("veteran1", "nurse1")],
    # patient-only routes are refused to a patient who is not allowed messaging
    ("GET", "/threads/{thread}", "basic1", 302),
]


def message_count(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Message.id)))


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC == {endpoint for _, _, endpoint in ROUTES}


@pytest.mark.parametrize(("method", "path", "endpoint"), ROUTES)
def test_signed_out_is_sent_to_sign_in(client, objects, method, path, endpoint):
    url = path.format(**objects)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": csrf_token(client), "body": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(("method", "path", "endpoint"), ROUTES)
def test_signed_out_htmx_gets_401_and_hx_redirect(client, objects, method, path, endpoint):
    url = path.format(**objects)
    headers = {"HX-Request": "true", "HX-Target": "message-list"}
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, headers=headers,
                               data={"csrf_token": csrf_token(client), "body": "x"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in?next=")


@pytest.mark.parametrize(("method", "path", "who", "status"), REFUSALS)
def test_others_are_refused(app, client, objects, method, path, who, status):
    sign_in(client, who)
    url = path.format(**objects)
    before = message_count(app)
    for headers in ({}, {"HX-Request": "true", "HX-Target": "reply-form"}):
        if method == "GET":
            response = client.get(url, headers=headers)
        else:
            token = csrf_token(client, "/")
            response = client.post(url, headers=headers, data={
                "csrf_token": token, "body": "sneaky", "subject": "sneaky",
                "category": "General", "recipient": "1", "action": "send"})
        assert response.status_code == status, (who, url, headers)
        if status == 404:
            html = response.get_data(as_text=True)
            assert "Refill for blood pressure pills" not in html and "Private draft" not in html
            assert "in the thread" not in html and "on my draft" not in html
            if headers:
                assert "<html" not in html and "Page not found" in html
            else:
                assert "<h1>Page not found</h1>" in html
    assert message_count(app) == before
    with app.app_context():
        thread = db.session.get(Thread, objects["thread"])
        assert thread.patient_deleted_at is None
        assert thread.assignee_id is None and thread.status != "completed"
        assert thread.group.name == "Primary Care Team Blue"
        assert db.session.get(Draft, objects["draft"]) is not None


@pytest.mark.parametrize("path", ["/threads/abc", "/threads/-1", "/threads/99999999",
                                  "/drafts/x", "/drafts/424242"])
def test_bad_or_unknown_ids_are_404(login, client, path):
    login("veteran1")
    assert client.get(path).status_code == 404


def test_a_service_says_no_in_its_own_words_outside_the_web(app, objects):
    """Services know nothing of HTTP: a command-line caller gets the domain's refusal, with
    words for a person, and the web answers the same refusal with its status."""
    from smweb.services import access, refusals

    with app.app_context():
        other = user("veteran2")
        with pytest.raises(refusals.NotFound, match="not there, or not one you can open"):
            access.get_thread_for(other, objects["thread"])
        with pytest.raises(refusals.NotFound):
            access.get_thread_for(other, 99999999)
        assert refusals.NotFound.status == 404 and refusals.Forbidden.status == 403
        assert refusals.NotAllowed("no").status == 422


def test_state_never_changes_on_get(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"auth.sign_out"} or "delete" in rule.rule or "reply" in rule.rule \
                or "restore" in rule.rule:
            assert "GET" not in rule.methods, rule.rule
