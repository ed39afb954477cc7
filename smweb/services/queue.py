"""The care team's queue: the threads of a staff member's care teams, by filter (all open,
unassigned, mine, consults asked of them, due soon, overdue, not read by the patient,
completed) and by sort, a page at a time, with each tab's count.

The filters are data (`_parts`); paging is `paging`'s keyset paging, read in segments. How
the queries are shaped for the databases' planners, once:

- **A filter is a list of parts, each one index range** (see `Thread.__table_args__`): its
  conditions start with equalities on the index's leading columns (team or assignee, then
  status), so a part is read in the sort's order and stops after a page. No database merges
  several ranges in order on its own (`group_id IN (...)` makes it sort every row), so the
  query takes a page from each part and merges those few rows (`UNION ALL`, each part its own
  subquery: SQLite allows no ORDER BY or LIMIT on a UNION's part).
- **A sort is one or more segments, each an index order**: "soonest due" lists the threads
  with a reply due (by due time), then those without (newest first). Ordering by `due_at IS
  NULL` would sort every row; two segments are two ranges read in turn, and a page's place
  names its segment first.
- **Columns a range holds at NULL lead the ORDER BY** (the unassigned filter's assignee, the
  second segment's due time), in the index's column order and the scan's direction: the order
  is the same, and PostgreSQL, which matches an index to an ORDER BY only past `=` conditions,
  not `IS NULL` ones, then reads the range in index order instead of filtering the team's
  newest threads.
- **Due soon and overdue, by newest or oldest, sort the due-time range** (the few threads the
  team must answer now) on `coalesce(last_message_at, due_at)` (equal to last_message_at,
  never NULL): no index serves it, so no planner picks a scan of the team's newest threads
  that filters on the due time (PostgreSQL did, for the `waiting` range, which holds no due
  time, and read all of it); its columns are in ix_threads_queue_due, which covers the query.
- **Counts stop at COUNT_CAP + 1** (`UNION ALL ... LIMIT` over the same parts), so the tabs
  cost the same for a team of 100 threads or 50,000.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import DateTime, Integer, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..models import (
    Facility,
    Message,
    StaffAbsence,
    StaffNote,
    Thread,
    ThreadStatus,
    TriageGroup,
    User,
    group_members,
)
from ..models.messaging import thread_size_columns
from . import paging
from .paging import Page

# What a queue row shows that can change: a poll compares these (templating.list_version).
SHOWN = ("status", "due_at", "warn_at", "assignee_id", "unread_for_team", "unread_for_patient",
         "last_message_at", "escalated_at", "group_id")

FILTERS = {
    "open": "All open",
    "unassigned": "Unassigned",
    "mine": "Assigned to me",
    "consults": "Consults",
    "due-soon": "Due soon",
    "overdue": "Overdue",
    "unread-by-patient": "Not read by patient",
    "completed": "Completed",
}
# "Not read by patient": answered, and the patient has not opened the answer in this long.
UNREAD_BY_PATIENT_AFTER = timedelta(days=3)

SORTS = {"due": "Soonest due", "newest": "Newest first", "oldest": "Oldest first",
         "patient": "Patient, A to Z"}

# A filter's tab counts its threads up to this many, then says "100+".
COUNT_CAP = 100
# A ?page=N without a place (an old link, or a tab open across an upgrade) is served with
# OFFSET, which reads every row before the page: only this many pages deep.
OFFSET_PAGES = 10


@dataclass(frozen=True)
class Scope:
    """Whose queue it is: the staff member, their care teams, and whose threads are theirs."""

    staff_id: int
    group_ids: tuple[int, ...]
    mine_ids: tuple[int, ...]  # the staff member and the colleagues they cover for today


def scope_of(staff: User, now: datetime | None = None) -> Scope:
    """The staff member's care teams and the colleagues they cover for today, in one query."""
    now = now or utcnow()
    rows = db.session.execute(
        select(literal("group").label("kind"), group_members.c.group_id.label("id"))
        .where(group_members.c.user_id == staff.id)
        .union_all(
            select(literal("covered"), StaffAbsence.user_id).where(
                StaffAbsence.surrogate_id == staff.id, StaffAbsence.starts_on <= now.date(),
                StaffAbsence.ends_on >= now.date()))
    ).all()
    groups = sorted({row.id for row in rows if row.kind == "group"})
    covered = sorted({row.id for row in rows if row.kind == "covered"} - {staff.id})
    return Scope(staff.id, tuple(groups), (staff.id, *covered))


# Built once: a new alias per request rebuilds its columns and cache key every time.
_PATIENT = aliased(User, name="patient")
_ASSIGNEE = aliased(User, name="assignee")
_COVERED = aliased(Thread, name="covered")


