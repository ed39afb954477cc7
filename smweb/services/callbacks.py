"""Call-backs: once a thread's reply time has passed, its patient may ask for a phone call
(a number and good times). The request tops the team's queue and the facility coordinator's
escalations until someone on the team marks it called back; the patient sees it was asked."""

import re
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..models import CallBack, Thread, ThreadEvent, TriageGroup, User
from . import access
from .refusals import NotAllowed

PHONE_DIGITS = (7, 15)
_PHONE_CHARACTERS = re.compile(r"^[0-9 ()+.\-]+$")


class CallBackError(NotAllowed):
    """A call-back the rules don't allow, or a number we can't call; the text says why."""


def open_for(thread: Thread) -> CallBack | None:
    """The thread's call-back asked for and not yet made, if any."""
    return db.session.scalar(select(CallBack).where(
        CallBack.thread_id == thread.id, CallBack.done_at.is_(None)))


def may_ask(patient: User, thread: Thread, now: datetime | None = None) -> bool:
    """The thread's patient, its reply time passed, no call-back already waiting."""
    return (patient.is_patient and thread.patient_id == patient.id
            and thread.due_at is not None and thread.due_at <= (now or utcnow())
            and open_for(thread) is None)


def ask(patient: User, thread_id: int, phone: str, good_times: str) -> CallBack:
    """The patient asks the team to call: the number is checked; the team's queue and the
    coordinators' escalations list it until it is made."""
    thread = access.get_thread_for(patient, thread_id)
    phone, good_times = phone.strip(), good_times.strip()
    if not may_ask(patient, thread):
        waiting = open_for(thread)
        if waiting is not None and waiting.phone == phone:
            return waiting  # the same ask again (a double tap): it is there
        if waiting is not None:
            raise CallBackError(gettext("You already asked for a phone call on this "
                                        "conversation, at %(phone)s.", phone=waiting.phone))
        raise CallBackError(gettext("You can ask for a phone call once the reply time has "
                                    "passed."))
    digits = sum(c.isdigit() for c in phone)
    if not _PHONE_CHARACTERS.match(phone) or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        raise CallBackError(gettext("Enter a phone number the team can call, for example "
                                    "555-123-4567."))
    if len(good_times) > 100:
        raise CallBackError(gettext("Say when to call in at most %(num)d characters.",
                                    num=100))
    call_back = CallBack(thread_id=thread.id, phone=phone, good_times=good_times,
                         created_at=utcnow())
    db.session.add(call_back)
    db.session.add(ThreadEvent(thread_id=thread.id, actor_id=patient.id,
                               kind="call_back_asked"))
    try:
        db.session.commit()
    except IntegrityError:  # asked twice at once: the other request's is the one
        db.session.rollback()
        if (waiting := open_for(thread)) is not None:
            return waiting
        raise
    return call_back


def called_back(staff: User, thread_id: int) -> None:
    """Someone on the team called the patient back."""
    thread = access.get_thread_for(staff, thread_id)
    if not access.works_thread(staff, thread):
        raise CallBackError("Only the thread's care team calls the patient back.")
    call_back = open_for(thread)
    if call_back is None:
        raise CallBackError("No phone call is waiting on this thread.")
    call_back.done_at, call_back.done_by_id = utcnow(), staff.id
    db.session.add(ThreadEvent(thread_id=thread.id, actor_id=staff.id, kind="called_back"))
    db.session.commit()


# The call-backs waiting, of some teams: the queue's and the escalations' top list.
_WAITING = (
    select(CallBack.id, CallBack.thread_id, CallBack.phone, CallBack.good_times,
           CallBack.created_at, Thread.subject, User.display_name.label("patient_name"),
           TriageGroup.name.label("team_name"))
    .join(Thread, Thread.id == CallBack.thread_id)
    .join(User, User.id == Thread.patient_id)
    .join(TriageGroup, TriageGroup.id == Thread.group_id)
    # The few waiting first, then their threads by id: SQLite, left to itself, reads the
    # team's every thread by its group index and looks each up here.
    .with_hint(Thread, "NOT INDEXED", "sqlite")
    .where(CallBack.done_at.is_(None),
           Thread.group_id.in_(bindparam("groups", expanding=True)))
    .order_by(CallBack.created_at, CallBack.id))


def waiting_for(group_ids) -> list:
    """The call-backs still to make for these care teams, oldest first."""
    if not group_ids:
        return []
    return read_rows(_WAITING, {"groups": list(group_ids)})


def waiting_at_facility(coordinator: User) -> list:
    if coordinator.coordinator_of_id is None:
        return []
    return waiting_for(db.session.scalars(select(TriageGroup.id).where(
        TriageGroup.facility_id == coordinator.coordinator_of_id)).all())
