"""Scheduled jobs' bookkeeping: one run at a time across every worker and server, and the
last start, finish and success of each job for the health page.

A run first claims the job's row (one UPDATE, atomic on SQLite and PostgreSQL alike): it
takes the row only if no run holds it, and — for a scheduled run — if the last one started
more than half an interval ago, so two workers woken by the same tick run it once."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..clock import utcnow
from ..extensions import db
from ..models import JobRun


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta  # how often the worker runs it
    late_after: timedelta  # the health page calls it late when it hasn't succeeded since
    lease: timedelta  # a run that dies leaves the job free again after this
    what: str  # for the health page
    at: time | None = None  # a daily job's time of day (UTC); the worker asks every 15 min

    def due_since(self, now: datetime) -> datetime:
        """The last moment a daily job was due: today's time, or yesterday's before it."""
        due = datetime.combine(now.date(), self.at)
        return due if due <= now else due - timedelta(days=1)


JOBS = {job.name: job for job in (
    Job("deliver-notices", timedelta(minutes=1), timedelta(minutes=10), timedelta(minutes=2),
        "Deliver email notices (and retry those the relay refused)"),
    Job("escalate", timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=10),
        "Escalate messages past their reply time"),
    # Daily at 12:00 UTC (7 a.m. Eastern), the nightly ones at 08:30 and 08:45 UTC.
    Job("send-digests", timedelta(days=1), timedelta(hours=26), timedelta(hours=1),
        "Daily email digests", at=time(12, 0)),
    Job("sweep-attachments", timedelta(days=1), timedelta(hours=26), timedelta(hours=1),
        "Remove orphaned attachment files", at=time(8, 30)),
    Job("prune", timedelta(days=1), timedelta(hours=26), timedelta(hours=1),
        "Delete old sessions, failed sign-ins and old email notices", at=time(8, 45)),
)}


class JobBusy(Exception):
    """Another run of the job holds it (or, scheduled, it ran moments ago)."""


def _ensure_row(name: str) -> None:
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(JobRun).values(name=name, registered_at=utcnow())
                       .on_conflict_do_nothing())


def register_all() -> None:
    """A worker starting: every job is known from now (the health page then waits for a
    daily job's first run instead of calling it stopped)."""
    for name in JOBS:
        _ensure_row(name)
    db.session.commit()


def _claim(job: Job, now: datetime, scheduled: bool) -> datetime | None:
    """Take the job's row for a run starting `now`; None if another run holds it."""
    _ensure_row(job.name)
    claim = update(JobRun).where(
        JobRun.name == job.name,
        or_(JobRun.running_until.is_(None), JobRun.running_until < now))
    if scheduled and job.at is not None:
        # Once per day's due moment, however many ticks: a worker that was down at 12:00
        # runs it at its first tick after (catching up), and not again until tomorrow's.
        due = job.due_since(now)
        claim = claim.where(or_(JobRun.started_at < due,
                                JobRun.started_at.is_(None) & (JobRun.registered_at < due)))
    elif scheduled:
        claim = claim.where(or_(JobRun.started_at.is_(None),
                                JobRun.started_at <= now - job.every / 2))
    taken = db.session.execute(claim.values(started_at=now, running_until=now + job.lease)
                               .execution_options(synchronize_session=False))
    db.session.commit()
    return now if taken.rowcount == 1 else None


def run(name: str, work: Callable[[], object], scheduled: bool = True) -> object:
    """Run a job's work once, unless another run holds it (JobBusy). `work` does its own
    commits and returns what it did (its str() is kept as the run's result); a failure is
    recorded by its kind and raised."""
    job = JOBS[name]
    started = _claim(job, utcnow(), scheduled)
    if started is None:
        raise JobBusy(f"{name} is already running (or has just run) elsewhere.")
    try:
        result = work()
    except Exception as error:
        db.session.rollback()
        _finish(name, started, error=type(error).__name__)
        current_app.logger.warning("job %s failed: %s", name, type(error).__name__)
        raise
    _finish(name, started, result=str(result))
    return result


def _finish(name: str, started: datetime, result: str | None = None,
            error: str | None = None) -> None:
    """Record the run's end. A run that outlived its lease, whose job another run has taken
    meanwhile, leaves that run's lease alone (the row names the other start)."""
    now = utcnow()
    values = {"running_until": None, "finished_at": now, "last_error": error}
    if error is None:
        values.update(succeeded_at=now, last_result=(result or "")[:120])
    db.session.execute(update(JobRun).where(JobRun.name == name, JobRun.started_at == started)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def runs() -> dict[str, JobRun]:
    return {row.name: row for row in db.session.scalars(db.select(JobRun))}