# The threads a patient sent past the warning about words of an emergency, not yet answered
# (services/urgent.py): shown above every tab. Few, read from ix_threads_urgent.
_POSSIBLY_URGENT = (
    select(Thread.id, Thread.subject, Thread.urgent_at,
           _PATIENT.display_name.label("patient_name"))
    .join(_PATIENT, _PATIENT.id == Thread.patient_id)
    # SQLite, left to itself, reads the team's every thread by its group index (40 ms for
    # 25,000 threads, in make bench): this range holds only the flagged.
    .with_hint(Thread, "INDEXED BY ix_threads_urgent", "sqlite")
    .where(Thread.urgent_at.is_not(None),
           Thread.group_id.in_(bindparam("groups", expanding=True)))
    .order_by(Thread.urgent_at, Thread.id).limit(50))


def possibly_urgent(scope: Scope) -> list:
    """The staff member's teams' threads flagged possible urgent, oldest first."""
    if not scope.group_ids:
        return []
    return read_rows(_POSSIBLY_URGENT, {"groups": list(scope.group_ids)})


@dataclass(frozen=True)
class _Shape:
    """What a queue statement's shape depends on: how many care teams and how many people's
    threads are "mine". The ids themselves, the time and the page's place are bound when it
    runs, so each shape's statements are built once per process (functools.cache) and
    SQLAlchemy reuses their compiled SQL."""

    groups: int
    mine: int


def _shape(scope: Scope) -> _Shape:
    return _Shape(len(scope.group_ids), len(scope.mine_ids))


def _params(scope: Scope, now: datetime) -> dict:
    """The values a statement of this scope's shape is run with."""
    return ({f"g{i}": g for i, g in enumerate(scope.group_ids)}
            | {f"m{i}": m for i, m in enumerate(scope.mine_ids)}
            | {"staff_id": scope.staff_id, "group_ids": list(scope.group_ids),
               "mine_ids": list(scope.mine_ids), "now": now,
               "unread_since": now - UNREAD_BY_PATIENT_AFTER})


def _parts(shape: _Shape, filter_name: str) -> list[list]:
    """A filter as its parts: each a list of conditions that is one index range."""
    groups = [bindparam(f"g{i}") for i in range(shape.groups)]
    now = bindparam("now", type_=DateTime)
    if filter_name == "completed":
        return [[Thread.group_id == g, Thread.status == ThreadStatus.COMPLETED] for g in groups]
    if filter_name == "consults":
        # Threads of any team a colleague asked this staff member about, still unanswered
        # (few: ix_staff_notes_open_consults), picked by id.
        return [[Thread.id.in_(select(StaffNote.thread_id).where(
            StaffNote.asked_id == bindparam("staff_id"), StaffNote.answered_at.is_(None)))]]
    if filter_name == "mine":
        parts = [[Thread.assignee_id == bindparam(f"m{a}"), Thread.group_id == g,
                  Thread.status == s]
                 for a in range(shape.mine) for g in groups for s in ThreadStatus.OPEN]
        # Threads a surrogate works while this staff member is away are theirs too (few:
        # one absence's worth); a thread the first parts already hold is not listed twice.
        # All in a subquery on ix_threads_assigned_for, picked by id: given a team and status
        # outside it, SQLite (no statistics) would read the team's whole range instead.
        covered = _COVERED
        mine_ids = bindparam("mine_ids", expanding=True)
        parts.append([Thread.id.in_(select(covered.id).where(
            covered.assigned_for_id == bindparam("staff_id"),
            covered.status.in_(ThreadStatus.OPEN),
            covered.group_id.in_(bindparam("group_ids", expanding=True)),
            or_(covered.assignee_id.is_(None), covered.assignee_id.not_in(mine_ids))))])
        return parts if groups else []
    extra = {
        "open": [],
        "unassigned": [Thread.assignee_id.is_(None)],  # ix_threads_queue_assignee_*
        "due-soon": [Thread.due_at > now, Thread.warn_at <= now],
        "overdue": [Thread.due_at <= now],
    }.get(filter_name)
    if extra is None:  # "unread-by-patient": ix_threads_queue_unread_patient
        return [[Thread.group_id == g, Thread.status == ThreadStatus.WAITING,
                 Thread.unread_for_patient.is_(True),
                 Thread.last_team_message_at <= bindparam("unread_since", type_=DateTime)]
                for g in groups]
    return [[Thread.group_id == g, Thread.status == s, *extra]
            for g in groups for s in ThreadStatus.OPEN]


