"""Email notices that a secure message is waiting. They say only that: no names, subjects,
message text or facility details — an email is not a secure channel.

A send writes its notices into the outbox (the `notices` table) in the same transaction as
the message; the worker delivers them (smweb/tasks.py). A notice is claimed before it goes,
so two workers never send the same one, and marked sent as soon as the relay accepts it; one
the relay can't take now is tried again later, less and less often, until it goes."""

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import delete, func, or_, select, update

from .. import i18n
from ..clock import utcnow
from ..extensions import db
from ..models import Message, Notice, Preferences, Thread, User, group_members
from . import email_links

# After a failed try the next comes NOTICE_RETRY_SECONDS later, doubling, at most an hour.
RETRY_MOST = timedelta(hours=1)


def _language(language: str | None) -> str:
    """The language of a person's emails: the one they chose (users.language), else English."""
    return i18n.known(language) or i18n.DEFAULT


def _compose(notice_id: int, to: str, staff: bool, language: str | None = None) -> EmailMessage:
    """The notice, in its reader's language (`language`: users.language; None is English)."""
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = to
    # The same id on every try: a notice sent again after a crash is the same email.
    domain = cfg["MAIL_FROM"].rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<smweb-notice-{notice_id}@{domain}>"
    with force_locale(_language(language)):
        service = i18n.site_text("SERVICE_NAME")
        if staff:
            email["Subject"] = gettext("New work in your %(service)s queue", service=service)
            lines = [gettext("There is new work in your care team's %(service)s queue.",
                             service=service),
                     gettext("Sign in to see it:")]
        else:
            email["Subject"] = gettext("You have a new message in %(service)s", service=service)
            lines = [gettext("You have a new secure message in %(service)s.", service=service),
                     gettext("Sign in to read it:")]
        lines += [cfg["SITE_URL"].rstrip("/") + "/sign-in", "",
                  gettext("For your privacy, this email does not include the message. Please "
                          "do not reply to this email.")]
    email.set_content("\n".join(lines))
    return email


def _compose_link(notice: Notice, to: str) -> EmailMessage:
    """An email with a one-use link (a new password, confirming the address): the link is
    made now, as it goes (email_links.issue). It says nothing of any message."""
    cfg = current_app.config
    user = db.session.get(User, notice.user_id)
    username = user.username
    purpose, link = email_links.issue(notice)
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = to
    domain = cfg["MAIL_FROM"].rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<smweb-notice-{notice.id}@{domain}>"
    with force_locale(_language(user.language)):  # the reader's language, English if none
        service = i18n.site_text("SERVICE_NAME")
        if purpose is email_links.RESET:
            email["Subject"] = gettext("Choose a new password for %(service)s", service=service)
            lines = [gettext("Someone asked to choose a new password for the %(service)s "
                             "account with the username %(username)s. To choose one, open "
                             "this link:", service=service, username=username), "", link, "",
                     gettext("The link works once, for 30 minutes."),
                     gettext("If you did not ask, ignore this email: your password stays as "
                             "it is.")]
        else:
            email["Subject"] = gettext("Confirm your email address for %(service)s",
                                       service=service)
            lines = [gettext("To confirm this is the email address of the %(service)s account "
                             "with the username %(username)s, open this link:",
                             service=service, username=username), "", link, "",
                     gettext("The link works once, for 24 hours."),
                     gettext("If you did not make this account, ignore this email.")]
        lines += ["", gettext("Please do not reply to this email.")]
    email.set_content("\n".join(lines))
    return email


# --- writing notices (inside the caller's transaction) ----------------------------------

def _prefs(user_ids) -> list[tuple[User, Preferences]]:
    return list(db.session.execute(
        select(User, Preferences).join(Preferences, Preferences.user_id == User.id)
        .where(User.id.in_(user_ids), User.disabled.is_(False), Preferences.email != "")
    ).tuples())


def queue_for(message: Message) -> int:
    """Write a notice for whoever asked for an email per message: the patient when the team
    writes; the team's members when the patient does. Part of the sender's transaction: the
    caller commits. Returns the notices written."""
    db.session.flush()  # the message's id
    thread = message.thread
    if message.from_patient:
        ids = select(group_members.c.user_id).where(group_members.c.group_id == thread.group_id)
    else:
        ids = [thread.patient_id]
    written = 0
    for user, prefs in _prefs(ids):
        if prefs.notify != "each" or prefs.notified_through_message_id >= message.id:
            continue
        db.session.add(Notice(user_id=user.id, kind="message", staff=user.is_staff,
                              created_at=message.sent_at, next_attempt_at=message.sent_at))
        prefs.notified_through_message_id = message.id
        written += 1
    return written


