"""What the tests share, imported from here (never from conftest.py or another test module):
signing in and posting forms as a browser does, htmx's headers, files to upload, factories for
the people, care teams and threads a test needs, the app's clock as a test moves it, work run
in several threads at once, and the access matrix's routes. The fixtures are in conftest.py."""

import io
import itertools
import os
import re
import threading
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import event
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from smweb import clock as app_clock
from smweb.extensions import db
from smweb.models import (
    Caregiver,
    Draft,
    Facility,
    QuickText,
    Role,
    Thread,
    TriageGroup,
    User,
    group_members,
)
from smweb.models.people import AccountLevel
from smweb.services import (
    attachments,
    blocking,
    caregivers,
    demo,
    drafts,
    folders,
    messaging,
    records,
    twofactor,
)
from smweb.services.accounts import create_user

# --- signing in and posting forms, as a browser does -----------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def user(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


def csrf_token(client, path: str = "/sign-in") -> str:
    """The token a browser would find on the page at `path`."""
    page = client.get(path, follow_redirects=True)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1) or match.group(2)


def forget_used_codes(app, username: str) -> None:
    """A TOTP code is accepted once: tests that sign the same account in several times within
    30 seconds forget the last one used first, as 30 seconds passing would."""
    with app.app_context():
        db.session.execute(
            db.update(User).where(User.username == username).values(totp_last_counter=None))
        db.session.commit()
        db.session.remove()


def demo_code() -> str:
    """What the demo staff accounts' authenticator app shows now (the app's now: a test may
    have set the clock)."""
    return pyotp.TOTP(demo.DEMO_TOTP_SECRET).at(app_clock.utcnow().replace(tzinfo=UTC))


def sign_in(client, username: str, password: str = demo.DEMO_PASSWORD, **form):
    """Sign in as a browser does: the password, then (staff) the code from the app."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, **form})
    if response.status_code == 303 and response.location.startswith("/sign-in/code"):
        forget_used_codes(client.application, username)
        response = client.post("/sign-in/code", data={
            "code": demo_code(), "csrf_token": csrf_token(client, "/sign-in/code")})
    return response


def set_up_two_step(client, app, username: str):
    """A first staff sign-in's setup step, as a person with the app does: the key shown on
    the page goes into the app, whose code is typed back."""
    page = client.get("/sign-in/setup").get_data(as_text=True)
    key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page).group(1)
    return client.post("/sign-in/setup", data={
        "code": pyotp.TOTP(key.replace(" ", "")).now(),
        "csrf_token": csrf_token(client, "/sign-in/setup")})


def post_form(client, path: str, data: dict | None = None, form_page: str | None = None,
              headers: dict | None = None):
    """POST like the browser: with the CSRF token of the signed-in page it came from."""
    token = csrf_token(client, form_page or "/")
    return client.post(path, data={**(data or {}), "csrf_token": token}, headers=headers)


# --- htmx's requests ---------------------------------------------------------------------------

def htmx_fragment(target: str) -> dict:
    """Headers of an htmx request that swaps the element with this id (a poll or a form)."""
    return {"HX-Request": "true", "HX-Target": target}


BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "body"}


# --- files -------------------------------------------------------------------------------------

def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    """A file as the browser sends it in a multipart form."""
    return FileStorage(io.BytesIO(data), filename=name, content_type=content_type)


def files_on_disk(app) -> list[str]:
    """The names in the attachment store, sorted."""
    return sorted(os.listdir(app.config["ATTACHMENTS_DIR"]))


def send_with_files(client, app, files, action="send", path="/compose", headers=None, **fields):
    """The compose form, posted as a browser does: multipart, with the files chosen (name,
    content), to Primary Care Team Blue unless `recipient` says otherwise."""
    with app.app_context():
        blue = db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue"))
    data = {"recipient": str(blue), "category": "Test results",
            "subject": "My results", "body": "Please look at these.", "action": action,
            "csrf_token": csrf_token(client, path), **fields}
    form = MultiDict(data)
    for name, content in files:
        form.add("attachments", FileStorage(io.BytesIO(content), filename=name))
    # Encoded in memory: the test client's own encoder leaves a temp file open for large bodies.
    boundary, body = encode_multipart(form)
    return client.post(path, data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


# --- factories: people, care teams, threads (in an app context; each one committed) ------------

_serial = itertools.count(1)  # names no other row of the test has (tables are emptied per test)


def care_team(name: str | None = None, facility: Facility | None = None,
              timezone: str = "America/New_York") -> TriageGroup:
    """A care team, at `facility` or at a facility of its own (in `timezone`)."""
    n = next(_serial)
    if facility is None:
        facility = Facility(name=f"Test Medical Center {n}", timezone=timezone,
                            phone="555-0199")
    team = TriageGroup(facility=facility, name=name or f"Test Care Team {n}")
    db.session.add(team)
    db.session.commit()
    return team


def patient(*teams: TriageGroup, name: str | None = None, username: str | None = None,
            premium: bool = True, opted_in: bool = True) -> User:
    """A patient of these care teams, who may use messaging (premium, opted in) unless told
    otherwise; signs in with the demo password."""
    n = next(_serial)
    person = create_user(
        username or f"patient{n}", demo.DEMO_PASSWORD, name or f"Test Patient {n}",
        role=Role.PATIENT,
        account_level=AccountLevel.PREMIUM if premium else AccountLevel.BASIC,
        opted_in_at=app_clock.utcnow() if opted_in else None)
    person.care_groups.extend(teams)
    db.session.commit()
    return person


def staff(*teams: TriageGroup, name: str | None = None, username: str | None = None,
          role: str = "nurse") -> User:
    """A staff member on these care teams, with `role` in each (models.people.MEMBER_ROLES);
    signs in with the demo password and the demo authenticator key, as the demo staff do."""
    n = next(_serial)
    person = create_user(username or f"staff{n}", demo.DEMO_PASSWORD,
                         name or f"Test Staff {n}", role=Role.STAFF)
    twofactor.enrol_with_secret(person, demo.DEMO_TOTP_SECRET)
    person.staff_groups.extend(teams)
    db.session.flush()
    if teams and role != "nurse":  # "nurse" is the column's default
        db.session.execute(db.update(group_members).where(
            group_members.c.user_id == person.id).values(role=role))
    db.session.commit()
    return person


def new_thread(patient: User | str = "veteran1",
               team: TriageGroup | str = "Primary Care Team Blue",
               subject: str = "Question about my knee", body: str = "It hurts when I walk.",
               category: str = "General") -> Thread:
    """A patient's new message to a care team, through the real service. `patient` and `team`
    are a User and a TriageGroup, or a demo username and a demo team's name."""
    if isinstance(patient, str):
        patient = user(patient)
    if isinstance(team, str):
        team = db.session.scalar(db.select(TriageGroup).where(TriageGroup.name == team))
    return messaging.send_new_message(
        patient, messaging.NewMessage(team.id, category, subject, body)).thread