def counts(staff: User, now: datetime | None = None,
           scope: Scope | None = None) -> dict[str, int]:
    """How many threads each filter holds, for its tab: counted up to COUNT_CAP + 1 (more
    than COUNT_CAP is shown as "100+"), in one query."""
    now = now or utcnow()
    scope = scope or scope_of(staff, now)
    params = _params(scope, now) | {"cap": COUNT_CAP + 1}
    row = read_rows(_counts_query(_shape(scope)), params)[0]
    return {name: int(value) for name, value in zip(FILTERS, row, strict=True)}


@cache
def _counts_query(shape: _Shape):
    columns = []
    for name in FILTERS:
        parts = _parts(shape, name)
        if not parts:
            columns.append(literal(0).label(f"c{len(columns)}"))
            continue
        capped = union_all(*[select(Thread.id).where(*part) for part in parts]) \
            .limit(bindparam("cap", type_=Integer)).subquery()
        columns.append(select(func.count()).select_from(capped).scalar_subquery()
                       .label(f"c{len(columns)}"))
    return select(*columns)


# Each sort's columns as (name, ascending). "patient" is the patient's name: a place holds
# the patient's id (no name in a URL) and the query looks the name up.
_ORDERS = {
    "due": (("due_at", True), ("last_message_at", False), ("id", False)),
    "newest": (("last_message_at", False), ("id", False)),
    "oldest": (("last_message_at", True), ("id", True)),
    "patient": (("patient", True), ("last_message_at", False), ("id", False)),
}
_COLUMNS = {"due_at": Thread.due_at, "last_message_at": Thread.last_message_at,
            "id": Thread.id, "patient": _PATIENT.display_name}


@dataclass(frozen=True)
class _Segment:
    condition: object  # which threads it holds (None: all of the filter's)
    order: tuple  # its columns as (name, ascending)

    @property
    def kinds(self) -> list[type]:
        return [int if name in ("id", "patient") else datetime for name, _up in self.order]


def _segments(sort: str, filter_name: str) -> list[_Segment]:
    if sort != "due":
        return [_Segment(None, _ORDERS[sort])]
    segments = [_Segment(Thread.due_at.is_not(None), _ORDERS["due"])]
    if filter_name not in ("overdue", "due-soon"):  # these have a due time by definition
        segments.append(_Segment(Thread.due_at.is_(None), _ORDERS["due"][1:]))
    return segments


def _place_of(segments: list[_Segment]):
    """A row's place, for a link: its segment, then its sort values (the patient's id)."""
    def place_of(row) -> str:
        return paging.place([row.segment, *(row.patient_id if name == "patient"
                                            else getattr(row, name)
                                            for name, _up in segments[row.segment].order)])
    return place_of


def page(staff: User, filter_name: str, number: int, size: int,
         now: datetime | None = None, sort: str = "due", after: str | None = None,
         before: str | None = None, scope: Scope | None = None) -> Page:
    """One page of a filter of the staff member's queue: by default soonest due first
    (threads with no reply due after, newest first); or newest, oldest, or by patient.
    Older and Newer pages start after or before a row's place, so any page costs what the
    first one does. Its items are rows of ROW's columns."""
    now = now or utcnow()
    scope = scope or scope_of(staff, now)
    sort = sort if sort in SORTS else "due"
    return _page(scope, filter_name, number, size, now, sort, after, before)


def _page(scope: Scope, filter_name: str, number: int, size: int, now: datetime, sort: str,
          after: str | None = None, before: str | None = None) -> Page:
    segments = _segments(sort, filter_name)
    after, before, at = paging.starting_segment(after, before,
                                                [segment.kinds for segment in segments])
    params = _params(scope, now) | {"limit": size + 1}

    def first() -> Page:
        return _page(scope, filter_name, 1, size, now, sort)

    def read(start: tuple) -> list:
        if not scope.group_ids:
            return []
        return read_rows(_page_query(_shape(scope), filter_name, sort, start), params)

    if at is None:  # the first page, or an old ?page=N link
        number = min(max(number, 1), OFFSET_PAGES)
        params["offset"] = (number - 1) * size
        return paging.counted(read(("offset",)), size, number, first, _place_of(segments))
    segment, values = at
    params |= {f"v{n}": value for n, value in enumerate(values)}
    rows = read(("at", segment, len(values), before is not None))
    return paging.keyed(rows, size, number, after, before, first, _place_of(segments))


# When the patient opened the team's last message (None: not yet), for an answered thread:
# one row of ix_messages_thread_sent per thread of the page.
_PATIENT_READ_AT = (
    select(Message.read_by_patient_at)
    .where(Message.thread_id == Thread.id, Message.from_patient.is_(False))
    .order_by(Message.sent_at.desc()).limit(1).correlate(Thread).scalar_subquery()
    .label("patient_read_at"))

