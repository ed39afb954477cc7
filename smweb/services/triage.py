"""The care team's rules: the reply clock on each thread, assignment (with surrogates),
reassignment, completion and escalation of overdue threads. The queue is `queue`."""

from datetime import date, datetime

from sqlalchemy import bindparam, select

from ..clock import to_local, utcnow
from ..database import read_rows
from ..extensions import db
from ..models import (
    Facility,
    Notification,
    StaffAbsence,
    Thread,
    ThreadEvent,
    ThreadStatus,
    TriageGroup,
    User,
    group_members,
)
from . import access, reports, sla
from .refusals import NotAllowed


class TriageError(NotAllowed):
    """A triage action the rules don't allow; the text says why."""


def hours_for(facility: Facility) -> sla.BusinessHours:
    return sla.BusinessHours(facility.timezone, facility.opens_at, facility.closes_at)


# --- the clock ---------------------------------------------------------------------------

def patient_wrote(thread: Thread, message, now: datetime) -> None:
    """A patient's message starts the reply clock (unless an earlier one is still unanswered)
    and reopens a completed or answered thread."""
    hours = hours_for(thread.group.facility)
    if thread.due_at is None:
        thread.due_at = sla.due_at(now, hours)
        thread.warn_at = sla.add_business_time(
            now, hours.day_length * (sla.REPLY_BUSINESS_DAYS - 1), hours)
        thread.escalated_at = None
    message.reply_due_at = thread.due_at
    reports.message_received(thread, message, now, hours)
    if thread.status in (ThreadStatus.WAITING, ThreadStatus.COMPLETED) or thread.status is None:
        thread.status = ThreadStatus.ASSIGNED if thread.assignee_id else ThreadStatus.NEW
        thread.completed_at = None


def team_wrote(thread: Thread, author_id: int, now: datetime) -> None:
    """The team answered: the clock stops and the thread waits on the patient."""
    reports.team_replied(thread, author_id, now, hours_for(thread.group.facility))
    thread.due_at = None
    thread.warn_at = None
    thread.urgent_at = None
    if thread.status != ThreadStatus.COMPLETED:
        thread.status = ThreadStatus.WAITING


def is_overdue(thread: Thread, now: datetime | None = None) -> bool:
    return thread.due_at is not None and thread.due_at <= (now or utcnow())


