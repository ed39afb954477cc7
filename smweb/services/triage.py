"""The care team's rules: the reply clock on each thread, assignment (with surrogates),
reassignment, completion, escalation of overdue threads, and the queue's filters."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload, with_expression

from ..clock import to_local, utcnow
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
from ..models.messaging import thread_size_columns
from ..parsing import as_index
from . import access, paging, sla
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
    if thread.status in (ThreadStatus.WAITING, ThreadStatus.COMPLETED) or thread.status is None:
        thread.status = ThreadStatus.ASSIGNED if thread.assignee_id else ThreadStatus.NEW
        thread.completed_at = None


def team_wrote(thread: Thread) -> None:
    """The team answered: the clock stops and the thread waits on the patient."""
    thread.due_at = None
    thread.warn_at = None
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
    if not access.can_see_thread(actor, thread):
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
    _event(thread, actor, "completed")
    db.session.commit()


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


# --- the queue ---------------------------------------------------------------------------

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


# A filter's tab counts its threads up to this many, then says "100+": a bounded count
# stops reading the index there, so the tabs cost the same for a team of 100 threads or 50,000.
COUNT_CAP = 100
# A ?page=N without a cursor (an old link, or a tab open across an upgrade) is served with
# OFFSET, which reads every row before the page: only this many pages deep.
OFFSET_PAGES = 10


@dataclass(frozen=True)
class QueueScope:
    """Whose queue it is: the staff member, their care teams, and whose threads are theirs."""

    staff_id: int
    group_ids: tuple[int, ...]
    mine_ids: tuple[int, ...]  # the staff member and the colleagues they cover for today


def queue_scope(staff: User, now: datetime | None = None) -> QueueScope:
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
    return QueueScope(staff.id, tuple(groups), (staff.id, *covered))


# Built once: a new alias per request rebuilds its columns and cache key every time.
_PATIENT = aliased(User, name="patient")
_COVERED = aliased(Thread, name="covered")


def _parts(scope: QueueScope, filter_name: str, now: datetime) -> list[list]:
    """A filter as a list of parts, each one an index range (see Thread.__table_args__): its
    conditions start with equalities on the index's leading columns (team or assignee, then
    status), so a part is read in the sort's order and can stop after a page. A database can't
    merge several ranges in order on its own (`group_id IN (...)` makes it sort every row), so
    the query takes a page from each part and merges those few rows."""
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


def queue_counts(staff: User, now: datetime | None = None,
                 scope: QueueScope | None = None) -> dict[str, int]:
    """How many threads each filter holds, for its tab: counted up to COUNT_CAP + 1 (more
    than COUNT_CAP is shown as "100+"), in one query."""
    now = now or utcnow()
    scope = scope or queue_scope(staff, now)
    columns = []
    for name in FILTERS:
        parts = _parts(scope, name, now)
        if not parts:
            columns.append(literal(0))
            continue
        # UNION ALL ... LIMIT: each part is an index range, and reading stops at the cap.
        capped = union_all(*[select(Thread.id).where(*part) for part in parts]) \
            .limit(COUNT_CAP + 1).subquery()
        columns.append(select(func.count()).select_from(capped).scalar_subquery())
    row = db.session.execute(select(*columns)).one()
    return {name: int(value) for name, value in zip(FILTERS, row, strict=True)}


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, and the cursors of its Newer and Older links."""

    items: list[Thread]
    number: int
    has_next: bool
    has_prev: bool = False
    newer: str | None = None  # ?before= of the Newer link (from page 3 on; page 2 links page 1)
    older: str | None = None  # ?after= of the Older link
    start_after: str | None = None  # the cursor this page was read from (a poll reads it again)
    end_before: str | None = None


SORTS = {"due": "Soonest due", "newest": "Newest first", "oldest": "Oldest first",
         "patient": "Patient, A to Z"}

