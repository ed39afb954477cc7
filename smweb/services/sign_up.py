"""Signing up: a patient makes their own account. It is a basic account: the patient
confirms the email address by a link (24 hours, once), and messaging waits until staff who
check the person's identity in person make it premium (services/identity.py).

The limit is per network address (SIGN_UPS_PER_IP tries a window, refused ones too): a 429
that says when to try again. A username already taken is said so: the person has to choose
another, and usernames are not secret (they are typed at the desk). An email address is
never said to be in use."""

import re
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_request_context
from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import i18n, tasks
from ..clock import utcnow
from ..extensions import db
from ..models import Preferences, User
from ..models.people import AccountLevel, Role
from . import accounts, audit, email_links, throttle
from .refusals import NotAllowed

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


class SignUpError(NotAllowed):
    """What was typed can't make an account; `field` names the box the text belongs to."""

    def __init__(self, text: str, field: str, status: int = 422) -> None:
        super().__init__(text)
        self.field, self.status = field, status


class Paused(NotAllowed):
    """Too many sign-ups or emails from here, or for this account: try again at `until`."""

    status = 429

    def __init__(self, until: datetime, what: str = "sign-ups from this network") -> None:
        minutes = throttle.minutes_left(until)
        if what == "emails for this account":
            text = ngettext("Too many emails for this account. Please wait about %(num)d "
                            "minute and try again.",
                            "Too many emails for this account. Please wait about %(num)d "
                            "minutes and try again.", minutes)
        else:
            text = ngettext("Too many sign-ups from this network. Please wait about %(num)d "
                            "minute and try again.",
                            "Too many sign-ups from this network. Please wait about %(num)d "
                            "minutes and try again.", minutes)
        super().__init__(text)
        self.until = until


def check_username(username: str) -> str:
    """The username as it will be kept (lower case), or SignUpError saying what to change."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise SignUpError(gettext("Use 3 to 64 letters (a to z) or digits; dots, dashes and "
                                  "underscores may go between them. No spaces."), "username")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise SignUpError(gettext("This username is taken. Choose another, for example with "
                                  "a number or your middle initial."), "username")
    return username


TWICE_WITHIN = timedelta(minutes=10)


def _pressed_twice(username: str, password: str) -> User | None:
    """The account this very sign-up made a moment ago (Make my account pressed twice, or
    the page sent again after Back): the same person goes on, with no second email."""
    user = accounts.find_user(username)
    if (user is None or not user.needs_email_confirmation
            or user.created_at < utcnow() - TWICE_WITHIN):
        return None
    try:
        accounts.password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def _ip_keys(ip: str | None) -> list[tuple[str, int]]:
    return [(f"sign-up-ip:{ip}", current_app.config["SIGN_UPS_PER_IP"])] if ip else []


def sign_up(display_name: str, username: str, email: str, password: str,
            ip: str | None, caregiver: bool = False) -> User:
    """A new basic patient account (or a caregiver's: it opens what patients give it
    access to), and the email with the link that confirms its address (sent by the
    worker), in one commit. Refused (SignUpError, Paused) before anything is
    written. The caller signs the person in."""
    keys = _ip_keys(ip)
    if until := throttle.requests_paused(keys):
        raise Paused(until)
    throttle.count_request(keys)  # tries count too: no guessing a new account's password
    display_name = " ".join(display_name.split())
    if (twice := _pressed_twice(username, password)) is not None:
        return twice
    username = check_username(username)
    try:
        accounts.check_new_password(password, username=username, display_name=display_name)
    except accounts.PasswordError as refusal:
        raise SignUpError(str(refusal), "password") from None
    user = accounts.create_user(username, password, display_name,
                                role=Role.CAREGIVER if caregiver else Role.PATIENT,
                                account_level=AccountLevel.BASIC, signed_up=True)
    try:
        db.session.flush()  # the username's unique index: another sign-up may just have won
    except IntegrityError:
        db.session.rollback()
        raise SignUpError(gettext("This username is taken. Choose another."),
                          "username") from None
    if has_request_context() and (language := i18n.page_language()) != i18n.DEFAULT:
        # the account's emails (the first one now) in the language its pages were read in
        user.language = language
    db.session.add(Preferences(user_id=user.id, email=email.strip()))
    email_links.queue(user, email_links.VERIFY)
    audit.add("sign_up", user, target_user=user)
    db.session.commit()
    tasks.deliver_soon()
    return user


def send_again(user: User, email: str) -> None:
    """Another link to confirm the address, to the address given (corrected, perhaps): the
    links sent before stop working. At most EMAIL_LINKS_PER_ACCOUNT in the window."""
    keys = email_links.account_key(user)
    if until := throttle.requests_paused(keys):
        raise Paused(until, "emails for this account")
    throttle.count_request(keys)
    prefs = db.session.get(Preferences, user.id)
    if prefs is None:
        prefs = Preferences(user_id=user.id)
        db.session.add(prefs)
    prefs.email = email.strip()
    email_links.retire(user, email_links.VERIFY)
    email_links.queue(user, email_links.VERIFY)
    db.session.commit()
    tasks.deliver_soon()


def check_link(token: str) -> User:
    """The account a confirmation link (still) works for; email_links.LinkRefused if not."""
    return email_links.find(email_links.VERIFY, token).user


def confirm(token: str) -> User:
    """The address is the person's: the link stops working, and the account goes on (to the
    basic account's page: its identity is checked in person next). Audited, one commit."""
    link = email_links.find(email_links.VERIFY, token)
    user = link.user
    email_links.use(link)
    user.email_confirmed_at = utcnow()
    audit.add("email_confirm", user, target_user=user)
    db.session.commit()
    return user
