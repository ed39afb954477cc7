"""Folder lists for patients and the staff queue, a page at a time."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased, contains_eager, lazyload

from ..extensions import db
from ..models import Draft, Folder, Message, Thread, TriageGroup, User

# What each folder's rows show that can change: a poll compares these (templating.list_version).
SHOWN = {
    "inbox": ("last_team_message_at", "unread_for_patient", "last_team_author_id"),
    "sent": ("read_by_team_at", "reply_due_at"),
    "drafts": ("updated_at", "subject"),
    "deleted": ("last_message_at",),
    "custom": ("last_message_at", "unread_for_patient", "folder_id"),
}

FOLDERS = {
    "inbox": "Inbox",
    "sent": "Sent",
    "drafts": "Drafts",
    "deleted": "Deleted",
}


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.number > 1


def _page(query: Select, number: int, size: int) -> Page:
    # One row more than a page tells whether there is a next one, without counting them all.
    number = max(number, 1)
    rows = list(db.session.scalars(query.limit(size + 1).offset((number - 1) * size)).unique())
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)


SORTS = {"newest": "Newest first", "oldest": "Oldest first", "sender": "Sender or care team"}

# A patient's own lists need neither the patient (it is them) nor the thread's assignee
# (a staff matter): not joining them halves the objects built per row.
_THREAD_ROW = (lazyload(Thread.patient), lazyload(Thread.assignee))

# The staff member who wrote last, joined once (made once: an alias is costly to build, and
# the same one lets SQLAlchemy reuse its compiled statement).
_LAST_AUTHOR = aliased(User, name="last_team_author")


def folder_page(patient: User, folder: str, number: int, size: int,
                sort: str = "newest", custom: Folder | None = None) -> Page:
    """One page of the patient's folder: newest first, oldest first, or by sender (the staff
    member in the Inbox, the care team elsewhere), A to Z."""
    author = _LAST_AUTHOR
    match folder:
        case "inbox":
            query = (
                select(Thread)
                .outerjoin(author, author.id == Thread.last_team_author_id)
                .options(contains_eager(Thread.last_team_author.of_type(author)), *_THREAD_ROW)
                .where(
                    Thread.patient_id == patient.id,
                    Thread.patient_deleted_at.is_(None),
                    Thread.folder_id.is_(None),
                    Thread.last_team_message_at.is_not(None),
                )
            )
            when, name, tiebreak = Thread.last_team_message_at, author.display_name, Thread.id
        case "sent":
            query = (
                select(Message)
                .join(Message.thread)
                .join(TriageGroup, TriageGroup.id == Thread.group_id)
                .options(contains_eager(Message.thread).options(*_THREAD_ROW),
                         lazyload(Message.author))
                .where(
                    Message.author_id == patient.id,
                    Thread.patient_id == patient.id,
                    Thread.patient_deleted_at.is_(None),
                )
            )
            when, name, tiebreak = Message.sent_at, TriageGroup.name, Message.id
        case "drafts":
            query = (
                select(Draft)
                .outerjoin(TriageGroup, TriageGroup.id == Draft.group_id)
                .where(Draft.author_id == patient.id)
            )
            when, name, tiebreak = Draft.updated_at, TriageGroup.name, Draft.id
        case "custom":
            query = (
                select(Thread)
                .join(TriageGroup, TriageGroup.id == Thread.group_id)
                .options(*_THREAD_ROW)
                .where(Thread.patient_id == patient.id, Thread.folder_id == custom.id,
                       Thread.patient_deleted_at.is_(None))
            )
            when, name, tiebreak = Thread.last_message_at, TriageGroup.name, Thread.id
        case "deleted":
            query = (
                select(Thread)
                .join(TriageGroup, TriageGroup.id == Thread.group_id)
                .options(*_THREAD_ROW)
                .where(Thread.patient_id == patient.id, Thread.patient_deleted_at.is_not(None))
            )
            when, name, tiebreak = Thread.last_message_at, TriageGroup.name, Thread.id
        case _:
            raise ValueError(folder)
    if sort == "oldest":
        query = query.order_by(when.asc(), tiebreak.asc())
    elif sort == "sender":
        query = query.order_by(name.asc(), when.desc(), tiebreak.desc())
    else:
        query = query.order_by(when.desc(), tiebreak.desc())
    return _page(query, number, size)