# Each sort's columns as (Thread attribute, descending). "patient" is the patient's name: the
# cursor holds the patient's id (no name in a URL) and the query looks the name up.
_ORDERS = {
    "due": (("due_at", False), ("last_message_at", True), ("id", True)),
    "newest": (("last_message_at", True), ("id", True)),
    "oldest": (("last_message_at", False), ("id", False)),
    "patient": (("patient", False), ("last_message_at", True), ("id", True)),
}


def _segments(sort: str, filter_name: str) -> list:
    """The sort as consecutive segments, each one an index order: "due" lists the threads with
    a reply due (by due time), then those without (newest first). Ordering by `due_at IS NULL`
    would need a sort of every row; two segments are two index ranges read in turn."""
    if sort != "due":
        return [(None, _ORDERS[sort])]
    segments = [(Thread.due_at.is_not(None), _ORDERS["due"])]
    if filter_name not in ("overdue", "due-soon"):  # these have a due time by definition
        segments.append((Thread.due_at.is_(None), _ORDERS["due"][1:]))
    return segments


def _sort_columns(patient) -> dict:
    return {"due_at": Thread.due_at, "last_message_at": Thread.last_message_at,
            "id": Thread.id, "patient": patient.display_name}


def _cursor(thread: Thread, segment: int, columns) -> str:
    """Where a page starts or ends, for the Newer/Older link: the row's segment and sort
    values (timestamps and ids; the patient's id, never their name)."""
    return paging.place([segment, *(thread.patient_id if attribute == "patient"
                                    else getattr(thread, attribute)
                                    for attribute, _descending in columns)])


def _parse_cursor(text: str | None, segments: list) -> tuple[int, list] | None:
    """The segment and sort values of a cursor, as the query compares them; None if it is not
    one of this sort's cursors (a hand-edited URL: the page number alone is served)."""
    segment = as_index((text or "").split("~", 1)[0], len(segments))
    if segment is None:
        return None
    columns = segments[segment][1]
    kinds = [int, *(int if attribute in ("id", "patient") else datetime
                    for attribute, _descending in columns)]
    values = paging.read_place(text, kinds)
    return (values[0], values[1:]) if values is not None else None


def _beyond(columns, values, patient, forward: bool):
    """Rows after (or, going back, before) the cursor's values in this order: a
    lexicographic comparison, led by a plain bound on the first column so that the index
    range starts at the cursor instead of being read from its beginning."""
    exprs = _sort_columns(patient)
    pairs = []
    for (attribute, descending), value in zip(columns, values, strict=True):
        if attribute == "patient":  # compare by name; the cursor holds the patient's id
            value = select(User.display_name).where(User.id == value).scalar_subquery()
        pairs.append((exprs[attribute], value, descending != (not forward)))
    later = []
    for i, (column, value, down) in enumerate(pairs):
        step = column < value if down else column > value
        later.append(and_(*[c == v for c, v, _d in pairs[:i]], step))
    first, value, down = pairs[0]
    return and_(first <= value if down else first >= value, or_(*later))


