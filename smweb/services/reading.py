"""Opening a thread: what the thread page and its printout show, each read in one call.

A thread's messages are read as rows of named columns (`ShownMessage`), as the lists' rows
are: the statements are built once, the thread's id bound when they run, and a message's
files and education items are read only when the thread has some (the messages' row says
how many), each kind in one statement for the whole thread.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..models import Attachment, Draft, EducationItem, Message, Thread, User, message_education
from . import access, audit, drafts, origin


class ShownMessage(NamedTuple):
    """A message as a thread shows it."""

    id: int
    from_patient: bool
    sent_at: datetime
    body: str
    author_name: str
    sent_by_name: str | None  # a caregiver who wrote it for the patient
    read_by_team_at: datetime | None
    reader_name: str | None  # who on the team opened it first
    read_by_patient_at: datetime | None  # a team message: when the patient opened it
    attachments: list  # rows of _FILES: id, filename, content_type, size, warning
    education_items: list  # rows of _EDUCATION: title, summary, url


_AUTHOR, _READER = aliased(User, name="author"), aliased(User, name="reader")
_SENT_BY = aliased(User, name="sent_by")
_IN_THREAD = Message.thread_id == bindparam("thread_id")
_MESSAGES = (
    select(Message.id, Message.from_patient, Message.sent_at, Message.body,
           _AUTHOR.display_name.label("author_name"),
           _SENT_BY.display_name.label("sent_by_name"), Message.read_by_team_at,
           _READER.display_name.label("reader_name"), Message.read_by_patient_at,
           select(func.count(Attachment.id)).where(Attachment.message_id == Message.id)
           .scalar_subquery().label("files"),
           select(func.count()).where(message_education.c.message_id == Message.id)
           .scalar_subquery().label("items"))
    .join(_AUTHOR, _AUTHOR.id == Message.author_id)
    .outerjoin(_SENT_BY, _SENT_BY.id == Message.sent_by_id)
    .outerjoin(_READER, _READER.id == Message.read_by_team_user_id)
    .where(_IN_THREAD).order_by(Message.sent_at, Message.id)
)
_FILES = (
    select(Attachment.message_id, Attachment.id, Attachment.filename, Attachment.content_type,
           Attachment.size, Attachment.warning)
    .join(Message, Message.id == Attachment.message_id).where(_IN_THREAD)
    .order_by(Attachment.id)
)
_EDUCATION = (
    select(message_education.c.message_id, EducationItem.title, EducationItem.summary,
           EducationItem.url)
    .join(EducationItem, EducationItem.id == message_education.c.item_id)
    .join(Message, Message.id == message_education.c.message_id).where(_IN_THREAD)
    .order_by(EducationItem.title)
)


def messages_of(thread: Thread) -> list[ShownMessage]:
    """The thread's messages, oldest first, with their files and education items."""
    params = {"thread_id": thread.id}
    rows = read_rows(_MESSAGES, params)
    files, items = defaultdict(list), defaultdict(list)
    if any(row.files for row in rows):
        for row in read_rows(_FILES, params):
            files[row.message_id].append(row)
    if any(row.items for row in rows):
        for row in read_rows(_EDUCATION, params):
            items[row.message_id].append(row)
    return [ShownMessage(row.id, row.from_patient, row.sent_at, row.body, row.author_name,
                         row.sent_by_name, row.read_by_team_at, row.reader_name,
                         row.read_by_patient_at, files[row.id], items[row.id])
            for row in rows]


@dataclass(frozen=True)
class OpenedThread:
    thread: Thread
    messages: list[ShownMessage]
    draft: Draft | None  # the reply this user started here and has not sent


def open_thread(user: User, thread_id: int) -> OpenedThread:
    """The thread page: the thread the user may see (404 otherwise), marked opened, its
    messages, and the reply the user left unsent in it; the view audited in the same commit
    as the marks."""
    thread = access.get_thread_for(user, thread_id)
    _mark_opened(user, thread)
    messages = messages_of(thread)
    audit.record("thread_view", user, thread=thread)
    return OpenedThread(thread, messages, drafts.reply_draft_for(user, thread))


def print_thread(user: User, thread_id: int) -> OpenedThread:
    """The thread as a page for printing (no marks: printing is not reading it anew)."""
    thread = access.get_thread_for(user, thread_id)
    messages = messages_of(thread)
    audit.record("thread_print", user, thread=thread)
    return OpenedThread(thread, messages, None)


def _mark_opened(user: User, thread: Thread) -> None:
    """The first team member to open the patient's messages marks them READ (the receipt in
    the patient's Sent folder); the patient opening the team's marks the thread read — not a
    caregiver acting for them: the team's "Read by patient" and the patient's Unread stay
    the patient's own."""
    if user.is_staff and thread.unread_for_team:
        db.session.execute(_MARK_READ_BY_TEAM, {"in_thread": thread.id, "now": utcnow(),
                                                "reader_id": user.id})
        thread.unread_for_team = False
    elif user.id == thread.patient_id and thread.unread_for_patient and \
            origin.current().caregiver_id is None:
        db.session.execute(_MARK_READ_BY_PATIENT, {"in_thread": thread.id, "now": utcnow()})
        thread.unread_for_patient = False


# The patient's messages the team has not opened yet, and the team's the patient has not
# (an UPDATE's own columns' names are not free for parameters: `in_thread`).
_UPDATED_THREAD = Message.thread_id == bindparam("in_thread")
_MARK_READ_BY_TEAM = (
    update(Message).where(_UPDATED_THREAD, Message.from_patient.is_(True),
                          Message.read_by_team_at.is_(None))
    .values(read_by_team_at=bindparam("now"), read_by_team_user_id=bindparam("reader_id")))
_MARK_READ_BY_PATIENT = (
    update(Message).where(_UPDATED_THREAD, Message.from_patient.is_(False),
                          Message.read_by_patient_at.is_(None))
    .values(read_by_patient_at=bindparam("now")))
