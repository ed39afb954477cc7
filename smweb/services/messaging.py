"""Sending, replying, reading and deleting: the rules of the message loop."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import CATEGORIES, Draft, EducationItem, Message, Thread, TriageGroup, User
from ..models.messaging import BODY_MAX, SUBJECT_MAX
from . import access, attachments, audit, blocking, notifications, triage


class NotAllowed(Exception):
    """The rules forbid this; the text says why, in words for the user."""


@dataclass(frozen=True)
class NewMessage:
    group_id: int
    category: str
    subject: str
    body: str


def _check_fields(category: str, subject: str, body: str) -> None:
    # The forms say this to the user first; the service holds the line for every caller.
    if category not in CATEGORIES:
        raise NotAllowed("Choose a category from the list.")
    if not subject.strip() or len(subject) > SUBJECT_MAX:
        raise NotAllowed(f"The subject is required and may be at most {SUBJECT_MAX} characters.")
    if not body.strip() or len(body) > BODY_MAX:
        raise NotAllowed(f"The message is required and may be at most {BODY_MAX} characters.")


def sent_with_key(author: User, form_key: str | None) -> Message | None:
    """The message this author already sent from the form with this key, if any."""
    if not form_key:
        return None
    return db.session.scalar(select(Message).where(
        Message.author_id == author.id, Message.form_key == form_key))


def _add_message(thread: Thread, author: User, body: str, form_key: str | None) -> Message:
    now = utcnow()
    from_patient = author.id == thread.patient_id
    message = Message(
        thread=thread, author_id=author.id, from_patient=from_patient, subject=thread.subject,
        body=body, sent_at=now, form_key=form_key or None,
    )
    db.session.add(message)
    thread.last_message_at = now
    if from_patient:
        thread.last_patient_message_at = now
        thread.unread_for_team = True
        triage.patient_wrote(thread, message, now)
    else:
        thread.last_team_message_at = now
        thread.last_team_author_id = author.id
        thread.unread_for_patient = True
        triage.team_wrote(thread)
    # A new message brings a deleted thread back where the patient will see it.
    thread.patient_deleted_at = None
    return message


def send_new_message(patient: User, new: NewMessage, draft: Draft | None = None,
                     form_key: str | None = None) -> Thread:
    """The patient writes to one of their care teams: a new thread in the team's queue."""
    if not patient.is_patient or not patient.can_use_messaging:
        raise NotAllowed("Your account can't send secure messages.")
    if not access.is_associated(patient.id, new.group_id):
        raise NotAllowed("You can only write to the care teams you are associated with.")
    if blocking.is_blocked_from_all(patient):
        raise NotAllowed(blocking.notice("all"))
    if new.group_id in blocking.blocked_group_ids(patient, "new"):
        raise NotAllowed(blocking.notice("new"))
    _check_fields(new.category, new.subject, new.body)
    thread = Thread(
        patient_id=patient.id,
        group=db.session.get(TriageGroup, new.group_id),
        category=new.category,
        subject=new.subject.strip(),
    )
    db.session.add(thread)
    message = _add_message(thread, patient, new.body, form_key)
    _send_draft_with(message, draft)
    db.session.commit()
    audit.record("message_send", message.author, thread=thread, message_id=message.id)
    notifications.message_sent(message)
    return thread


def _send_draft_with(message: Message, draft: Draft | None) -> None:
    """The draft's attachments go with the message; the draft itself is done."""
    if draft is not None:
        attachments.move_to_message(draft, message)
        db.session.delete(draft)


EDUCATION_PREFIX = "Education: "


def start_thread_to_patient(
    staff: User, patient_id: int, new: NewMessage, draft: Draft | None = None,
    education: list[EducationItem] = (), form_key: str | None = None,
) -> Thread:
    """A staff member writes first to a patient of one of their groups. A message with items
    from the education library is filed under Education, its subject marked so."""
    if not staff.is_staff or not access.is_member(staff.id, new.group_id):
        raise NotAllowed("You can only write for the care teams you belong to.")
    if not access.is_associated(patient_id, new.group_id):
        raise NotAllowed("That patient is not associated with this care team.")
    _check_fields(new.category, new.subject, new.body)
    category, subject = new.category, new.subject.strip()
    if education:
        category = "Education"
        if not subject.startswith("Education:") and \
                len(EDUCATION_PREFIX + subject) <= SUBJECT_MAX:
            subject = EDUCATION_PREFIX + subject
    thread = Thread(
        patient_id=patient_id, group=db.session.get(TriageGroup, new.group_id),
        category=category, subject=subject,
    )
    db.session.add(thread)
    message = _add_message(thread, staff, new.body, form_key)
    message.education_items = list(education)
    _send_draft_with(message, draft)
    db.session.commit()
    audit.record("message_send", message.author, thread=thread, message_id=message.id)
    notifications.message_sent(message)
    return thread


def reply_window_closed(thread: Thread, user: User) -> bool:
    """A patient can't reply once the thread's last message is older than the reply window
    (45 days unless configured); they write a new message instead. Staff always can."""
    if not user.is_patient:
        return False
    window = timedelta(days=current_app.config["REPLY_WINDOW_DAYS"])
    return thread.last_message_at < utcnow() - window


def reply(author: User, thread: Thread, body: str, draft: Draft | None = None,
          education: list[EducationItem] = (), form_key: str | None = None) -> Message:
    """Add a message to a thread: the patient's goes to the same team, the team's to the
    patient. The thread keeps its category and subject."""
    if not access.can_see_thread(author, thread):
        raise NotAllowed("You can't reply to this conversation.")
    if author.is_patient and not author.can_use_messaging:
        raise NotAllowed("Your account can't send secure messages.")
    if author.is_patient and blocking.is_blocked_from_all(author):
        raise NotAllowed(blocking.notice("all"))
    if author.is_patient and thread.group_id in blocking.blocked_group_ids(author, "reply"):
        raise NotAllowed(blocking.notice("reply"))
    if reply_window_closed(thread, author):
        raise NotAllowed("This conversation is too old to reply to. Start a new message.")
    if not body.strip() or len(body) > BODY_MAX:
        raise NotAllowed(f"The message is required and may be at most {BODY_MAX} characters.")
    message = _add_message(thread, author, body, form_key)
    if education and author.is_staff:
        message.education_items = list(education)
    _send_draft_with(message, draft)
    db.session.commit()
    audit.record("message_send", author, thread=thread, message_id=message.id)
    notifications.message_sent(message)
    return message


def mark_opened(user: User, thread: Thread) -> None:
    """Record that the user opened the thread. The first team member to open the patient's
    messages marks them READ — the receipt in the patient's Sent folder."""
    now = utcnow()
    if user.is_staff and thread.unread_for_team:
        for message in thread.messages:
            if message.from_patient and message.read_by_team_at is None:
                message.read_by_team_at = now
                message.read_by_team_user_id = user.id
        thread.unread_for_team = False
        db.session.commit()
    elif user.id == thread.patient_id and thread.unread_for_patient:
        for message in thread.messages:
            if not message.from_patient and message.read_by_patient_at is None:
                message.read_by_patient_at = now
        thread.unread_for_patient = False
        db.session.commit()
