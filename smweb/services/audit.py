"""Recording the audit trail: ids, times and places only — never message text."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, insert, select

from ..clock import parse_date_range, utcnow
from ..database import read_rows, write
from ..extensions import db
from ..models import (
    AuditEvent,
    Facility,
    Thread,
    TriageGroup,
    User,
    group_members,
    patient_groups,
)
from . import origin, spreadsheet
from .paging import Page

ACTIONS = {
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "sign_out": "Signed out",
    "thread_view": "Opened a thread",
    "thread_print": "Printed a thread",
    "attachment_download": "Downloaded an attachment",
    "message_send": "Sent a message",
    "record_save": "Saved to the medical record",
    "record_export": "Exported a record entry",
    "audit_export": "Exported the audit trail",
    "block": "Restricted a patient",
    "unblock": "Lifted a restriction",
    "account_change": "Changed an account's role, level or state",
    "membership_change": "Changed an account's care teams",
    "password_reset": "Reset a password",
    "account_create": "Created an account",
    "sign_in_locked": "Sign-in refused: too many failures",
    "password_change": "Changed own password",
    "two_step_on": "Turned on two-step verification",
    "two_step_off": "Turned off two-step verification",
    "recovery_codes": "Made new recovery codes",
    "sessions_end": "Ended sessions",
    "search": "Searched messages",
    "note_add": "Added a staff note",
    "caregiver_add": "Gave a caregiver access",
    "caregiver_change": "Changed a caregiver's access",
    "caregiver_end": "Ended a caregiver's access",
    "password_reset_link": "Chose a new password by an email link",
    "sign_up": "Signed up",
    "email_confirm": "Confirmed an email address",
    "identity_verify": "Verified a patient's identity in person",
}


def _first_facility(link) -> object:
    """The facility of a person's first care team, through `link` (patients' or staff's)."""
    person = link.c.patient_id if link is patient_groups else link.c.user_id
    return (select(TriageGroup.facility_id).join(link, link.c.group_id == TriageGroup.id)
            .where(person == bindparam("user_id")).limit(1))


# Built once: every search and sign-in asks.
_PATIENTS_FACILITY = _first_facility(patient_groups)
_STAFFS_FACILITY = _first_facility(group_members)


def _facility_of(user: User | None) -> int | None:
    """The facility a person belongs to, for events that name no thread (sign-in)."""
    if user is None:
        return None
    if user.coordinator_of_id:
        return user.coordinator_of_id
    found = read_rows(_PATIENTS_FACILITY if user.is_patient else _STAFFS_FACILITY,
                      {"user_id": user.id})
    return found[0].facility_id if found else None


def record(action: str, actor: User | None = None, **about) -> None:
    """Append one event and commit it, with whatever the access itself marked (a view, a
    download, a search; a thread opened is marked read in the same commit). Ids only: the
    trail never holds message text (nor the words searched for)."""
    add(action, actor, **about)
    # Committed without expiring what the request has read: the page recorded here (a
    # thread, a search's results) is rendered next from the rows already loaded, not read
    # again row by row. Nothing else changed them in between: they are as current as before.
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def add(action: str, actor: User | None = None, *, thread: Thread | None = None,
        message_id: int | None = None, attachment_id: int | None = None,
        record_entry_id: int | None = None, patient_id: int | None = None,
        target_user: User | None = None, result_count: int | None = None) -> None:
    """Append one event to the caller's transaction: an action and its audit row commit
    together, or neither does."""
    assert action in ACTIONS, action
    if thread is not None:
        patient_id = thread.patient_id
        facility_id = thread.group.facility_id
    elif target_user is not None:  # an administrative change to someone's account
        facility_id = _facility_of(target_user)
        if facility_id is None and actor is not None and actor.is_staff:
            # a patient of no care team yet (just verified at a desk): the staff's facility
            facility_id = _facility_of(actor)
        if target_user.is_patient:
            patient_id = target_user.id
    else:
        facility_id = _facility_of(actor)
    if patient_id is None and actor is not None and actor.is_patient:
        patient_id = actor.id
    came_from = origin.current()
    actor_id = actor.id if actor else None
    if came_from.caregiver_id is not None and actor is not None and actor.is_patient:
        actor_id = came_from.caregiver_id  # the caregiver did it, for the patient
    # One INSERT statement, not an object for the session to track and flush: nothing reads
    # the row back in the request that writes it.
    write(_APPEND, {
        "at": utcnow(), "action": action, "actor_id": actor_id,
        "patient_id": patient_id, "facility_id": facility_id,
        "thread_id": thread.id if thread else None, "message_id": message_id,
        "attachment_id": attachment_id, "record_entry_id": record_entry_id,
        "result_count": result_count, "ip": came_from.ip, "user_agent": came_from.user_agent,
    })


_APPEND = insert(AuditEvent.__table__)


@dataclass
class AuditFilter:
    user: str = ""
    patient: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None


# The filter form's fields: what the trail's page links carry.
FIELDS = ("user", "patient", "action", "start", "end")


def parse_filter(args) -> tuple[AuditFilter, dict[str, str]]:
    errors = {}
    found = AuditFilter(user=args.get("user", "").strip()[:64],
                        patient=args.get("patient", "").strip()[:64],
                        action=args.get("action", ""))
    if found.action and found.action not in ACTIONS:
        errors["action"] = "Choose an action from the list."
        found.action = ""
    found.start, found.end, date_errors = parse_date_range(args)
    return found, errors | date_errors


def _query(viewer: User, chosen: AuditFilter):
    """Coordinators see their facility's trail; admins see all of it."""
    query = select(AuditEvent)
    if not viewer.is_admin:
        query = query.where(AuditEvent.facility_id == viewer.coordinator_of_id)
    if chosen.user:
        actor = select(User.id).where(User.username == chosen.user.lower())
        query = query.where(AuditEvent.actor_id.in_(actor))
    if chosen.patient:
        patient = select(User.id).where(User.username == chosen.patient.lower())
        query = query.where(AuditEvent.patient_id.in_(patient))
    if chosen.action:
        query = query.where(AuditEvent.action == chosen.action)
    if chosen.start:
        query = query.where(AuditEvent.at >= datetime.combine(chosen.start, time(0)))
    if chosen.end:
        query = query.where(AuditEvent.at < datetime.combine(chosen.end + timedelta(days=1),
                                                             time(0)))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def trail_page(coordinator: User, chosen: AuditFilter, number: int, size: int) -> Page:
    """A page of the coordinator's facility's trail, newest first (dates are UTC)."""
    number = max(number, 1)
    rows = list(db.session.scalars(_query(coordinator, chosen).limit(size + 1)
                                   .offset((number - 1) * size)))
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)


def trail_csv(coordinator: User, chosen: AuditFilter, limit: int = 100_000) -> str:
    """The filtered trail as CSV (UTC times, ids only; safe to open in a spreadsheet)."""
    return spreadsheet.to_csv(
        ["id", "at_utc", "action", "actor", "patient", "thread_id", "message_id",
         "attachment_id", "record_entry_id", "ip", "user_agent", "result_count"],
        ([event.id, event.at.isoformat() + "Z", event.action,
          event.actor.username if event.actor else "",
          event.patient.username if event.patient else "",
          event.thread_id or "", event.message_id or "",
          event.attachment_id or "", event.record_entry_id or "",
          event.ip, event.user_agent,
          "" if event.result_count is None else event.result_count]
         for event in db.session.scalars(_query(coordinator, chosen).limit(limit))))


def facility_name(facility_id: int) -> str:
    facility = db.session.get(Facility, facility_id)
    return facility.name if facility else ""
