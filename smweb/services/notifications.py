"""Email notices that a secure message is waiting. They say only that: no names, subjects,
message text or facility details — an email is not a secure channel."""

import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import db
from ..models import Message, Preferences, Thread, User, group_members


def _compose(to: str, staff: bool) -> EmailMessage:
    cfg = current_app.config
    service = cfg["SERVICE_NAME"]
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = to
    if staff:
        email["Subject"] = f"New work in your {service} queue"
        lines = [f"There is new work in your care team's {service} queue.",
                 "Sign in to see it:"]
    else:
        email["Subject"] = f"You have a new message in {service}"
        lines = [f"You have a new secure message in {service}.", "Sign in to read it:"]
    lines += [cfg["SITE_URL"].rstrip("/") + "/sign-in", "",
              "For your privacy, this email does not include the message. Please do not "
              "reply to this email."]
    email.set_content("\n".join(lines))
    return email


def deliver(email: EmailMessage) -> bool:
    """Send by the configured way: SMTP, or (development) files in an outbox folder."""
    cfg = current_app.config
    try:
        if cfg["MAIL_BACKEND"] == "smtp":
            with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
                if cfg["SMTP_STARTTLS"]:
                    smtp.starttls()
                if cfg["SMTP_USERNAME"]:
                    smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
                smtp.send_message(email)
        else:
            outbox = Path(cfg["MAIL_OUTBOX"])
            outbox.mkdir(parents=True, exist_ok=True)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
            (outbox / f"{stamp}.eml").write_bytes(bytes(email))
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("email notice not delivered: %s", type(error).__name__)
        return False
    return True


def _prefs(user_ids) -> list[tuple[User, Preferences]]:
    return list(db.session.execute(
        select(User, Preferences).join(Preferences, Preferences.user_id == User.id)
        .where(User.id.in_(user_ids), User.disabled.is_(False), Preferences.email != "")
    ).tuples())


def message_sent(message: Message) -> int:
    """Tell whoever asked for an email per message that one is waiting: the patient when
    the team writes; the team's members when the patient does. Returns emails sent."""
    thread = message.thread
    if message.from_patient:
        ids = select(group_members.c.user_id).where(group_members.c.group_id == thread.group_id)
        staff = True
    else:
        ids = [thread.patient_id]
        staff = False
    sent = 0
    for _user, prefs in _prefs(ids):
        if prefs.notify != "each" or prefs.notified_through_message_id >= message.id:
            continue
        if deliver(_compose(prefs.email, staff=staff)):
            prefs.notified_through_message_id = message.id
            sent += 1
    db.session.commit()
    return sent


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


def send_digests() -> int:
    """Once a day (cron): one email to each user who chose a daily digest and has something
    new since the last one. A message is never announced twice."""
    users = select(Preferences.user_id).where(Preferences.notify == "daily")
    sent = 0
    for user, prefs in _prefs(users):
        newest = _newest_unannounced(user, prefs)
        if newest is None:
            continue
        if deliver(_compose(prefs.email, staff=user.is_staff)):
            prefs.notified_through_message_id = newest
            sent += 1
            db.session.commit()
    return sent
