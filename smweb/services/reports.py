"""Response-time reports: how fast care teams answer, for coordinators (their facility's
teams) and group administrators (the teams they administer).

What is counted is written as it happens, one `ReplyTime` row per patient message: when it
came, to which team, when its reply was due, and the team's first reply after it (who, when,
and how much business time it took, on the due time's own clock: services/sla.py). A report
is then a handful of SQL aggregates over one index range of that table, the same on SQLite
and PostgreSQL, whatever the site's size:

- received: the patient messages that came in the period (at the facility's midnight);
- answered, and the median and 90th percentile of their business time to the first reply
  (nearest rank: the value of the ⌈p·n⌉-th smallest);
- within 3 business days: answered by their due time, out of those answered or already due;
- overdue now: open threads past their due time; escalations: in the period;
- volume by category and by weekday (the facility's weekday).

A message belongs to the team that answered it, or holds it now (a thread moved to another
team takes its waiting messages along). Per staff member, the figures are of the first
replies they wrote.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from ..clock import parse_date_range, utcnow
from ..extensions import db
from ..models import (
    CATEGORIES,
    Message,
    ReplyTime,
    Thread,
    ThreadEvent,
    ThreadStatus,
    TriageGroup,
    User,
)
from . import access, sla, spreadsheet, triage
from .refusals import NotFound

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LONGEST_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


# --- what is counted, as it happens -------------------------------------------------------

def message_received(thread: Thread, message: Message, at: datetime,
                     hours: sla.BusinessHours) -> None:
    """A patient's message came: it waits for the team's reply, due in 3 business days."""
    db.session.add(ReplyTime(
        message=message, thread=thread, group=thread.group, category=thread.category,
        received_at=at, weekday=sla.local_date(at, hours).weekday(),
        due_at=sla.due_at(at, hours)))


_WAITING = select(ReplyTime.message_id, ReplyTime.received_at).where(
    ReplyTime.thread_id == bindparam("thread_id"), ReplyTime.replied_at.is_(None),
    ReplyTime.closed_at.is_(None))
# Only a message still waiting gets its first reply: of two replies sent at once, the first
# to write keeps it.
_REPLIED = (update(ReplyTime).where(ReplyTime.message_id == bindparam("id"),
                                    ReplyTime.replied_at.is_(None))
            .values(replied_at=bindparam("at"), replied_by_id=bindparam("by"),
                    group_id=bindparam("team"), business_seconds=bindparam("seconds"),
                    business_tenths=bindparam("tenths")))


def team_replied(thread: Thread, author_id: int, at: datetime,
                 hours: sla.BusinessHours) -> None:
    """The team answered: each of the thread's waiting messages has its first reply."""
    if thread.id is None:  # a new thread: its id (and any message of the patient's) first
        db.session.flush()
    for waiting in db.session.execute(_WAITING, {"thread_id": thread.id}).all():
        seconds = int(sla.business_time_between(waiting.received_at, at, hours)
                      .total_seconds())
        db.session.execute(_REPLIED, {"id": waiting.message_id, "at": at, "by": author_id,
                                      "team": thread.group_id, "seconds": seconds,
                                      "tenths": seconds // TENTH_SECONDS})


def thread_completed(thread: Thread, at: datetime) -> None:
    """The team completed the thread: what still waits needed no reply (a "thank you"),
    and no later reply counts as its answer."""
    db.session.execute(update(ReplyTime).where(
        ReplyTime.thread_id == thread.id, ReplyTime.replied_at.is_(None),
        ReplyTime.closed_at.is_(None)).values(closed_at=at))


def thread_moved(thread: Thread, group_id: int) -> None:
    """The thread went to another team, and its waiting messages with it."""
    db.session.execute(update(ReplyTime).where(
        ReplyTime.thread_id == thread.id, ReplyTime.replied_at.is_(None))
        .values(group_id=group_id))


# --- the report ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """From the first day to the last, both included, at the facility."""

    starts_on: date
    ends_on: date

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


@dataclass
class Figures:
    """One line of the report: a care team, a staff member, or everyone in it."""

    name: str
    received: int = 0
    answered: int = 0
    within: int = 0  # answered by their due time
    decided: int = 0  # answered, or due by now: what the share is out of
    median_seconds: int | None = None
    p90_seconds: int | None = None
    overdue_now: int = 0
    escalations: int = 0
    # how many first replies took each tenth of an hour: the percentiles' source
    tenths: Counter = field(default_factory=Counter, repr=False)

    @property
    def share_within(self) -> float | None:
        """The percentage answered within 3 business days (None when none was due yet)."""
        return round(100 * self.within / self.decided, 1) if self.decided else None

    @property
    def median_hours(self) -> float | None:
        return _hours(self.median_seconds)

    @property
    def p90_hours(self) -> float | None:
        return _hours(self.p90_seconds)


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


@dataclass
class Report:
    period: Period
    teams_in_reach: list[TriageGroup]
    team: TriageGroup | None  # the one chosen; None: all of them
    hours: list[sla.BusinessHours]  # each facility's of the teams shown
    total: Figures
    teams: list[Figures] = field(default_factory=list)
    staff: list[Figures] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_weekday: list[tuple[str, int]] = field(default_factory=list)

    @property
    def business_hours(self) -> list[tuple[sla.BusinessHours, float]]:
        """Each facility's business hours, and its 3 business days in hours."""
        return [(h, h.day_length.total_seconds() * sla.REPLY_BUSINESS_DAYS / 3600)
                for h in dict.fromkeys(self.hours)]


def teams_in_reach(user: User) -> list[TriageGroup]:
    """The care teams whose figures this user may see: a coordinator's facility's, and the
    teams a group administrator administers. None for anyone else."""
    if not user.is_staff:
        return []
    reach = []
    if user.coordinator_of_id is not None:
        reach.append(TriageGroup.facility_id == user.coordinator_of_id)
    administered = access.administered_group_ids(user)
    if administered:
        reach.append(TriageGroup.id.in_(administered))
    if not reach:
        return []
    return list(db.session.scalars(select(TriageGroup).where(or_(*reach))
                                   .order_by(TriageGroup.name, TriageGroup.id)))


def parse_period(args, user: User) -> tuple[Period, dict[str, str]]:
    """The report's period from its form (`start`, `end`, year-month-day; blank: the last
    30 days up to today at the user's facility), and what was wrong with it, by field."""
    start, end, errors = parse_date_range(args)
    reach = teams_in_reach(user)
    today = sla.local_date(utcnow(), triage.hours_for(reach[0].facility)) if reach \
        else utcnow().date()
    end = end or today
    period = Period(start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end)
    if not errors and period.starts_on > period.ends_on:
        errors["end"] = "The last date can't be before the first."
    if not errors and period.days > LONGEST_PERIOD_DAYS:
        errors["end"] = (f"Choose a period of at most {LONGEST_PERIOD_DAYS} days "
                         f"(this one has {period.days}).")
    return period, errors


# The statements, built once; a report binds its teams, period and "now". Each pass reads
# an index that holds every column it needs, in the order of its GROUP BY (models: ReplyTime),
# so the period's rows are counted as they are read, never sorted. (SQLite is told which
# index: without statistics its planner would take the period's range and sort it.)
_RT = ReplyTime
_IN_PERIOD = and_(_RT.group_id.in_(bindparam("teams", expanding=True)),
                  _RT.received_at >= bindparam("start"), _RT.received_at < bindparam("end"))
_WITHIN = func.sum(case((_RT.replied_at <= _RT.due_at, 1), else_=0))
# Out of: those answered, and those whose due time passed unanswered (before the team
# completed the thread, if it did: a "thank you" completed in time needed no reply).
_DECIDED = func.sum(case((or_(_RT.replied_at.is_not(None),
                              _RT.due_at <= func.coalesce(_RT.closed_at, bindparam("now"))), 1),
                         else_=0))

# Each team's counts, and the volume by category and by weekday.
_COUNTS = (select(_RT.group_id.label("key"), _RT.category, _RT.weekday,
                  func.count().label("received"), func.count(_RT.replied_at).label("answered"),
                  _WITHIN.label("within"), _DECIDED.label("decided"))
           .with_hint(_RT, "INDEXED BY ix_reply_times_counts", "sqlite")
           .where(_IN_PERIOD).group_by(_RT.group_id, _RT.category, _RT.weekday))

# The answered messages, counted per team, staff member and tenth of an hour of business time
# to the first reply (the precision the report shows): every percentile of a team, a staff
# member or everyone is read off these counts (`_percentile`), where a window function per
# percentile would sort the period's rows three times over.
TENTH_SECONDS = 360
_SPREAD = (select(_RT.group_id.label("team"), _RT.replied_by_id.label("person"),
                  _RT.business_tenths.label("tenths"), func.count().label("n"),
                  _WITHIN.label("within"))
           .with_hint(_RT, "INDEXED BY ix_reply_times_spread", "sqlite")
           .where(_IN_PERIOD, _RT.replied_at.is_not(None))
           .group_by(_RT.group_id, _RT.replied_by_id, _RT.business_tenths))


def _percentile(tenths: Counter, share: float) -> int | None:
    """Nearest rank: the ⌈share·n⌉-th smallest time, in seconds, to the tenth of an hour
    below it."""
    n = sum(tenths.values())
    if not n:
        return None
    rank, seen = -(-n * share // 1), 0
    for tenth in sorted(tenths):
        seen += tenths[tenth]
        if seen >= rank:
            return tenth * TENTH_SECONDS
    return None  # not reached


_OVERDUE = (select(Thread.group_id.label("team"), Thread.assignee_id.label("person"),
                   func.count().label("n"))
            .where(Thread.group_id.in_(bindparam("teams", expanding=True)),
                   Thread.status.in_(ThreadStatus.OPEN), Thread.due_at <= bindparam("now"))
            .group_by(Thread.group_id, Thread.assignee_id))

# An escalation stays with the team that held the thread then (older events name none: the
# thread's team).
_ESCALATED_TEAM = func.coalesce(ThreadEvent.group_id, Thread.group_id)
_ESCALATIONS = (select(_ESCALATED_TEAM.label("team"),
                       ThreadEvent.subject_user_id.label("person"), func.count().label("n"))
                .join(Thread, Thread.id == ThreadEvent.thread_id)
                .where(ThreadEvent.kind == "escalated",
                       ThreadEvent.created_at >= bindparam("start"),
                       ThreadEvent.created_at < bindparam("end"),
                       _ESCALATED_TEAM.in_(bindparam("teams", expanding=True)))
                .group_by(_ESCALATED_TEAM, ThreadEvent.subject_user_id))


def response_times(user: User, period: Period, team_id: int | None = None,
                   now: datetime | None = None) -> Report:
    """The report for the teams in the user's reach (or the one chosen of them) over the
    period; 404 for anyone with none, or a team out of reach. Each facility's teams are
    read from its own midnight to its own midnight."""
    reach = teams_in_reach(user)
    chosen = [t for t in reach if team_id is None or t.id == team_id]
    if not chosen:
        raise NotFound()
    now = now or utcnow()
    teams = {t.id: Figures(t.name) for t in chosen}
    total = Figures(chosen[0].name if len(chosen) == 1 else "All care teams")
    staff: dict[int, Figures] = {}
    categories = dict.fromkeys(CATEGORIES, 0)
    weekdays = [0] * 7

    def person(person_id: int) -> Figures:
        return staff.setdefault(person_id, Figures(""))

    by_facility: dict[int, list[TriageGroup]] = {}
    for team in chosen:
        by_facility.setdefault(team.facility_id, []).append(team)
    session = db.session
    for facility_teams in by_facility.values():
        hours = triage.hours_for(facility_teams[0].facility)
        params = {"teams": [t.id for t in facility_teams], "now": now,
                  "start": sla.start_of_day(period.starts_on, hours),
                  "end": sla.start_of_day(period.ends_on + timedelta(days=1), hours)}
        for row in session.execute(_COUNTS, params):
            for figures in (teams[row.key], total):
                figures.received += row.received
                figures.answered += row.answered
                figures.within += row.within
                figures.decided += row.decided
            categories[row.category] = categories.get(row.category, 0) + row.received
            weekdays[row.weekday] += row.received
        for row in session.execute(_SPREAD, params):
            line = person(row.person)
            line.answered += row.n
            line.decided += row.n
            line.within += row.within
            for figures in (teams[row.team], line, total):
                figures.tenths[row.tenths] += row.n
        for statement, name in ((_OVERDUE, "overdue_now"), (_ESCALATIONS, "escalations")):
            for row in session.execute(statement, params):
                lines = [teams[row.team], total] + ([person(row.person)] if row.person else [])
                for figures in lines:
                    setattr(figures, name, getattr(figures, name) + row.n)
    for figures in (*teams.values(), *staff.values(), total):
        figures.median_seconds = _percentile(figures.tenths, 0.5)
        figures.p90_seconds = _percentile(figures.tenths, 0.9)
    names = dict(session.execute(select(User.id, User.display_name)
                                 .where(User.id.in_(list(staff)))).all()) if staff else {}
    for person_id, line in staff.items():
        line.name = names.get(person_id, "(account removed)")
    return Report(
        period=period, teams_in_reach=reach, team=chosen[0] if team_id else None,
        hours=[triage.hours_for(ts[0].facility) for ts in by_facility.values()],
        total=total, teams=list(teams.values()),
        staff=sorted(staff.values(), key=lambda f: f.name.casefold()),
        by_category=list(categories.items()),
        by_weekday=list(zip(WEEKDAYS, weekdays, strict=True)))


CSV_HEADER = ["Line", "Name", "Received", "Answered", "Answered within 3 business days",
              "Share within 3 business days (%)", "Median (business hours)",
              "90th percentile (business hours)", "Overdue now", "Escalations"]


def to_csv(report: Report) -> str:
    """The report as a spreadsheet: the teams, the staff, everyone, then the volume by
    category and by weekday."""
    def line(kind: str, f: Figures) -> list:
        return [kind, f.name, f.received, f.answered, f.within,
                "" if f.share_within is None else f.share_within,
                "" if f.median_hours is None else f.median_hours,
                "" if f.p90_hours is None else f.p90_hours, f.overdue_now, f.escalations]

    rows = [line("Care team", f) for f in report.teams]
    rows += [line("Staff member", f)[:2] + [""] + line("Staff member", f)[3:]
             for f in report.staff]  # a staff member receives nothing: first replies only
    rows.append(line("Total", report.total))
    rows += [["Category", name, count] + [""] * 7 for name, count in report.by_category]
    rows += [["Weekday", name, count] + [""] * 7 for name, count in report.by_weekday]
    return spreadsheet.to_csv(CSV_HEADER, rows)