def queue_page(staff: User, filter_name: str, number: int, size: int,
               now: datetime | None = None, sort: str = "due", after: str | None = None,
               before: str | None = None, scope: QueueScope | None = None) -> QueuePage:
    """One page of a filter of the staff member's queue: by default soonest due first
    (threads with no reply due after, newest first); or newest, oldest, or by patient.
    Older/Newer pages start after/before a cursor (`after`, `before`), so any page costs
    the same as the first."""
    now = now or utcnow()
    scope = scope or queue_scope(staff, now)
    sort = sort if sort in SORTS else "due"
    segments = _segments(sort, filter_name)
    forward = not before
    cursor = _parse_cursor(before or after, segments)
    number = max(number, 1)
    offset = 0
    if cursor is None:
        number = min(number, OFFSET_PAGES)
        offset = (number - 1) * size
        forward = True
    patient = _PATIENT
    exprs = _sort_columns(patient)
    limit = offset + size + 1
    branches = []
    for index, (condition, columns) in enumerate(segments):
        keyset = None
        if cursor is not None:
            at = cursor[0]
            if (index < at) if forward else (index > at):
                continue  # a segment wholly before (or after) the cursor
            if index == at:
                keyset = _beyond(columns, cursor[1], patient, forward)
        by = exprs
        if filter_name in ("overdue", "due-soon") and sort in ("newest", "oldest"):
            # Read the due-time range and sort it (overdue and due-soon threads are the few
            # the team must answer now), never a scan of the team's newest threads that
            # filters on the due time: PostgreSQL picks that one for the `waiting` range,
            # which holds no due time, and reads all of it. No index serves this expression
            # (equal to last_message_at, never NULL), so no database can pick that scan; its
            # columns are in ix_threads_queue_due, which covers the query.
            by = exprs | {"last_message_at": func.coalesce(Thread.last_message_at,
                                                           Thread.due_at)}
        order = [by[a].desc() if d == forward else by[a].asc() for a, d in columns]
        # Columns the range holds at NULL (`IS NULL`) lead the ORDER BY, in the index's column
        # order and the scan's direction: the order is the same, and PostgreSQL, which matches
        # an index to an ORDER BY only past `=` conditions, not `IS NULL` ones, can then read
        # the range in index order instead of filtering the team's newest threads.
        held_null = ([Thread.assignee_id] if filter_name == "unassigned" else []) + \
            ([Thread.due_at] if condition is not None and sort == "due" and index == 1 else [])
        down = columns[0][1] == forward
        order = [c.desc() if down else c.asc() for c in held_null] + order
        for part in _parts(scope, filter_name, now):
            branch = select(Thread.id.label("id"), literal(index).label("segment"),
                            *[exprs[a].label(f"k{n}") for n, (a, _d) in enumerate(_ORDERS[sort])])
            if sort == "patient":
                branch = branch.join(patient, patient.id == Thread.patient_id)
            branch = branch.where(*part)
            if condition is not None:
                branch = branch.where(condition)
            if keyset is not None:
                branch = branch.where(keyset)
            # Each branch is its own subquery: SQLite allows no ORDER BY/LIMIT on a UNION part.
            branches.append(select(branch.order_by(*order).limit(limit).subquery()))
    if not branches:
        return QueuePage([], 1, False)
    merged = union_all(*branches).subquery()
    order = [merged.c.segment.asc() if forward else merged.c.segment.desc()]
    for n, (_attribute, descending) in enumerate(_ORDERS[sort]):
        key = merged.c[f"k{n}"]
        order.append(key.desc() if descending == forward else key.asc())
    messages, files = thread_size_columns(Thread.id)
    query = (
        select(Thread, merged.c.segment)
        .join(merged, merged.c.id == Thread.id)
        .options(with_expression(Thread.message_count, messages),
                 with_expression(Thread.attachment_count, files),
                 joinedload(Thread.assignee), joinedload(Thread.patient),
                 joinedload(Thread.group).joinedload(TriageGroup.facility))
        .order_by(*order)
        .limit(size + 1).offset(offset)
    )
    rows = [(thread, segment) for thread, segment in db.session.execute(query).unique()]
    more = len(rows) > size
    rows = rows[:size]
    if cursor is None:
        has_prev, has_next = number > 1, more
    elif forward:
        has_prev, has_next, number = True, more, max(number, 2)
    elif more:
        has_prev, has_next, number = True, True, max(number, 2)
    elif len(rows) == size:  # the rows before the cursor are exactly the first page
        has_prev, has_next, number, cursor = False, True, 1, None
    else:  # fewer than a page before it (threads left the list meanwhile): the first page
        return queue_page(staff, filter_name, 1, size, now, sort, scope=scope)
    if not forward:
        rows.reverse()
    ends = [_cursor(thread, segment, segments[segment][1])
            for thread, segment in (rows[:1] + rows[-1:])] if rows else [None, None]
    return QueuePage([thread for thread, _segment in rows], number, has_next and bool(rows),
                     has_prev, newer=ends[0] if has_prev and number > 2 else None,
                     older=ends[-1] if has_next and rows else None,
                     start_after=after if cursor is not None and forward else None,
                     end_before=before if cursor is not None and not forward else None)


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
        _event(thread, None, "escalated")
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
