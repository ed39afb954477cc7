"""Is the site well? The checks behind the admin health page and `flask smweb doctor`, and
the two alarms that put a red banner on admin and coordinator pages. Nothing here shows an
address or any content: counts, times and the kinds of errors."""

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, select, text

from ..clock import utcnow
from ..extensions import db
from ..models import JobRun, Notice
from . import jobs, notifications
from .scanning import ClamdScanner, scanner
from .storage import storage

ESCALATION_LATE = timedelta(minutes=30)
NOTICES_FAILING_TOO_LONG = timedelta(hours=1)
MIN_FREE_BYTES = 1024 ** 3  # below a GiB free, the attachment store is called short


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _ago(moment: datetime, now: datetime) -> str:
    seconds = max(int((now - moment).total_seconds()), 0)
    if seconds < 120:
        amount = f"{seconds} seconds"
    elif seconds < 2 * 3600:
        amount = f"{seconds // 60} minutes"
    elif seconds < 2 * 86400:
        amount = f"{seconds // 3600} hours"
    else:
        amount = f"{seconds // 86400} days"
    return f"{amount} ago ({moment:%Y-%m-%d %H:%M} UTC)"


def _job_checks(now: datetime) -> list[Check]:
    runs = jobs.runs()
    found = []
    for job in jobs.JOBS.values():
        run = runs.get(job.name)
        name = f"Scheduled job {job.name}"
        if run is None or run.succeeded_at is None:
            if run is not None and run.last_error:
                found.append(Check(name, False,
                                   f"has never succeeded; last error: {run.last_error}"))
            elif run is not None and run.registered_at > now - job.late_after:
                found.append(Check(name, True, "not due yet (first seen by the worker "
                                               f"{_ago(run.registered_at, now)})"))
            else:
                found.append(Check(name, False, "has never run: is the worker running? "
                                                "(flask --app app smweb worker)"))
            continue
        late = run.succeeded_at < now - job.late_after
        detail = f"last succeeded {_ago(run.succeeded_at, now)}"
        if run.last_result:
            detail += f": {run.last_result}"
        if run.last_error and run.finished_at and run.finished_at > run.succeeded_at:
            detail += f"; failed since, last error: {run.last_error}"
            late = True
        found.append(Check(name, not late, detail))
    return found


def _outbox_check(now: datetime) -> Check:
    state = notifications.outbox_state()
    if state.waiting == 0:
        return Check("Email notices", True, "none waiting")
    detail = f"{state.waiting} waiting"
    ok = True
    if state.failing:
        detail += (f", {state.failing} failing (the first failure {_ago(state.failing_since, now)}"
                   f"); last error: {state.last_error}")
        ok = state.failing_since > now - NOTICES_FAILING_TOO_LONG
    elif state.oldest_waiting < now - timedelta(minutes=15):
        detail += f", the oldest since {_ago(state.oldest_waiting, now)}: is the worker running?"
        ok = False
    return Check("Email notices", ok, detail)


def _relay_check() -> Check:
    cfg = current_app.config
    if cfg["MAIL_BACKEND"] != "smtp":
        folder = Path(cfg["MAIL_OUTBOX"])
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".health-check"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            return Check("Mail", False, f"the outbox folder can't be written: "
                                        f"{type(error).__name__}")
        return Check("Mail", True, "development outbox folder (no email leaves this machine)")
    where = f"{cfg['SMTP_HOST']}:{cfg['SMTP_PORT']}"
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=5) as smtp:
            code, _reply = smtp.noop()
    except (OSError, smtplib.SMTPException) as error:
        return Check("Mail relay", False, f"{where} unreachable: {type(error).__name__}")
    return Check("Mail relay", code == 250, f"{where} answers (NOOP {code})")


def _scanner_check() -> Check | None:
    found = scanner()
    if not isinstance(found, ClamdScanner):
        return None
    if found.ping():
        return Check("Virus scanner (clamd)", True, f"{found.address} answers PING")
    return Check("Virus scanner (clamd)", False,
                 f"{found.address} does not answer: files can't be attached until it does")