# The columns of a queue row, as the list shows them (and as its links and poll read them).
ROW = (Thread.id, Thread.subject, Thread.category, Thread.status, Thread.unread_for_team,
       Thread.unread_for_patient, _PATIENT_READ_AT,
       Thread.last_patient_message_at, Thread.last_message_at, Thread.due_at, Thread.warn_at,
       Thread.escalated_at, Thread.assignee_id, Thread.assigned_for_id, Thread.group_id,
       Thread.patient_id, _PATIENT.display_name.label("patient_name"),
       TriageGroup.name.label("group_name"), Facility.timezone,
       _ASSIGNEE.display_name.label("assignee_name"))


@cache
def _page_query(shape: _Shape, filter_name: str, sort: str, start: tuple):
    """The statement of one page: `limit` rows of the filter in the sort's order, each with
    its segment's number; `start` is ("offset",) (after `offset` rows) or ("at", segment,
    values, backwards): after the place bound as v0, v1, ... (before it, backwards)."""
    segments = _segments(sort, filter_name)
    backwards = start[0] == "at" and start[3]
    limit = bindparam("limit", type_=Integer)
    offset = bindparam("offset", type_=Integer) if start[0] == "offset" else None
    branches = []
    for index, segment in enumerate(segments):
        keyset = None
        if start[0] == "at":
            at = start[1]
            if (index > at) if backwards else (index < at):
                continue  # a segment wholly before (or after) the place
            if index == at:
                keyset = paging.beyond(_order(segment, sort), _values(segment), backwards)
        for part in _parts(shape, filter_name):
            branches.append(_branch(part, index, segment, sort, filter_name, keyset,
                                    backwards, limit if offset is None else offset + limit))
    merged = union_all(*branches).subquery()
    order = [merged.c.segment.desc() if backwards else merged.c.segment.asc()]
    order += paging.order_by([(merged.c[f"k{n}"], up) for n, (_name, up)
                              in enumerate(_ORDERS[sort])], backwards)
    messages, files = thread_size_columns(Thread.id)
    query = (
        select(*ROW, messages.label("message_count"), files.label("attachment_count"),
               merged.c.segment)
        .join(merged, merged.c.id == Thread.id)
        .join(_PATIENT, _PATIENT.id == Thread.patient_id)
        .join(TriageGroup, TriageGroup.id == Thread.group_id)
        .join(Facility, Facility.id == TriageGroup.facility_id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Thread.assignee_id)
        .order_by(*order).limit(limit)
    )
    return query if offset is None else query.offset(offset)


def _order(segment: _Segment, sort: str, filter_name: str = "") -> list:
    """The segment's order as columns; due soon and overdue by newest or oldest read
    `last_message_at` as coalesced with the due time (see the module's notes)."""
    columns = _COLUMNS
    if filter_name in ("overdue", "due-soon") and sort in ("newest", "oldest"):
        columns = columns | {"last_message_at": func.coalesce(Thread.last_message_at,
                                                              Thread.due_at)}
    return [(columns[name], up) for name, up in segment.order]


def _values(segment: _Segment) -> list:
    """A place's values as the query compares them, bound as v0, v1, ...: a patient's id
    becomes their name."""
    values = []
    for n, ((name, _up), kind) in enumerate(zip(segment.order, segment.kinds, strict=True)):
        value = bindparam(f"v{n}", type_=Integer if kind is int else DateTime)
        values.append(select(User.display_name).where(User.id == value).scalar_subquery()
                      if name == "patient" else value)
    return values


def _branch(part: list, index: int, segment: _Segment, sort: str, filter_name: str, keyset,
            backwards: bool, limit):
    """One part of one segment, as a subquery of its first `limit` rows in order."""
    branch = select(Thread.id.label("id"), literal(index).label("segment"),
                    *[_COLUMNS[name].label(f"k{n}") for n, (name, _up)
                      in enumerate(_ORDERS[sort])])
    if sort == "patient":
        branch = branch.join(_PATIENT, _PATIENT.id == Thread.patient_id)
    branch = branch.where(*part)
    if segment.condition is not None:
        branch = branch.where(segment.condition)
    if keyset is not None:
        branch = branch.where(keyset)
    held_null = ([Thread.assignee_id] if filter_name == "unassigned" else []) + \
        ([Thread.due_at] if segment.condition is not None and sort == "due" and index == 1
         else [])
    leading_up = segment.order[0][1] != backwards
    order = [c.asc() if leading_up else c.desc() for c in held_null]
    order += paging.order_by(_order(segment, sort, filter_name), backwards)
    return select(branch.order_by(*order).limit(limit).subquery())
