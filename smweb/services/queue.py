"""The care team's queue: the threads of a staff member's care teams, by filter (all open,
unassigned, mine, due soon, overdue, completed) and by sort, a page at a time, with each tab's
count.

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

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload, with_expression

from ..clock import utcnow
from ..extensions import db
from ..models import StaffAbsence, Thread, ThreadStatus, TriageGroup, User, group_members
from ..models.messaging import thread_size_columns
from . import paging
from .paging import Page

# What a queue row shows that can change: a poll compares these (templating.list_version).
SHOWN = ("status", "due_at", "warn_at", "assignee_id", "unread_for_team", "last_message_at",
         "escalated_at", "group_id")

FILTERS = {
    "open": "All open",
    "unassigned": "Unassigned",
    "mine": "Assigned to me",
    "due-soon": "Due soon",
    "overdue": "Overdue",
    "completed": "Completed",
}

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
_COVERED = aliased(Thread, name="covered")


def _parts(scope: Scope, filter_name: str, now: datetime) -> list[list]:
    """A filter as its parts: each a list of conditions that is one index range."""
    groups = scope.group_ids
    if filter_name == "completed":
        return [[Thread.group_id == g, Thread.status == ThreadStatus.COMPLETED] for g in groups]
    if filter_name == "mine":
        parts = [[Thread.assignee_id == a, Thread.group_id == g, Thread.status == s]
                 for a in scope.mine_ids for g in groups for s in ThreadStatus.OPEN]
        # Threads a surrogate works while this staff member is away are theirs too (few:
        # one absence's worth); a thread the first parts already hold is not listed twice.
        # All in a subquery on ix_threads_assigned_for, picked by id: given a team and status
        # outside it, SQLite (no statistics) would read the team's whole range instead.
        covered = _COVERED
        parts.append([Thread.id.in_(select(covered.id).where(
            covered.assigned_for_id == scope.staff_id, covered.status.in_(ThreadStatus.OPEN),
            covered.group_id.in_(groups),
            or_(covered.assignee_id.is_(None), covered.assignee_id.not_in(scope.mine_ids))))])
        return parts if groups else []
    extra = {
        "open": [],
        "unassigned": [Thread.assignee_id.is_(None)],  # ix_threads_queue_assignee_*
        "due-soon": [Thread.due_at > now, Thread.warn_at <= now],
        "overdue": [Thread.due_at <= now],
    }[filter_name]
    return [[Thread.group_id == g, Thread.status == s, *extra]
            for g in groups for s in ThreadStatus.OPEN]


def counts(staff: User, now: datetime | None = None,
           scope: Scope | None = None) -> dict[str, int]:
    """How many threads each filter holds, for its tab: counted up to COUNT_CAP + 1 (more
    than COUNT_CAP is shown as "100+"), in one query."""
    now = now or utcnow()
    scope = scope or scope_of(staff, now)
    columns = []
    for name in FILTERS:
        parts = _parts(scope, name, now)
        if not parts:
            columns.append(literal(0))
            continue
        capped = union_all(*[select(Thread.id).where(*part) for part in parts]) \
            .limit(COUNT_CAP + 1).subquery()
        columns.append(select(func.count()).select_from(capped).scalar_subquery())
    row = db.session.execute(select(*columns)).one()
    return {name: int(value) for name, value in zip(FILTERS, row, strict=True)}


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
        thread, segment = row
        return paging.place([segment, *(thread.patient_id if name == "patient"
                                        else getattr(thread, name)
                                        for name, _up in segments[segment].order)])
    return place_of


def page(staff: User, filter_name: str, number: int, size: int,
         now: datetime | None = None, sort: str = "due", after: str | None = None,
         before: str | None = None, scope: Scope | None = None) -> Page:
    """One page of a filter of the staff member's queue: by default soonest due first
    (threads with no reply due after, newest first); or newest, oldest, or by patient.
    Older and Newer pages start after or before a row's place, so any page costs what the
    first one does."""
    now = now or utcnow()
    scope = scope or scope_of(staff, now)
    sort = sort if sort in SORTS else "due"
    found = _page(scope, filter_name, number, size, now, sort, after, before)
    return replace(found, items=[thread for thread, _segment in found.items])


def _page(scope: Scope, filter_name: str, number: int, size: int, now: datetime, sort: str,
          after: str | None = None, before: str | None = None) -> Page:
    """The page, its items (thread, segment) pairs."""
    segments = _segments(sort, filter_name)
    after, before, at = paging.starting_segment(after, before,
                                                [segment.kinds for segment in segments])

    def first() -> Page:
        return _page(scope, filter_name, 1, size, now, sort)

    if at is None:  # the first page, or an old ?page=N link
        number = min(max(number, 1), OFFSET_PAGES)
        rows = _read(scope, filter_name, sort, segments, now, size + 1, (number - 1) * size)
        return paging.counted(rows, size, number, first, _place_of(segments))
    rows = _read(scope, filter_name, sort, segments, now, size + 1, at=at,
                 backwards=before is not None)
    return paging.keyed(rows, size, number, after, before, first, _place_of(segments))


def _read(scope: Scope, filter_name: str, sort: str, segments: list[_Segment], now: datetime,
          limit: int, offset: int = 0, at: tuple[int, list] | None = None,
          backwards: bool = False) -> list[tuple[Thread, int]]:
    """`limit` threads of the filter in the sort's order (after `offset` of them, or after
    the place `at` - before it, `backwards`), each with its segment's number."""
    branches = []
    for index, segment in enumerate(segments):
        keyset = None
        if at is not None:
            if (index > at[0]) if backwards else (index < at[0]):
                continue  # a segment wholly before (or after) the place
            if index == at[0]:
                keyset = paging.beyond(_order(segment, sort), _values(segment, at[1]), backwards)
        for part in _parts(scope, filter_name, now):
            branches.append(_branch(part, index, segment, sort, filter_name, keyset,
                                    backwards, offset + limit))
    if not branches:
        return []
    merged = union_all(*branches).subquery()
    order = [merged.c.segment.desc() if backwards else merged.c.segment.asc()]
    order += paging.order_by([(merged.c[f"k{n}"], up) for n, (_name, up)
                              in enumerate(_ORDERS[sort])], backwards)
    messages, files = thread_size_columns(Thread.id)
    query = (
        select(Thread, merged.c.segment)
        .join(merged, merged.c.id == Thread.id)
        .options(with_expression(Thread.message_count, messages),
                 with_expression(Thread.attachment_count, files),
                 joinedload(Thread.assignee), joinedload(Thread.patient),
                 joinedload(Thread.group).joinedload(TriageGroup.facility))
        .order_by(*order).limit(limit).offset(offset)
    )
    return [(thread, segment) for thread, segment in db.session.execute(query).unique()]


def _order(segment: _Segment, sort: str, filter_name: str = "") -> list:
    """The segment's order as columns; due soon and overdue by newest or oldest read
    `last_message_at` as coalesced with the due time (see the module's notes)."""
    columns = _COLUMNS
    if filter_name in ("overdue", "due-soon") and sort in ("newest", "oldest"):
        columns = columns | {"last_message_at": func.coalesce(Thread.last_message_at,
                                                              Thread.due_at)}
    return [(columns[name], up) for name, up in segment.order]


def _values(segment: _Segment, values: list) -> list:
    """A place's values as the query compares them: a patient's id becomes their name."""
    return [select(User.display_name).where(User.id == value).scalar_subquery()
            if name == "patient" else value
            for (name, _up), value in zip(segment.order, values, strict=True)]


def _branch(part: list, index: int, segment: _Segment, sort: str, filter_name: str, keyset,
            backwards: bool, limit: int):
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
