"""Folder lists for patients and the staff queue, a page at a time."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ..clock import utcnow
from ..config import N_
from ..database import read_rows
from ..models import Draft, Facility, Message, Thread, TriageGroup, User, UserSession
from ..models.messaging import thread_size_columns
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
    "inbox": lazy_gettext("Inbox"),
    "sent": lazy_gettext("Sent"),
    "drafts": lazy_gettext("Drafts"),
    "deleted": lazy_gettext("Deleted"),
}


# Shown in the page's language (`label|string|translated`): marked to be extracted.
SORTS = {"newest": N_("Newest first"), "oldest": N_("Oldest first"),
         "sender": N_("Sender or care team")}

# The staff member who wrote last (the Inbox's "From").
_LAST_AUTHOR = aliased(User, name="last_team_author")


def _thread_columns(*more):
    """What a row of a thread list shows: named columns, not ORM objects (a list is read on
    every page view and every refresh; building objects for it cost more than the query)."""
    messages, files = thread_size_columns(Thread.id)
    return select(Thread.id, Thread.subject, Thread.category, Thread.unread_for_patient,
                  TriageGroup.name.label("group_name"), Facility.timezone,
                  messages.label("message_count"), files.label("attachment_count"), *more)


@dataclass(frozen=True)
class _Sorting:
    """How a folder's rows are sorted: by name (the Inbox's staff member, elsewhere the care
    team; '' for a draft without one), by time, and by the row's id to break ties. A link
    to a page names a row's place by its time, id and the id the name comes from (`ref`:
    a staff member or a care team, never a name in a URL); `name_of` looks the name up."""

    name: Any
    when: Any
    id: Any
    ref: Any
    name_of: Callable[[Any], Any]


def _name_of(column) -> Callable[[Any], Any]:
    table = column.class_
    return lambda ref: func.coalesce(select(column).where(table.id == ref).scalar_subquery(), "")


def _base(folder: str) -> tuple[Select, _Sorting]:
    """A folder's rows, unordered (with their place: k_when, k_id, k_ref), and its sorting."""
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
            sorting = _Sorting(author.display_name, Thread.last_team_message_at, Thread.id,
                               Thread.last_team_author_id, _name_of(User.display_name))
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
            sorting = _Sorting(TriageGroup.name, Message.sent_at, Message.id, Thread.group_id,
                               _name_of(TriageGroup.name))
        case "drafts":
            query = (
                select(Draft.id, Draft.subject, Draft.category, Draft.updated_at,
                       TriageGroup.name.label("group_name"))
                .outerjoin(TriageGroup, TriageGroup.id == Draft.group_id)
                .where(Draft.author_id == owner)
            )
            sorting = _Sorting(TriageGroup.name, Draft.updated_at, Draft.id, Draft.group_id,
                               _name_of(TriageGroup.name))
        case "custom" | "deleted":
            placed = ((Thread.folder_id == bindparam("folder_id"),
                       Thread.patient_deleted_at.is_(None)) if folder == "custom"
                      else (Thread.patient_deleted_at.is_not(None),))
            query = _thread_columns(Thread.last_message_at, Thread.folder_id).where(
                Thread.patient_id == owner, *placed)
            sorting = _Sorting(TriageGroup.name, Thread.last_message_at, Thread.id,
                               Thread.group_id, _name_of(TriageGroup.name))
        case _:
            raise ValueError(folder)
    if folder != "drafts":
        query = (query.join(TriageGroup, TriageGroup.id == Thread.group_id)
                 .join(Facility, Facility.id == TriageGroup.facility_id))
    # '' for no name (a draft without a care team) sorts first on every database.
    sorting = replace(sorting, name=func.coalesce(sorting.name, ""))
    query = query.add_columns(sorting.when.label("k_when"), sorting.id.label("k_id"),
                              func.coalesce(sorting.ref, 0).label("k_ref"))
    return query, sorting


def _order(sorting: _Sorting, sort: str) -> tuple:
    """(column, ascending) in the order shown."""
    return {
        "oldest": ((sorting.when, True), (sorting.id, True)),
        "sender": ((sorting.name, True), (sorting.when, False), (sorting.id, False)),
    }.get(sort, ((sorting.when, False), (sorting.id, False)))


def _place(sort: str) -> tuple[tuple[str, type], ...]:
    """A row's place in this order, as its links write it: the row's columns and their kinds
    (by sender, the id the name comes from leads)."""
    place = (("k_when", datetime), ("k_id", int))
    return (("k_ref", int), *place) if sort == "sender" else place


def _place_of(sort: str) -> Callable[[Any], str]:
    names = [name for name, _kind in _place(sort)]
    return lambda row: paging.place([getattr(row, name) for name in names])


@cache
def _folder_query(folder: str, sort: str, start: str) -> Select:
    """The statement of one folder in one order, built once per process (the patient, the
    folder, the page's place are bound when it runs, and SQLAlchemy reuses its compiled
    SQL). `start`: "first" page; rows "after" or "before" a place (keyset: read from the
    index where the page starts, not counted off from the top); or "offset" (an old
    ?page=N link without a place)."""
    query, sorting = _base(folder)
    order = _order(sorting, sort)
    if start in {"after", "before"}:  # "before": read backwards from it, then turned round
        key = {sorting.name: sorting.name_of(bindparam("k_ref", type_=Integer)),
               sorting.when: bindparam("k_when", type_=DateTime),
               sorting.id: bindparam("k_id", type_=Integer)}
        backwards = start == "before"
        query = query.where(paging.beyond(order, [key[c] for c, _up in order], backwards))
        query = query.order_by(*paging.order_by(order, backwards))
    else:
        query = query.order_by(*paging.order_by(order))
    query = query.limit(bindparam("limit"))
    return query.offset(bindparam("offset")) if start == "offset" else query


