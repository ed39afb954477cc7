"""Server-side sessions: started at sign-in, ended by signing out, by time, or by an admin.

The browser's cookie carries a random token; the database keeps only its SHA-256. Each request
checks the row: an ended, idle or too-old session is refused, so a copied cookie is worth
nothing once its session has ended.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import ua_parser
from flask import current_app
from flask_babel import gettext
from sqlalchemy import bindparam, delete, or_, select, update

from ..clock import utcnow
from ..extensions import db
from ..models import User, UserSession
from . import audit, throttle

# Activity is written at most this often (and never by a list's automatic refresh): a plain
# GET of a page is not a database write every time.
TOUCH_EVERY = timedelta(seconds=60)

# A session that timed out (not one ended on purpose) can still have the message form it
# posts kept as a draft for this long after its last activity: a patient who wrote for an
# hour without JavaScript and then pressed Send does not lose the text.
TIMED_OUT = frozenset({"idle", "absolute"})
UNSENT_KEPT_FOR = timedelta(hours=12)


@dataclass(frozen=True)
class Check:
    """What the cookie's token is worth: the live session, or why it ended (or None)."""

    session: UserSession | None
    ended: str | None = None
    # Whose session ran out of time (idle or absolute) not long ago: a message form posted
    # from it may still be kept as that user's draft (never sent, nothing shown).
    timed_out: User | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit(user: User, shared: bool) -> timedelta:
    """15 minutes for staff, 30 for patients by default; shorter on a shared computer."""
    cfg = current_app.config
    minutes = cfg["PATIENT_IDLE_MINUTES"] if user.is_patient else cfg["STAFF_IDLE_MINUTES"]
    if shared:
        minutes = min(minutes, cfg["SHARED_IDLE_MINUTES"])
    return timedelta(minutes=minutes)


def start(user: User, *, shared: bool, ip: str | None, user_agent: str,
          language: str | None = None) -> str:
    """A whole sign-in that succeeded (password and, for staff, the code): a new session for
    the browser at `ip` that calls itself `user_agent`, the sign-in's audit row, and the
    account's failed tries forgotten; `language`, chosen on the sign-in page, is kept with
    the account. Returns the token for its cookie."""
    if language:
        user.language = language
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(
        token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]),
        idle_seconds=int(idle_limit(user, shared).total_seconds()), shared=shared,
        ip=(ip or "")[:45], user_agent=user_agent[:200],
    ))
    audit.add("sign_in", user)
    db.session.commit()
    throttle.clear(user.username)
    user.session_token = token
    return token


# Asked on every signed-in request: built once (SQLAlchemy then reuses its compiled SQL).
_BY_TOKEN = (select(UserSession, User).join(User, User.id == UserSession.user_id)
             .where(UserSession.token_hash == bindparam("token_hash")))


def check(token: str) -> Check:
    """The live session this token names. A session found idle or past its limit is ended
    here, and the reason given, so the sign-in page can say what happened."""
    found = db.session.execute(_BY_TOKEN, {"token_hash": _hash(token)}).first()
    if found is None:
        return Check(None)
    row = found.UserSession  # its .user is the User read with it (no second query)
    if row.ended_at is not None:
        return Check(None, row.end_reason, _timed_out(row))
    now = utcnow()
    reason = None
    if now >= row.expires_at:
        reason = "absolute"
    elif now - row.last_seen_at >= timedelta(seconds=row.idle_seconds):
        reason = "idle"
    elif row.user.disabled:
        reason = "disabled"
    if reason:
        end(row, reason)
        return Check(None, reason, _timed_out(row))
    row.user.session_token = token
    return Check(row)


def _timed_out(row: UserSession) -> User | None:
    """The user of a session that ran out of time, within UNSENT_KEPT_FOR of their last
    activity; None for a session ended on purpose (signed out, by an admin, ...)."""
    if row.end_reason in TIMED_OUT and utcnow() - row.last_seen_at <= UNSENT_KEPT_FOR:
        return row.user
    return None


def remaining(row: UserSession) -> int:
    """Seconds until this session ends if nothing more is done."""
    deadline = min(row.expires_at, row.last_seen_at + timedelta(seconds=row.idle_seconds))
    return max(0, int((deadline - utcnow()).total_seconds()))


def touch(row: UserSession, force: bool = False) -> None:
    """Note activity: at most once a minute (or once a quarter of a short idle limit), unless
    the user asked to stay signed in."""
    now = utcnow()
    every = min(TOUCH_EVERY, timedelta(seconds=row.idle_seconds / 4))
    if force or now - row.last_seen_at >= every:
        row.last_seen_at = now
        db.session.commit()


def end(row: UserSession, reason: str) -> None:
    """This session is over (it ran out of time, or its account was disabled)."""
    if row.ended_at is None:
        row.ended_at, row.end_reason = utcnow(), reason
        db.session.commit()


def sign_out(user: User, row: UserSession | None, reason: str) -> None:
    """The person signs out (or their page did, idle): this browser's session ends."""
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = utcnow(), reason
    audit.add("sign_out", user)
    db.session.commit()


def end_all(user: User, reason: str, keep: UserSession | None = None) -> int:
    """End every live session of this user (but `keep`); returns how many ended. Joins the
    caller's transaction: the caller commits it with the change that ended them."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    return db.session.execute(query.values(ended_at=utcnow(), end_reason=reason)).rowcount


def prune(keep: timedelta) -> int:
    """Delete sessions over for longer than `keep`: ended, or past their absolute limit (an
    idle one nobody came back to is never marked ended). Returns how many."""
    cutoff = utcnow() - keep
    deleted = db.session.execute(delete(UserSession).where(
        or_(UserSession.ended_at < cutoff, UserSession.expires_at < cutoff))).rowcount
    db.session.commit()
    return deleted


def active_for(user: User) -> list[UserSession]:
    """The user's sessions that are still live, most recent activity first."""
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    now = utcnow()
    return [r for r in rows if now < r.expires_at
            and now - r.last_seen_at < timedelta(seconds=r.idle_seconds)]


def device_name(user_agent: str) -> str:
    """'Firefox on Windows': enough to recognise a device in the list of sessions. The user
    agent is read by ua-parser, whose rules are kept up to date with new browsers."""
    found = ua_parser.parse(user_agent)
    browser = found.user_agent.family if found.user_agent else None
    system = found.os.family if found.os else None
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or gettext("Unknown browser")


def ended_notice(reason: str | None) -> str | None:
    """What the sign-in page says about a session that ended without the user signing out."""
    cfg = current_app.config
    if reason == "idle":
        return gettext("For your security, you were signed out after a time without "
                       "activity. Please sign in again.")
    if reason == "absolute":
        hours = "{:g}".format(cfg["SESSION_ABSOLUTE_HOURS"])
        return gettext("For your security, you were signed out: a session lasts at most "
                       "%(hours)s hours. Please sign in again.", hours=hours)
    if reason in {"everywhere", "admin", "password", "disabled"}:
        return gettext("Your session was ended. Please sign in again.")
    return None

