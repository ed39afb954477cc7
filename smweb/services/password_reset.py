"""Forgot your password? An email with a link that works once, for 30 minutes, and then
a new password.

Whether or not an account matches what was typed, the page says the same, so it tells
nobody which names or addresses have accounts here. The limits do not tell it either: the
one a person can see (a 429 saying when to try again) counts what was typed and the network
address, whether or not an account matches; the limit per account (a username and an
address of the same account, tried in turn) only stops the emails, silently."""

from datetime import datetime

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from .. import tasks
from ..extensions import db
from ..models import Preferences, User
from . import accounts, audit, email_links, sessions, throttle
from .refusals import NotAllowed

MOST_ACCOUNTS = 5  # accounts that share one email address each get their own email


class Paused(NotAllowed):
    """Too many requests from this address, or for what was typed: try again at `until`."""

    status = 429

    def __init__(self, until: datetime) -> None:
        minutes = throttle.minutes_left(until)
        super().__init__(ngettext(
            "Too many requests for a new password. For your security, please wait about "
            "%(num)d minute and try again.",
            "Too many requests for a new password. For your security, please wait about "
            "%(num)d minutes and try again.", minutes))
        self.until = until


def _keys(typed: str, ip: str | None) -> list[tuple[str, int]]:
    cfg = current_app.config
    keys = [(f"reset:{throttle.hashed(typed)}", cfg["EMAIL_LINKS_PER_TYPED"])]
    if ip:
        keys.append((f"link-ip:{ip}", cfg["EMAIL_LINKS_PER_IP"]))
    return keys


def _matching(typed: str) -> list[User]:
    """Accounts that may receive the email: the username, or an account's email address
    (for notices), as typed; never a disabled one, nor one without an address."""
    typed = typed.strip().lower()
    return list(db.session.scalars(
        select(User).join(Preferences, Preferences.user_id == User.id)
        .where(or_(User.username == typed, func.lower(Preferences.email) == typed),
               User.disabled.is_(False), Preferences.email != "")
        .order_by(User.id).limit(MOST_ACCOUNTS)))


def ask(typed: str, ip: str | None) -> None:
    """Send the link to the account(s) that what was typed names, if any (Paused when this
    address or what was typed asked too often). Says nothing of what it found."""
    keys = _keys(typed, ip)
    if until := throttle.requests_paused(keys):
        raise Paused(until)
    throttle.count_request(keys)
    queued = 0
    for user in _matching(typed):
        if throttle.requests_paused(email_links.account_key(user)):
            continue  # silently: a 429 here would say the account exists
        throttle.count_request(email_links.account_key(user))
        email_links.queue(user, email_links.RESET)
        queued += 1
    db.session.commit()
    if queued:
        tasks.deliver_soon()


def check(token: str) -> User:
    """The account a reset link (still) works for; email_links.LinkRefused otherwise."""
    return email_links.find(email_links.RESET, token).user


def reset(token: str, new_password: str) -> User:
    """The new password, by the link: checked by the same rules as a change; the link stops
    working, every session of the account ends, and the reset is audited — in one commit.
    The caller signs the person in (after the second factor, for those who have one)."""
    link = email_links.find(email_links.RESET, token)
    user = link.user
    accounts.set_password(user, new_password)  # PasswordError: the rules said no
    email_links.use(link)
    sessions.end_all(user, "password")
    audit.add("password_reset_link", user, target_user=user)
    db.session.commit()
    return user
