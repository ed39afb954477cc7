"""Accounts: password hashing, sign-in checks, opting in to messaging."""

import contextlib
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import func, select
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ..clock import utcnow
from ..config import N_
from ..extensions import db
from ..models import User, UserSession
from . import audit, sessions, throttle, twofactor
from .refusals import NotAllowed


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )


def password_hasher() -> PasswordHasher:
    """argon2id with the site's parameters (by default t=2, m=64 MiB, p=1)."""
    cfg = current_app.config
    return _hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"])


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not-a-real-password")


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))


def authenticate(username: str, password: str) -> User | None:
    """The user these credentials belong to, or None. Costs one hash either way, so the
    answer time does not tell whether the username exists."""
    hasher = password_hasher()
    user = find_user(username)
    if user is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(hasher), password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user.disabled:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
    return user


def locked_out(username: str, ip: str | None, step: str = "account") -> datetime | None:
    """Until when this account or address may not try this step of signing in, if it is
    locked out now; a try refused so is audited, as the account it named."""
    until = throttle.locked_until(username, ip, step)
    if until:
        audit.record("sign_in_locked", find_user(username))
    return until


def sign_in_failed(username: str, ip: str | None, step: str = "account") -> datetime | None:
    """A wrong password, or (step "code") a wrong code: audited as the account it named,
    when there is one, and counted towards the lockout. Returns when tries may start again,
    if this one locked them."""
    audit.record("sign_in_failed", find_user(username))
    return throttle.record_failure(username, ip, step)


MIN_PASSWORD, MAX_PASSWORD = 12, 128

# What zxcvbn says is wrong with a password, in its English (marked to be translated: the
# refusal shows it through gettext).
ZXCVBN_WARNINGS = (
    N_("Straight rows of keys are easy to guess."),
    N_("Short keyboard patterns are easy to guess."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    N_('Sequences like "abc" or "6543" are easy to guess.'),
    N_("Recent years are easy to guess."),
    N_("Dates are often easy to guess."),
    N_("This is a top-10 common password."),
    N_("This is a top-100 common password."),
    N_("This is a very common password."),
    N_("This is similar to a commonly used password."),
    N_("A word by itself is easy to guess."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("Common names and surnames are easy to guess."),
)


class PasswordError(NotAllowed):
    """A password the rules refuse; the text says why, in words a patient understands.
    `field`: which one was wrong, the current password or the new one."""

    def __init__(self, text: str, field: str = "new", status: int = 422) -> None:
        super().__init__(text)
        self.field, self.status = field, status


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords from leaked lists, as zxcvbn ships them."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_new_password(password: str, *, username: str = "", display_name: str = "") -> None:
    """12 to 128 characters, any characters at all (spaces welcome: a sentence makes a good
    password), and not one that is common or easy to guess from who you are."""
    if len(password) < MIN_PASSWORD:
        raise PasswordError(gettext("Use at least %(num)d characters. A short sentence you "
                                    "can remember works well.", num=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise PasswordError(gettext("Use at most %(num)d characters.", num=MAX_PASSWORD))
    if password.lower() in _common_passwords():
        raise PasswordError(gettext("This password is one of the most common passwords. "
                                    "Choose another."))
    hints = [username, *display_name.split(), current_app.config["SERVICE_NAME"]]
    # zxcvbn estimates how many guesses a password takes: 3 means about 10^8 or more.
    result = zxcvbn(password[:72], user_inputs=[h for h in hints if h])
    if result["score"] < 3:
        warning = gettext(result["feedback"]["warning"] or
                          N_("This password is too easy to guess."))
        raise PasswordError(gettext("%(warning)s. Choose a longer or less predictable "
                                    "password, for example a few unrelated words.",
                                    warning=warning.rstrip(".")))


def set_password(user: User, password: str, *, must_change: bool = False) -> None:
    """A new password (checked by the rules), and whether the next sign-in must change it."""
    check_new_password(password, username=user.username, display_name=user.display_name)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change


def confirm_password(user: User, password: str, ip: str | None) -> None:
    """Raises PasswordError unless this is the user's password (before a sensitive change).
    Wrong ones count with the sign-in's: 5 pause both, so a stolen session can't be used to
    guess the password at leisure."""
    if until := throttle.locked_until(user.username, ip):
        raise PasswordError(_paused(until), "current", 429)
    try:
        password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        if until := throttle.record_failure(user.username, ip):
            raise PasswordError(_paused(until), "current", 429) from None
        raise PasswordError(gettext("Your current password is not right."),
                            "current") from None


def _paused(until) -> str:
    minutes = throttle.minutes_left(until)
    return ngettext("Too many wrong passwords. For your security, this is paused for about "
                    "%(num)d minute.",
                    "Too many wrong passwords. For your security, this is paused for about "
                    "%(num)d minutes.", minutes)


def change_password(user: User, current: str, new: str, ip: str | None,
                    keep: UserSession | None) -> None:
    """The user's own change: the current password first, then the rules for the new one;
    every session of the account but `keep` (this browser's) ends."""
    confirm_password(user, current, ip)
    if new == current:
        raise PasswordError(gettext("Choose a password different from the current one."))
    set_password(user, new)
    sessions.end_all(user, "password", keep=keep)
    audit.add("password_change", user, target_user=user)
    db.session.commit()


def sign_out_everywhere(user: User) -> None:
    """End every session of the account, on every device, this one included."""
    sessions.end_all(user, "everywhere")
    audit.add("sessions_end", user, target_user=user)
    db.session.commit()


def turn_off_two_step(user: User, password: str, ip: str | None) -> None:
    """A patient turns the second factor off, after giving their password again."""
    confirm_password(user, password, ip)
    twofactor.turn_off(user)
    audit.add("two_step_off", user, target_user=user)
    db.session.commit()


def create_user(username: str, password: str, display_name: str, **fields) -> User:
    user = User(
        username=username.strip().lower(),
        password_hash=hash_password(password),
        display_name=display_name,
        **fields,
    )
    db.session.add(user)
    return user


def opt_in(user: User) -> None:
    """The patient accepts the terms of use and may now use messaging."""
    user.opted_in_at = utcnow()
    db.session.commit()


def opt_out(user: User) -> None:
    """The patient leaves messaging; their messages stay, and they may opt in again."""
    user.opted_in_at = None
    db.session.commit()


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