# --- time --------------------------------------------------------------------------------------

class Clock:
    """Time as all of smweb reads it (smweb.clock.utcnow), moved on by a test: the `clock`
    fixture puts `now` in smweb.clock's one patch point."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen: datetime | None = None

    def now(self) -> datetime:
        start = app_clock.system_utcnow() if self.frozen is None else self.frozen
        return start + self.offset

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        """From now on it is `moment` (naive UTC), standing still until set or advanced."""
        self.frozen, self.offset = moment, timedelta()


# --- several at once ---------------------------------------------------------------------------

def at_once(app, work, times: int = 2, timeout: float = 60) -> list:
    """Run `work` in `times` threads released together, each in its own app context, as
    workers or servers would; returns what each returned. A thread's exception fails the
    test here rather than vanishing with its thread."""
    start = threading.Barrier(times)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(work())
            except Exception as error:  # re-raised below, in the test's own thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return results


# --- reading pages -----------------------------------------------------------------------------

def table_row(html: str, text: str) -> str:
    """The <tr> of a table that holds `text`."""
    at = html.index(text)
    return html[html.rindex("<tr", 0, at):html.index("</tr>", at)]


def count_statements(app, client, path) -> int:
    """How many SQL statements a GET of `path` costs (it must answer 200)."""
    with app.app_context():
        engine = db.engine
    statements = []

    def record(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


# --- the access matrix: every route, and an object of each kind for its path ------------------

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
    ("GET", "/admin/?q=rivera", "admin.index"),
    ("GET", "/admin/?q=riv&after=1", "admin.index"),
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
    ("POST", "/triage/threads/{thread}/notes", "triage.add_note"),
    ("POST", "/triage/threads/{thread}/called-back", "triage.called_back"),
    ("POST", "/threads/{thread}/call-back", "threads.ask_for_call_back"),
    ("GET", "/triage/records/{record}.json", "triage.export_record"),
    ("GET", "/triage/escalations", "triage.escalations"),
    ("GET", "/triage/audit", "triage.audit_trail"),
    ("GET", "/triage/patients", "triage.patients"),
    ("GET", "/triage/patients?q=rivera", "triage.patients"),
    ("GET", "/triage/patients?q=riv&after=1", "triage.patients"),
    ("GET", "/triage/patients/{patient}", "triage.patient"),
    ("POST", "/triage/patients/{patient}", "triage.patient"),
    ("POST", "/triage/patients/{patient}/blocks/{block}/lift", "triage.lift_block"),
    ("GET", "/triage/audit.csv", "triage.audit_csv"),
    ("GET", "/triage/identity", "triage.identity_search"),
    ("GET", "/triage/identity?q=rivera", "triage.identity_search"),
    ("GET", "/triage/identity/{patient}", "triage.identity_patient"),
    ("POST", "/triage/identity/{patient}", "triage.identity_patient"),
    ("GET", "/compose/find-your-team", "threads.find_your_team"),
    ("GET", "/compose/renewal", "threads.compose_request"),
    ("POST", "/compose/renewal", "threads.compose_request"),
    ("GET", "/compose/appointment", "threads.compose_request"),
    ("POST", "/compose/appointment", "threads.compose_request"),
    ("GET", "/triage/reports", "triage.reports_page"),
    ("GET", "/triage/reports?start=2026-11-01&end=2026-11-30", "triage.reports_page"),
    ("GET", "/triage/reports.csv", "triage.reports_csv"),
    ("GET", "/triage/away", "triage.away"),
    ("POST", "/triage/away", "triage.away"),
    ("GET", "/triage/quick-texts", "triage.quick_texts_page"),
    ("POST", "/triage/quick-texts", "triage.quick_texts_page"),
    ("GET", "/triage/quick-texts/{quick_text}", "triage.quick_texts_page"),
    ("POST", "/triage/quick-texts/{quick_text}", "triage.quick_texts_page"),
    ("POST", "/triage/quick-texts/{quick_text}/delete", "triage.delete_quick_text"),
    ("GET", "/attachments/{draft_attachment}", "threads.download"),
    ("GET", "/terms", "auth.terms"),
    ("POST", "/terms", "auth.terms"),
    ("GET", "/preferences", "auth.preferences"),
    ("POST", "/preferences", "auth.preferences"),
    ("POST", "/preferences/opt-out", "auth.opt_out"),
    ("GET", "/premium-required", "auth.premium_required"),
    ("GET", "/confirm-email", "auth.confirm_email_sent"),
    ("POST", "/confirm-email", "auth.confirm_email_sent"),
    ("GET", "/account", "auth.account"),
    ("GET", "/caregivers", "auth.caregivers_page"),
    ("POST", "/caregivers", "auth.caregivers_page"),
    ("POST", "/caregivers/{caregiver_link}/access", "auth.change_caregiver_access"),
    ("POST", "/caregivers/{caregiver_link}/end", "auth.end_caregiver_access"),
    ("GET", "/acting-for", "auth.acting_for"),
    ("POST", "/acting-for", "auth.acting_for"),
    ("POST", "/account/sign-out-everywhere", "auth.sign_out_everywhere"),
    ("GET", "/account/password", "auth.change_password"),
    ("POST", "/account/password", "auth.change_password"),
    ("GET", "/account/two-step", "auth.two_step_setup"),
    ("POST", "/account/two-step", "auth.two_step_setup"),
    ("POST", "/account/recovery-codes", "auth.new_recovery_codes"),
    ("POST", "/account/two-step/off", "auth.two_step_off"),
    ("POST", "/session/extend", "auth.extend_session"),
    ("POST", "/admin/users/{patient}/sessions/end", "admin.end_sessions"),
    ("POST", "/admin/users/{patient}/caregivers", "admin.link_caregiver"),
    ("POST", "/admin/users/{patient}/caregivers/{caregiver_link}/end", "admin.end_caregiver"),
    ("POST", "/admin/users/{patient}/two-step/reset", "admin.reset_two_step"),
]


def route_objects() -> dict[str, int]:
    """The ids ROUTES' paths take (in an app context): veteran1's Primary Care thread with a
    file sent in it, his draft with a file on it, nurse1's unsent message to him, his record
    entry, his folder, his block from Cardiology."""
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
    quick_text = db.session.scalar(db.select(QuickText.id).where(  # Blue's, doctor1 keeps it
        QuickText.title == "Lab results normal"))
    # Caregivers: caregiver1 reads and writes for veteran1 (the demo's); caregiver2 acts for
    # another patient (veteran2), caregiver3 for veteran1 read only, caregiver4 no longer.
    caregiver_link = db.session.scalar(db.select(Caregiver.id).where(
        Caregiver.caregiver_id == user("caregiver1").id))
    for name, patient, may_write in (("caregiver2", "veteran2", True),
                                     ("caregiver3", "veteran1", False),
                                     ("caregiver4", "veteran1", True)):
        helper = create_user(name, demo.DEMO_PASSWORD, name.title(), role=Role.CAREGIVER)
        db.session.flush()
        caregivers.add(user(patient), name, may_write, by=user(patient))
    caregivers.end(db.session.scalar(db.select(Caregiver).where(
        Caregiver.caregiver_id == helper.id)), by=veteran)
    return {"thread": thread.id, "draft": draft.id, "staff_draft": staff_draft.id,
            "quick_text": quick_text, "caregiver_link": caregiver_link,
            "record": entry.id, "folder": folder.id, "patient": veteran.id,
            "block": block.id,
            "attachment": message.attachments[0].id,
            "draft_attachment": draft.attachments[0].id}