def _newest_unannounced(user: User, prefs: Preferences) -> int | None:
    """The newest message for this user that no email has announced yet, if any."""
    query = select(func.max(Message.id)).join(Thread, Thread.id == Message.thread_id).where(
        Message.id > prefs.notified_through_message_id)
    if user.is_patient:
        query = query.where(Thread.patient_id == user.id, Message.from_patient.is_(False))
    else:
        query = query.where(Message.from_patient.is_(True), Thread.group_id.in_(
            select(group_members.c.group_id).where(group_members.c.user_id == user.id)))
    return db.session.scalar(query)


def queue_digests() -> int:
    """Once a day: a notice for each user who chose a daily digest and has something new
    since the last one. A message is never announced twice. Returns the notices written."""
    users = select(Preferences.user_id).where(Preferences.notify == "daily")
    now = utcnow()
    written = 0
    for user, prefs in _prefs(users):
        newest = _newest_unannounced(user, prefs)
        if newest is None:
            continue
        db.session.add(Notice(user_id=user.id, kind="digest", staff=user.is_staff,
                              created_at=now, next_attempt_at=now))
        prefs.notified_through_message_id = newest
        written += 1
    db.session.commit()
    return written


# --- delivering them (the worker) ---------------------------------------------------------

class _Relay:
    """The configured way out: one SMTP connection for a run of notices, or (development)
    files in an outbox folder."""

    def __init__(self) -> None:
        self.cfg = current_app.config
        self.smtp: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        if self.cfg["MAIL_BACKEND"] != "smtp":
            outbox = Path(self.cfg["MAIL_OUTBOX"])
            outbox.mkdir(parents=True, exist_ok=True)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
            (outbox / f"{stamp}.eml").write_bytes(bytes(email))
            return
        if self.smtp is None:
            smtp = smtplib.SMTP(self.cfg["SMTP_HOST"], self.cfg["SMTP_PORT"],
                                timeout=self.cfg["SMTP_TIMEOUT_SECONDS"])
            try:
                if self.cfg["SMTP_STARTTLS"]:
                    smtp.starttls()
                if self.cfg["SMTP_USERNAME"]:
                    smtp.login(self.cfg["SMTP_USERNAME"], self.cfg["SMTP_PASSWORD"])
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        try:
            self.smtp.send_message(email)
        except OSError as error:
            if _relay_down(error):  # the connection is gone; a refused address leaves it up
                self.close()
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def __enter__(self) -> "_Relay":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _error_kind(error: Exception) -> str:
    """What went wrong, without anything of the email: an SMTP reply code or a class name."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in error.recipients.values()})
        return "SMTP " + ",".join(str(code) for code in codes) + " (recipient refused)"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}"
    return type(error).__name__


def _for_good(error: Exception) -> bool:
    """The relay refused this address permanently (5xx): trying again would not help."""
    return isinstance(error, smtplib.SMTPRecipientsRefused) and all(
        500 <= code < 600 for code, _text in error.recipients.values())


def _relay_down(error: Exception) -> bool:
    """Nothing can go now, not only this notice: no connection, the relay hung up, would not
    greet us or refused our login (trying again for each notice would only risk a lockout).
    (SMTPException is an OSError too: a refusal of one email is not this.)"""
    if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPHeloError
                  | smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return True
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code in (421, 530):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException):
        return False
    return isinstance(error, OSError)


def retry_delay(attempts: int) -> timedelta:
    first = timedelta(seconds=current_app.config["NOTICE_RETRY_SECONDS"])
    return min(first * 2 ** min(max(attempts - 1, 0), 20), RETRY_MOST)  # 2**20: no overflow


def _due(now: datetime):
    return (Notice.sent_at.is_(None), Notice.dropped.is_(None), Notice.next_attempt_at <= now,
            or_(Notice.claimed_until.is_(None), Notice.claimed_until < now))


def lease() -> timedelta:
    """How long a claim holds: at least ten of the relay's timeouts (connect, greeting,
    STARTTLS, login, sender, recipient, data: each may take one), so a slow relay never
    lets a second worker take a notice the first is still sending."""
    cfg = current_app.config
    return timedelta(seconds=max(cfg["NOTICE_LEASE_SECONDS"], 10 * cfg["SMTP_TIMEOUT_SECONDS"]))


def _claim_next(now: datetime) -> Notice | None:
    """Take the next notice due, so no other worker sends it meanwhile."""
    held = lease()
    while True:
        notice_id = db.session.scalar(
            select(Notice.id).where(*_due(now)).order_by(Notice.next_attempt_at, Notice.id)
            .limit(1))
        if notice_id is None:
            return None
        taken = db.session.execute(
            update(Notice).where(Notice.id == notice_id, *_due(now))
            .values(claimed_until=now + held, attempts=Notice.attempts + 1)
            .execution_options(synchronize_session=False))
        db.session.commit()
        if taken.rowcount == 1:
            return db.session.get(Notice, notice_id, populate_existing=True)


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    retry_in: timedelta | None = None  # when to try again, if something is left to retry
    more: bool = False  # the time budget ran out with notices still due

    def __str__(self) -> str:
        return f"Sent {self.sent} notice(s), {self.failed} to retry, {self.dropped} dropped."


def deliver_due(limit: int = 200, budget: timedelta = timedelta(minutes=1)) -> Delivery:
    """Deliver the notices that are due, one claimed at a time, for at most `budget` (then
    `more` says so: the caller asks again, so scheduled jobs get their turn meanwhile). A
    notice is marked sent the moment the relay accepts it; a relay that is down puts every
    waiting notice off together."""
    done = Delivery()
    ends = utcnow() + budget
    with _Relay() as relay:
        for _ in range(limit):
            if utcnow() > ends:
                done.more = True
                break
            now = utcnow()
            notice = _claim_next(now)
            if notice is None:
                break
            address, language = db.session.execute(
                select(Preferences.email, User.language)
                .join(User, User.id == Preferences.user_id)
                .where(Preferences.user_id == notice.user_id, User.disabled.is_(False))
            ).first() or (None, None)
            if not address:
                notice.dropped, notice.claimed_until = "no address", None
                db.session.commit()
                done.dropped += 1
                continue
            link_purpose = email_links.BY_NOTICE_KIND.get(notice.kind)
            if link_purpose is not None and notice.created_at < now - link_purpose.lasts:
                # a link asked for longer ago than it would last: the person has moved on
                notice.dropped, notice.claimed_until = "expired", None
                db.session.commit()
                done.dropped += 1
                continue
            try:
                relay.send(_compose_link(notice, address) if link_purpose is not None
                           else _compose(notice.id, address, notice.staff, language))
            except Exception as error:  # any failure is this notice's, recorded: never a loop
                _failed(notice, error, utcnow(), done)
                if _relay_down(error):
                    break
                continue
            notice.sent_at, notice.claimed_until = utcnow(), None
            notice.failing_since = notice.last_error = None
            db.session.commit()
            done.sent += 1
    done.retry_in = None if done.more else _next_due(utcnow())
    return done


def _next_due(now: datetime) -> timedelta | None:
    """How long until a waiting notice can next be tried: its retry time, or the end of a
    claim left by a worker that died (so the worker asks again then, not at the sweep)."""
    unsent = (Notice.sent_at.is_(None), Notice.dropped.is_(None))
    retry = db.session.scalar(select(func.min(Notice.next_attempt_at)).where(
        *unsent, or_(Notice.claimed_until.is_(None), Notice.claimed_until < now)))
    claim = db.session.scalar(select(func.min(Notice.claimed_until)).where(
        *unsent, Notice.claimed_until >= now))
    db.session.rollback()
    moments = [m for m in (retry, claim) if m is not None]
    if not moments:
        return None
    return max(min(moments) - now, timedelta(seconds=1))


def _failed(notice: Notice, error: Exception, now: datetime, done: Delivery) -> None:
    kind = _error_kind(error)
    current_app.logger.warning("email notice %s not delivered: %s", notice.id, kind)
    notice.last_error, notice.claimed_until = kind, None
    notice.failing_since = notice.failing_since or now
    give_up = timedelta(hours=current_app.config["NOTICE_GIVE_UP_HOURS"])
    if _for_good(error) or notice.created_at < now - give_up:
        notice.dropped = "refused" if _for_good(error) else "expired"
        db.session.commit()
        done.dropped += 1
        return
    delay = retry_delay(notice.attempts)
    notice.next_attempt_at = now + delay
    if _relay_down(error):
        # Everything else waiting would meet the same closed door: it waits as long.
        db.session.execute(
            update(Notice).where(Notice.id != notice.id, *_due(now))
            .values(next_attempt_at=now + delay, last_error=kind,
                    failing_since=func.coalesce(Notice.failing_since, now))
            .execution_options(synchronize_session=False))
    db.session.commit()
    done.failed += 1


def prune(keep: timedelta) -> int:
    """Forget notices sent or dropped longer ago than `keep` (the outbox would only grow)."""
    before = utcnow() - keep
    gone = db.session.execute(delete(Notice).where(or_(
        Notice.sent_at < before, (Notice.dropped.is_not(None)) & (Notice.created_at < before))))
    db.session.commit()
    return gone.rowcount


# --- what the health page shows ---------------------------------------------------------

@dataclass(frozen=True)
class OutboxState:
    waiting: int
    failing: int
    failing_since: datetime | None
    last_error: str | None
    oldest_waiting: datetime | None


def outbox_state() -> OutboxState:
    unsent = (Notice.sent_at.is_(None), Notice.dropped.is_(None))
    waiting, failing, since, oldest = db.session.execute(
        select(func.count(), func.count(Notice.failing_since), func.min(Notice.failing_since),
               func.min(Notice.created_at)).where(*unsent)).one()
    last_error = db.session.scalar(
        select(Notice.last_error).where(*unsent, Notice.last_error.is_not(None))
        .order_by(Notice.id.desc()).limit(1))
    return OutboxState(waiting, failing, since, last_error, oldest)
