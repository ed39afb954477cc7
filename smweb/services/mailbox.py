"""Folder lists for patients and the staff queue, a page at a time."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased

from ..database import read_rows
from ..models import Draft, Facility, Message, Thread, TriageGroup, User

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


SORTS = {"newest": "Newest first", "oldest": "Oldest first", "sender": "Sender or care team"}

# The staff member who wrote last (the Inbox's "From").
_LAST_AUTHOR = aliased(User, name="last_team_author")


def _thread_columns(*more):
    """What a row of a thread list shows: named columns, not ORM objects (a list is read on
    every page view and every refresh; building objects for it cost more than the query)."""
    return select(Thread.id, Thread.subject, Thread.category, Thread.unread_for_patient,
                  TriageGroup.name.label("group_name"), Facility.timezone, *more)


@cache
def _folder_query(folder: str, sort: str) -> Select:
    """The statement of one folder in one order, built once per process: the patient, the
    folder and the page are bound when it runs (and SQLAlchemy reuses its compiled SQL)."""
    owner = bindparam("owner_id")
    author = _LAST_AUTHOR
    match folder:
        case "inbox":
            query = (
                _thread_columns(Thread.last_team_message_at, Thread.last_team_author_id,
                                author.display_name.label("author_name"))
                .outerjoin(author, author.id == Thread.last_team_author_id)
                .where(Thread.patient_id == owner, Thread.patient_deleted_at.is_(None),
                       Thread.folder_id.is_(None), Thread.last_team_message_at.is_not(None))
            )
            when, name, tiebreak = Thread.last_team_message_at, author.display_name, Thread.id
        case "sent":
            query = (
                select(Message.id, Message.thread_id, Thread.subject, Thread.category,
                       Message.sent_at, Message.read_by_team_at, Message.reply_due_at,
                       Thread.last_team_message_at, TriageGroup.name.label("group_name"),
                       Facility.timezone, Facility.phone)
                .join(Thread, Thread.id == Message.thread_id)
                .where(Message.author_id == owner, Thread.patient_id == owner,
                       Thread.patient_deleted_at.is_(None))
            )
            when, name, tiebreak = Message.sent_at, TriageGroup.name, Message.id
        case "drafts":
            return _order(
                select(Draft.id, Draft.subject, Draft.category, Draft.updated_at,
                       TriageGroup.name.label("group_name"))
                .outerjoin(TriageGroup, TriageGroup.id == Draft.group_id)
                .where(Draft.author_id == owner),
                sort, Draft.updated_at, TriageGroup.name, Draft.id)
        case "custom" | "deleted":
            placed = ((Thread.folder_id == bindparam("folder_id"),
                       Thread.patient_deleted_at.is_(None)) if folder == "custom"
                      else (Thread.patient_deleted_at.is_not(None),))
            query = _thread_columns(Thread.last_message_at, Thread.folder_id).where(
                Thread.patient_id == owner, *placed)
            when, name, tiebreak = Thread.last_message_at, TriageGroup.name, Thread.id
        case _:
            raise ValueError(folder)
    query = (query.join(TriageGroup, TriageGroup.id == Thread.group_id)
             .join(Facility, Facility.id == TriageGroup.facility_id))
    return _order(query, sort, when, name, tiebreak)


def _order(query: Select, sort: str, when, name, tiebreak) -> Select:
    if sort == "oldest":
        query = query.order_by(when.asc(), tiebreak.asc())
    elif sort == "sender":
        query = query.order_by(name.asc(), when.desc(), tiebreak.desc())
    else:
        query = query.order_by(when.desc(), tiebreak.desc())
    return query.limit(bindparam("limit")).offset(bindparam("offset"))


def folder_page(patient: User, folder: str, number: int, size: int,
                sort: str = "newest", custom=None) -> Page:
    """One page of the patient's folder: newest first, oldest first, or by sender (the staff
    member in the Inbox, the care team elsewhere), A to Z."""
    number = max(number, 1)
    params = {"owner_id": patient.id, "limit": size + 1, "offset": (number - 1) * size}
    if folder == "custom":
        params["folder_id"] = custom.id
    rows = read_rows(_folder_query(folder, sort if sort in SORTS else "newest"), params)
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)