def _store_check() -> Check:
    store = storage()
    if not store.writable():
        return Check("Attachment store", False, f"{store.where} can't be written")
    free = store.free_bytes()
    if free is None:  # object storage: no disk of ours to fill
        return Check("Attachment store", True, f"object storage: reachable, {store.where} "
                                               "writable")
    detail = f"{store.where} writable, {free / 1024 ** 3:.1f} GiB free"
    return Check("Attachment store", free >= MIN_FREE_BYTES, detail)


def _migrations_check() -> Check:
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    heads = set(script.get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return Check("Database migrations", True, f"current ({', '.join(sorted(heads))})")
    return Check("Database migrations", False,
                 f"database at {', '.join(sorted(current)) or 'nothing'}, code expects "
                 f"{', '.join(sorted(heads))}: run flask --app app db upgrade")


def _database_check(thorough: bool) -> Check:
    if db.engine.dialect.name != "sqlite":
        version = db.session.scalar(text("SHOW server_version"))
        return Check("Database", True, f"PostgreSQL {version} reachable")
    # The page runs the quick check (no index against its table); doctor the full one, which
    # reads the whole file.
    pragma, name = (("integrity_check", "integrity check") if thorough
                    else ("quick_check", "quick check"))
    rows = [row[0] for row in db.session.execute(text(f"PRAGMA {pragma}"))]
    ok = rows == ["ok"]
    return Check(f"Database (SQLite {name})", ok,
                 "ok" if ok else "; ".join(str(r) for r in rows[:5]))


def _guarded(name: str, check: Callable[[], object]) -> list[Check]:
    """One check; if it can't even be made (say, a table a migration has not made yet), that
    is the finding."""
    try:
        found = check()
    except Exception as error:  # any failure of a check is reported, never raised
        db.session.rollback()
        return [Check(name, False, f"could not be checked: {type(error).__name__}")]
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def checks(thorough: bool = False) -> list[Check]:
    now = utcnow()
    found = [
        *_guarded("Database migrations", _migrations_check),
        *_guarded("Scheduled jobs", lambda: _job_checks(now)),
        *_guarded("Email notices", lambda: _outbox_check(now)),
        *_guarded("Mail relay", _relay_check),
        *_guarded("Virus scanner (clamd)", _scanner_check),
        *_guarded("Attachment store", _store_check),
        *_guarded("Database", lambda: _database_check(thorough)),
    ]
    db.session.rollback()  # read only: end the transaction the checks opened
    return found


def alarms() -> list[str]:
    """What must not wait for someone to open the health page (two small queries)."""
    now = utcnow()
    found = []
    escalated = db.session.scalar(
        select(JobRun.succeeded_at).where(JobRun.name == "escalate"))
    if escalated is None:
        found.append("Escalation has never run: messages past their reply time are not "
                     "being escalated. Start the worker (flask --app app smweb worker).")
    elif escalated < now - ESCALATION_LATE:
        found.append(f"Escalation last ran {_ago(escalated, now)}: messages past their "
                     f"reply time are not being escalated. Is the worker running?")
    failing_since = db.session.scalar(
        select(func.min(Notice.failing_since))
        .where(Notice.sent_at.is_(None), Notice.dropped.is_(None)))
    if failing_since is None or failing_since >= now - NOTICES_FAILING_TOO_LONG:
        return found
    # One address the relay keeps putting off (a full mailbox) is not "notices are not going
    # out": the alarm is for when nothing has gone since the failures began. (Asked only now:
    # it reads the sent notices, and this runs on every admin and coordinator page.)
    last_sent = db.session.scalar(select(func.max(Notice.sent_at)))
    if last_sent is None or last_sent < failing_since:
        found.append(f"Email notices are not going out: the first failure was "
                     f"{_ago(failing_since, now)}. Check the mail relay.")
    return found
