"""The access-control matrix: every route × (signed out, another patient, staff of another
team) is refused — with 404 for anything the user may not see, in pages and fragments alike."""

import pytest

from smweb.extensions import db
from smweb.models import Draft, Message, Thread, TriageGroup
from smweb.services import attachments, blocking, drafts, folders, messaging, records
from tests.conftest import csrf_token, sign_in, upload, user

# (method, path, endpoint). {thread} is veteran1's Primary Care thread, {draft} a draft of his,
# {attachment} a file sent in that thread, {draft_attachment} one on his draft, and
# {staff_draft} nurse1's unsent message to veteran1.
ROUTES = [
    ("GET", "/mailbox/inbox", "mailbox.folder"),
    ("GET", "/mailbox/folders/{folder}", "mailbox.custom_folder"),
    ("GET", "/folders", "mailbox.manage_folders"),
    ("POST", "/folders", "mailbox.manage_folders"),
    ("POST", "/folders/{folder}/rename", "mailbox.rename_folder"),
    ("POST", "/folders/{folder}/delete", "mailbox.remove_folder"),
    ("POST", "/mailbox/move", "mailbox.move_threads"),
    ("GET", "/search?q=refill", "mailbox.search"),
    ("GET", "/admin/", "admin.index"),
    ("GET", "/admin/health", "admin.health_page"),
    ("GET", "/admin/users/new", "admin.new_user"),
    ("POST", "/admin/users/new", "admin.new_user"),
    ("GET", "/admin/users/{patient}", "admin.edit_user"),
    ("POST", "/admin/users/{patient}", "admin.edit_user"),
    ("POST", "/admin/users/{patient}/password", "admin.reset_password"),
    ("POST", "/admin/facilities", "admin.new_facility"),
    ("POST", "/admin/facilities/1/groups", "admin.new_group"),
    ("GET", "/admin/facilities/1", "admin.edit_facility"),
    ("POST", "/admin/facilities/1", "admin.edit_facility"),
    ("GET", "/compose", "threads.compose"),
    ("POST", "/compose", "threads.compose"),
    ("GET", "/drafts/{draft}", "threads.compose"),
    ("POST", "/drafts/{draft}", "threads.compose"),
    ("POST", "/drafts/{draft}/delete", "threads.delete_draft"),
    ("GET", "/threads/{thread}", "threads.thread"),
    ("GET", "/threads/{thread}/print", "threads.print_thread"),
    ("POST", "/threads/{thread}/reply", "threads.reply"),
    ("GET", "/triage/", "triage.queue"),
    ("GET", "/triage/compose", "threads.staff_compose"),
    ("POST", "/triage/compose", "threads.staff_compose"),
    ("GET", "/triage/drafts/{staff_draft}", "threads.staff_compose"),
    ("POST", "/triage/drafts/{staff_draft}", "threads.staff_compose"),
    ("GET", "/attachments/{attachment}", "threads.download"),
    ("POST", "/triage/threads/{thread}/assign", "triage.assign"),
    ("POST", "/triage/threads/{thread}/reassign", "triage.reassign"),
    ("POST", "/triage/threads/{thread}/complete", "triage.complete"),
    ("POST", "/triage/threads/{thread}/record", "triage.save_to_record"),
    ("GET", "/triage/records/{record}.json", "triage.export_record"),
    ("GET", "/triage/escalations", "triage.escalations"),
    ("GET", "/triage/audit", "triage.audit_trail"),
    ("GET", "/triage/patients", "triage.patients"),
    ("GET", "/triage/patients/{patient}", "triage.patient"),
    ("POST", "/triage/patients/{patient}", "triage.patient"),
    ("POST", "/triage/patients/{patient}/blocks/{block}/lift", "triage.lift_block"),
    ("GET", "/triage/audit.csv", "triage.audit_csv"),
    ("GET", "/triage/away", "triage.away"),
    ("POST", "/triage/away", "triage.away"),
    ("GET", "/attachments/{draft_attachment}", "threads.download"),
    ("GET", "/terms", "auth.terms"),
    ("POST", "/terms", "auth.terms"),
    ("GET", "/preferences", "auth.preferences"),
    ("POST", "/preferences", "auth.preferences"),
    ("POST", "/preferences/opt-out", "auth.opt_out"),
    ("GET", "/premium-required", "auth.premium_required"),
    ("GET", "/account", "auth.account"),
    ("POST", "/account/sign-out-everywhere", "auth.sign_out_everywhere"),
    ("GET", "/account/password", "auth.change_password"),
    ("POST", "/account/password", "auth.change_password"),
    ("GET", "/account/two-step", "auth.two_step_setup"),
    ("POST", "/account/two-step", "auth.two_step_setup"),
    ("POST", "/account/recovery-codes", "auth.new_recovery_codes"),
    ("POST", "/account/two-step/off", "auth.two_step_off"),
    ("POST", "/session/extend", "auth.extend_session"),
    ("POST", "/admin/users/{patient}/sessions/end", "admin.end_sessions"),
    ("POST", "/admin/users/{patient}/two-step/reset", "admin.reset_two_step"),
]
# Open to anyone: signing in (the code and setup steps check their own pending sign-in),
# signing out, help, static files.
PUBLIC = {"auth.index", "auth.sign_in", "auth.sign_in_code", "auth.sign_in_setup",
          "auth.sign_out", "auth.signed_out", "auth.session_status", "auth.help_page",
          "static", "assets.htmx"}

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
    # the patient's mailbox is not a staff page, and the queue is not a patient's
    ("GET", "/mailbox/inbox", "nurse1", 404),
    ("GET", "/compose", "nurse1", 404),
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
    # patient-only routes are refused to a patient who is not allowed messaging
    ("GET", "/threads/{thread}", "basic1", 302),
]


@pytest.fixture
def objects(app):
    with app.app_context():
        thread = db.session.scalar(
            db.select(Thread).where(Thread.subject == "Refill for blood pressure pills"))
        veteran = user("veteran1")
        draft = Draft(author_id=veteran.id, subject="Private draft", body="secret")
        staff_draft = Draft(author_id=user("nurse1").id, subject="Private draft",
                            group_id=thread.group_id, patient_id=veteran.id)
        db.session.add_all([draft, staff_draft])
        db.session.flush()
        attachments.add_files(veteran, draft, [upload("draft-note.txt", b"on my draft")])
        db.session.commit()
        kept = drafts.keep(veteran, None, drafts.DraftFields(
            thread=thread, body="See the file", files=[upload("sent-note.txt", b"in the thread")]))
        assert kept.refused == []
        reply_draft = kept.draft
        message = messaging.reply(veteran, thread, "See the file", draft=reply_draft)
        entry = records.save_to_record(user("nurse1"), thread)
        folder = folders.create(veteran, "Private folder")
        cardiology = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Cardiology"))
        block = blocking.block(user("coordinator1"), veteran, "reply", cardiology.id,
                               "Private reason")
        return {"thread": thread.id, "draft": draft.id, "staff_draft": staff_draft.id,
                "record": entry.id, "folder": folder.id, "patient": veteran.id,
                "block": block.id,
                "attachment": message.attachments[0].id,
                "draft_attachment": draft.attachments[0].id}


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
