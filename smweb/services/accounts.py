"""Accounts: password hashing, sign-in checks, opting in to messaging."""

import contextlib
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import db
from ..models import User


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
