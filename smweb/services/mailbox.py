"""Folder lists for patients and the staff queue, a page at a time."""

from functools import cache
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
)
from sqlalchemy.orm import aliased

from ..database import read_rows
from ..models import Draft, Facility, Message, Thread, TriageGroup, User
from . import paging
from .paging import Page

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


SORTS = {"newest": "Newest first", "oldest": "Oldest first", "sender": "Sender or care team"}

# The staff member who wrote last (the Inbox's "From").
_LAST_AUTHOR = aliased(User, name="last_team_author")


def _thread_columns(*more):
    """What a row of a thread list shows: named columns, not ORM objects (a list is read on
    every page view and every refresh; building objects for it cost more than the query)."""
    return select(Thread.id, Thread.subject, Thread.category, Thread.unread_for_patient,
                  TriageGroup.name.label("group_name"), Facility.timezone, *more)


def _base(folder: str) -> tuple[Select, Any, Any, Any]:
    """A folder's rows, unordered, and the columns it is sorted by: name (the Inbox's staff
    member, elsewhere the care team), time, and the row's id to break ties."""
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
            query = (
                select(Draft.id, Draft.subject, Draft.category, Draft.updated_at,
                       TriageGroup.name.label("group_name"))
                .outerjoin(TriageGroup, TriageGroup.id == Draft.group_id)
                .where(Draft.author_id == owner)
            )
            # A draft may have no care team yet: '' sorts it first on every database.
            return query, func.coalesce(TriageGroup.name, ""), Draft.updated_at, Draft.id
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
    return query, func.coalesce(name, ""), when, tiebreak


@cache
def _folder_query(folder: str, sort: str, start: str) -> Select:
    """The statement of one folder in one order, built once per process (the patient, the
    folder, the page's starting row are bound when it runs, and SQLAlchemy reuses its
    compiled SQL). `start`: "first" page; rows "after" or "before" a row (keyset: read from
    the index where the page starts, not counted off from the top); or "offset" (an old
    ?page=N link without a row to start from)."""
    query, name, when, tiebreak = _base(folder)
    order = {
        "oldest": ((when, True), (tiebreak, True)),
        "sender": ((name, True), (when, False), (tiebreak, False)),
    }.get(sort, ((when, False), (tiebreak, False)))
    if start in {"after", "before"}:  # "before": read backwards from the row, then turned round
        key = {name: bindparam("k_name", type_=String), when: bindparam("k_when", type_=DateTime),
               tiebreak: bindparam("k_id", type_=Integer)}
        backwards = start == "before"
        query = query.where(paging.beyond(order, [key[c] for c, _up in order], backwards))
        query = query.order_by(*paging.order_by(order, backwards))
    else:
        query = query.order_by(*paging.order_by(order))
    query = query.limit(bindparam("limit"))
    return query.offset(bindparam("offset")) if start == "offset" else query


@cache
def _cursor_query(folder: str) -> Select:
    """The sort values of the row a page starts from, if it is still in this folder."""
    query, name, when, tiebreak = _base(folder)
    return query.with_only_columns(name, when, tiebreak).where(tiebreak == bindparam("cursor"))


def folder_page(patient: User, folder: str, number: int, size: int, sort: str = "newest",
                custom=None, after: int | None = None, before: int | None = None) -> Page:
    """One page of the patient's folder: newest first, oldest first, or by sender (the staff
    member in the Inbox, the care team elsewhere), A to Z. Older pages start after the last
    row shown, newer ones before the first, so any page costs what the first one does."""
    sort = sort if sort in SORTS else "newest"
    params = {"owner_id": patient.id, "limit": size + 1}
    if folder == "custom":
        params["folder_id"] = custom.id
    cursor = after or before
    found = read_rows(_cursor_query(folder), {**params, "cursor": cursor}) if cursor else []

    def first() -> Page:
        return folder_page(patient, folder, 1, size, sort, custom)

    if not found:  # the first page, or the row moved away: start again from the top
        number = max(number, 1) if not cursor else 1
        start = "offset" if number > 1 else "first"  # offset: an old ?page=N link
        if start == "offset":
            params["offset"] = (number - 1) * size
        return paging.counted(read_rows(_folder_query(folder, sort, start), params), size,
                              number, first)
    params |= dict(zip(("k_name", "k_when", "k_id"), found[0], strict=True))
    rows = read_rows(_folder_query(folder, sort, "after" if after else "before"), params)
    return paging.keyed(rows, size, number, after or None, before, first)