def is_due_soon(thread: Thread, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (thread.due_at is not None and thread.warn_at is not None
            and thread.warn_at <= now < thread.due_at)


# --- who works the thread ----------------------------------------------------------------

def _event(thread: Thread, actor: User | None, kind: str, **fields) -> ThreadEvent:
    event = ThreadEvent(thread_id=thread.id, actor_id=actor.id if actor else None, kind=kind,
                        **fields)
    db.session.add(event)
    return event


def _require_member(actor: User, thread: Thread) -> None:
    if not access.works_thread(actor, thread):
        raise TriageError("You are not on this thread's care team.")


def surrogate_for(user: User, on: date) -> User | None:
    """Who covers for `user` on that day, if they are away."""
    absence = db.session.scalar(
        select(StaffAbsence).where(
            StaffAbsence.user_id == user.id, StaffAbsence.starts_on <= on,
            StaffAbsence.ends_on >= on,
        ).order_by(StaffAbsence.id.desc())
    )
    return absence.surrogate if absence else None


def assign(actor: User, thread: Thread, assignee: User) -> User:
    """Give the thread to a member of its group (or take it). If that member is away today,
    it goes to their surrogate, and the history says so. Returns who got it."""
    _require_member(actor, thread)
    if not assignee.is_staff or not access.is_member(assignee.id, thread.group_id):
        raise TriageError("Choose a member of this care team.")
    today = to_local(utcnow(), thread.group.facility.timezone).date()
    surrogate = surrogate_for(assignee, today)
    thread.assigned_for_id = assignee.id if surrogate else None
    target = surrogate or assignee
    thread.assignee_id = target.id
    if thread.status in (ThreadStatus.NEW, ThreadStatus.COMPLETED):
        thread.status = ThreadStatus.ASSIGNED if thread.due_at else ThreadStatus.WAITING
        thread.completed_at = None
    note = f"{assignee.display_name} is away; covered by {target.display_name}" \
        if surrogate else None
    _event(thread, actor, "assigned", subject_user_id=target.id, note=note)
    db.session.commit()
    return target


def reassign_group(actor: User, thread: Thread, group: TriageGroup, note: str) -> None:
    """Send the thread to another triage group (same or another facility), with a note the
    patient never sees. The reply clock keeps running; the new group works it."""
    _require_member(actor, thread)
    if group.id == thread.group_id:
        raise TriageError("The thread is already with this care team.")
    if not note.strip():
        raise TriageError("Say why you are sending it to another care team.")
    previous = thread.group_id
    reports.thread_moved(thread, group.id)
    thread.group_id = group.id
    thread.assignee_id = None
    thread.assigned_for_id = None
    if thread.status == ThreadStatus.ASSIGNED:
        thread.status = ThreadStatus.NEW
    _event(thread, actor, "reassigned", group_id=group.id,
           note=f"{note.strip()} (from group {previous})")
    # The patient may now write to the team that holds their thread.
    if not access.is_associated(thread.patient_id, group.id):
        group.patients.append(thread.patient)
    db.session.commit()


def complete(actor: User, thread: Thread) -> None:
    """The team is done with the thread; a new patient message reopens it."""
    _require_member(actor, thread)
    if thread.status == ThreadStatus.COMPLETED:
        raise TriageError("This thread is already completed.")
    thread.status = ThreadStatus.COMPLETED
    thread.completed_at = utcnow()
    thread.due_at = None
    thread.warn_at = None
    thread.urgent_at = None  # done with: off the top of the queue
    reports.thread_completed(thread, thread.completed_at)
    _event(thread, actor, "completed")
    db.session.commit()


# Whom a thread can be given to, as the staff panel offers them: its team's members, or
# another care team (with its facility). Rows of named columns, built once.
_MEMBERS = (
    select(User.id, User.display_name)
    .join(group_members, group_members.c.user_id == User.id)
    .where(group_members.c.group_id == bindparam("group_id")).order_by(User.display_name)
)
_OTHER_TEAMS = (
    select(TriageGroup.id, TriageGroup.name, Facility.name.label("facility_name"))
    .join(Facility, Facility.id == TriageGroup.facility_id)
    .where(TriageGroup.id != bindparam("group_id")).order_by(TriageGroup.name)
)


def assignees(thread: Thread) -> list:
    """The members of the thread's care team: (id, display_name) rows, by name."""
    return read_rows(_MEMBERS, {"group_id": thread.group_id})


def other_teams(thread: Thread) -> list:
    """The care teams it could be sent on to: (id, name, facility_name) rows, by name."""
    return read_rows(_OTHER_TEAMS, {"group_id": thread.group_id})


def history(thread: Thread) -> list[ThreadEvent]:
    return list(db.session.scalars(
        select(ThreadEvent).where(ThreadEvent.thread_id == thread.id)
        .order_by(ThreadEvent.created_at, ThreadEvent.id)
    ))


def set_absence(user: User, surrogate: User, starts_on: date, ends_on: date) -> StaffAbsence:
    """The staff member will be away; `surrogate` (who shares a care team) covers."""
    if surrogate.id == user.id:
        raise TriageError("Choose someone else to cover for you.")
    if ends_on < starts_on:
        raise TriageError("The last day away can't be before the first.")
    shared = set(user.staff_group_ids()) & set(surrogate.staff_group_ids())
    if not surrogate.is_staff or not shared:
        raise TriageError("Your surrogate must be on one of your care teams.")
    absence = StaffAbsence(user_id=user.id, surrogate_id=surrogate.id, starts_on=starts_on,
                           ends_on=ends_on)
    db.session.add(absence)
    db.session.commit()
    return absence


def absences_of(user: User) -> list[StaffAbsence]:
    return list(db.session.scalars(
        select(StaffAbsence).where(StaffAbsence.user_id == user.id)
        .order_by(StaffAbsence.starts_on.desc())
    ))


def covering_for(user: User, on: date) -> list[int]:
    """The staff this user is surrogate for today."""
    return list(db.session.scalars(
        select(StaffAbsence.user_id).where(
            StaffAbsence.surrogate_id == user.id, StaffAbsence.starts_on <= on,
            StaffAbsence.ends_on >= on)
    ))


# --- escalation --------------------------------------------------------------------------

def escalate_overdue(now: datetime | None = None) -> list[Thread]:
    """Mark threads past their reply time escalated, and tell their facility's coordinators.
    Running it again changes nothing more (cron-safe)."""
    now = now or utcnow()
    overdue = list(db.session.scalars(
        select(Thread).where(Thread.status.in_(ThreadStatus.OPEN), Thread.due_at <= now,
                             Thread.escalated_at.is_(None))
        .with_for_update(of=Thread, skip_locked=True)
    ))
    for thread in overdue:
        thread.escalated_at = now
        _event(thread, None, "escalated", subject_user_id=thread.assignee_id,
               group_id=thread.group_id)
        coordinators = db.session.scalars(
            select(User).where(User.coordinator_of_id == thread.group.facility_id,
                               User.disabled.is_(False)))
        for coordinator in coordinators:
            exists = db.session.scalar(select(Notification.id).where(
                Notification.user_id == coordinator.id, Notification.thread_id == thread.id,
                Notification.kind == "escalation"))
            if exists is None:
                db.session.add(Notification(user_id=coordinator.id, thread_id=thread.id,
                                            kind="escalation", created_at=now))
    db.session.commit()
    return overdue


def escalations_for(coordinator: User) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == coordinator.id,
                                   Notification.kind == "escalation")
        .order_by(Notification.created_at.desc()).limit(200)
    ))