def folder_page(patient: User, folder: str, number: int, size: int, sort: str = "newest",
                custom=None, after: str | None = None, before: str | None = None) -> Page:
    """One page of the patient's folder: newest first, oldest first, or by sender (the staff
    member in the Inbox, the care team elsewhere), A to Z. Older pages start after the last
    row shown, newer ones before the first (their places are in the links), so any page
    costs what the first one does, and rows that move meanwhile are neither skipped nor
    shown twice on the way."""
    sort = sort if sort in SORTS else "newest"
    params = {"owner_id": patient.id, "limit": size + 1}
    if folder == "custom":
        params["folder_id"] = custom.id
    place = _place(sort)
    after, before, values = paging.starting_place(after, before, [k for _n, k in place])

    def first() -> Page:
        return folder_page(patient, folder, 1, size, sort, custom)

    if values is None:  # the first page, or an old ?page=N link
        number = max(number, 1)
        start = "offset" if number > 1 else "first"
        if start == "offset":
            params["offset"] = (number - 1) * size
        return paging.counted(read_rows(_folder_query(folder, sort, start), params), size,
                              number, first, _place_of(sort))
    params |= {name: value for (name, _kind), value in zip(place, values, strict=True)}
    rows = read_rows(_folder_query(folder, sort, "after" if after else "before"), params)
    return paging.keyed(rows, size, number, after, before, first, _place_of(sort))


# --- "Since you last signed in": the top of the Inbox --------------------------------------

NEW_COUNT_CAP = 100  # "100 or more": counting stops there, so a big mailbox costs no more


@dataclass(frozen=True)
class InboxSummary:
    """What waits for the patient: unread replies by care team, the replies still expected
    (soonest first) and the drafts not sent; and when they signed in before this time."""

    new_by_team: list[tuple[str, int]]
    new_capped: bool  # at least NEW_COUNT_CAP unread: the counts stopped there
    expected: list  # rows: thread id, subject, due_at, team name
    now: datetime  # an expected reply whose due time passed is overdue
    drafts: int
    last_sign_in: datetime | None

    @property
    def empty(self) -> bool:
        return not (self.new_by_team or self.expected or self.drafts)


_UNREAD_TEAMS = (
    select(TriageGroup.name.label("team_name"))
    .select_from(Thread).join(TriageGroup, TriageGroup.id == Thread.group_id)
    .where(Thread.patient_id == bindparam("patient_id"), Thread.unread_for_patient.is_(True),
           Thread.patient_deleted_at.is_(None), Thread.folder_id.is_(None))  # the Inbox's
    .limit(NEW_COUNT_CAP))
_EXPECTED = (
    select(Thread.id, Thread.subject, Thread.due_at, TriageGroup.name.label("team_name"))
    .join(TriageGroup, TriageGroup.id == Thread.group_id)
    .where(Thread.patient_id == bindparam("patient_id"), Thread.due_at.is_not(None),
           Thread.patient_deleted_at.is_(None))
    .order_by(Thread.due_at, Thread.id).limit(5))
_DRAFTS = select(Draft.id).where(Draft.author_id == bindparam("patient_id")).limit(NEW_COUNT_CAP)
_LAST_SIGN_IN = (select(UserSession.created_at)
                 .where(UserSession.user_id == bindparam("patient_id"),
                        UserSession.id != bindparam("session_id"))
                 .order_by(UserSession.created_at.desc()).limit(1))


def _summary_statement():
    """The four reads as one statement (each part its own bounded index range): four
    round trips cost the Inbox 1.7 ms of CPU in `make bench`, one costs a fraction."""
    unread, expected = _UNREAD_TEAMS.subquery(), _EXPECTED.subquery()
    drafts, last = _DRAFTS.subquery(), _LAST_SIGN_IN.subquery()
    return union_all(
        select(literal("new").label("kind"), unread.c.team_name.label("team_name"),
               null().label("thread_id"), null().label("subject"),
               cast(null(), DateTime).label("moment")).select_from(unread),
        select(literal("due"), expected.c.team_name, expected.c.id, expected.c.subject,
               expected.c.due_at).select_from(expected),
        select(literal("drafts"), null(), func.count(), null(), null()).select_from(drafts),
        select(literal("last"), null(), null(), null(), last.c.created_at).select_from(last))


_SUMMARY = _summary_statement()


def summary(patient: User, session_id: int | None) -> InboxSummary:
    """The Inbox's summary for this patient (`session_id`: the session now, not counted as
    the last sign-in). Bounded index ranges, whatever the mailbox's size."""
    rows = read_rows(_SUMMARY, {"patient_id": patient.id, "session_id": session_id or 0})
    by_team: dict[str, int] = {}
    unread = [row.team_name for row in rows if row.kind == "new"]
    for name in unread:
        by_team[name] = by_team.get(name, 0) + 1
    expected = sorted((row for row in rows if row.kind == "due"),
                      key=lambda row: (row.moment, row.thread_id))
    return InboxSummary(
        new_by_team=sorted(by_team.items()), new_capped=len(unread) >= NEW_COUNT_CAP,
        expected=[_Expected(r.thread_id, r.subject, r.moment, r.team_name) for r in expected],
        drafts=next((row.thread_id for row in rows if row.kind == "drafts"), 0),
        last_sign_in=next((row.moment for row in rows if row.kind == "last"), None),
        now=utcnow())


@dataclass(frozen=True)
class _Expected:
    id: int
    subject: str
    due_at: datetime
    team_name: str
