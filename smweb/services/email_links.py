"""Links sent by email that work once and for a short time: "choose a new password"
(30 minutes) and "confirm your email address" (24 hours).

A request writes only a notice into the outbox (kind "reset" or "verify"): no token. The
worker makes the token as it sends the email (`issue`), keeps its SHA-256 in `email_links`
and puts the token itself in the email alone. So the outbox never holds a working link, and
neither does a copy of the database."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ..clock import utcnow
from ..extensions import db
from ..models import EmailLink, Notice, User
from .refusals import NotAllowed


@dataclass(frozen=True)
class Purpose:
    name: str  # EmailLink.purpose
    notice_kind: str  # Notice.kind of the email that carries it
    path: str  # where the link leads, before the token
    lasts: timedelta


RESET = Purpose("reset_password", "reset", "/reset-password/", timedelta(minutes=30))
VERIFY = Purpose("verify_email", "verify", "/confirm-email/", timedelta(hours=24))
BY_NOTICE_KIND = {p.notice_kind: p for p in (RESET, VERIFY)}
BY_NAME = {p.name: p for p in (RESET, VERIFY)}


class LinkRefused(NotAllowed):
    """A link that does not work (any more): `why` is "unknown", "used" or "expired"."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
        self.status = 404 if why == "unknown" else 410


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_key(user: User) -> list[tuple[str, int]]:
    """The limit on emails with a link to one account, whatever asked for them."""
    return [(f"link-account:{user.id}", current_app.config["EMAIL_LINKS_PER_ACCOUNT"])]


def queue(user: User, purpose: Purpose) -> None:
    """Ask for the email (in the caller's transaction: the caller commits)."""
    now = utcnow()
    db.session.add(Notice(user_id=user.id, kind=purpose.notice_kind, staff=False,
                          created_at=now, next_attempt_at=now))


def issue(notice: Notice) -> tuple[Purpose, str]:
    """The worker, about to send a link's email: a new token, its hash kept (committed now,
    before the email goes: a link in an email always names a row). Returns the link."""
    purpose = BY_NOTICE_KIND[notice.kind]
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(EmailLink(purpose=purpose.name, user_id=notice.user_id,
                             token_hash=_hash(token), created_at=now,
                             expires_at=now + purpose.lasts))
    db.session.commit()
    return purpose, current_app.config["SITE_URL"].rstrip("/") + purpose.path + token


def find(purpose: Purpose, token: str) -> EmailLink:
    """The link this token names, if it still works; LinkRefused says why not."""
    link = db.session.scalar(select(EmailLink).where(
        EmailLink.token_hash == _hash(token[:200]), EmailLink.purpose == purpose.name))
    if link is None or link.user.disabled:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if utcnow() >= link.expires_at:
        raise LinkRefused("expired")
    return link


def use(link: EmailLink) -> None:
    """The link has done its work: it, and every other link of its kind sent to the same
    account, stops working (in the caller's transaction). Refused if another request used it
    first (a double click): the update says whether this one did."""
    now = utcnow()
    taken = db.session.execute(
        update(EmailLink).where(EmailLink.id == link.id, EmailLink.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        db.session.rollback()
        raise LinkRefused("used")
    retire(link.user, BY_NAME[link.purpose], now)


def retire(user: User, purpose: Purpose, now=None) -> None:
    """Every link of this kind sent to the account so far stops working (in the caller's
    transaction): one was used, or a new one is on its way."""
    db.session.execute(
        update(EmailLink).where(EmailLink.user_id == user.id,
                                EmailLink.purpose == purpose.name, EmailLink.used_at.is_(None))
        .values(used_at=now or utcnow()).execution_options(synchronize_session=False))
