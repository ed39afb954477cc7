"""Sign-in protection: too many failures for one account name, or from one address, pause
further tries for that name or address until the window has passed.

The count lives where every worker sees it: in the database (each failure is a row, added and
swept, never updated, so concurrent workers can't lose one), or in Redis when SMWEB_REDIS_URL
names one (a sorted set per key). Keys use the name as typed, whether or not such an account
exists, so a lockout tells nothing about which accounts exist.
"""

import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from math import ceil

from flask import current_app
from sqlalchemy import delete, select

from ..clock import utcnow
from ..extensions import db
from ..models import SignInFailure

log = logging.getLogger(__name__)


# What is being tried: a password ("account") or a second-factor code ("code"). Codes
# count on their own key, which a right password does not touch: 5 wrong codes pause the
# code step however many times the password is typed again.
STEPS = ("account", "code")


def _keys(username: str, ip: str | None, step: str = "account") -> list[tuple[str, int]]:
    """Each key with its limit: the account name (for this step), and the address."""
    assert step in STEPS
    cfg = current_app.config
    keys = [(f"{step}:{username.strip().lower()[:64]}", cfg["SIGN_IN_MAX_FAILURES"])]
    if ip:
        keys.append((f"ip:{ip}", cfg["SIGN_IN_MAX_FAILURES_PER_IP"]))
    return keys


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["SIGN_IN_LOCKOUT_MINUTES"])


def locked_until(username: str, ip: str | None, step: str = "account") -> datetime | None:
    """When tries for this name (or from this address) may start again; None: not locked."""
    store = _store()
    until = [store.locked_until(key, limit) for key, limit in _keys(username, ip, step)]
    return max((u for u in until if u is not None), default=None)


def minutes_left(until: datetime) -> int:
    """Whole minutes until tries may start again (at least 1), for the words that say so."""
    return max(1, ceil((until - utcnow()).total_seconds() / 60))


def record_failure(username: str, ip: str | None, step: str = "account") -> datetime | None:
    """Count one failed try; returns when tries may start again if this one locked them."""
    store = _store()
    for key, _limit in _keys(username, ip, step):
        store.add(key)
    return locked_until(username, ip, step)


def clear(username: str) -> None:
    """A whole sign-in that succeeded (password and, for staff, the code) forgets the
    account's failures of both steps (not the address's)."""
    for step in STEPS:
        key, _limit = _keys(username, None, step)[0]
        _store().clear(key)


# --- requests that send an email or make an account: the same store, counted per key --------

def hashed(text: str) -> str:
    """A key's part from what a person typed (an email address): the store keeps no
    address, only this."""
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:40]


def requests_paused(keys: list[tuple[str, int]]) -> datetime | None:
    """When requests under these (key, limit) may start again, if one is at its limit."""
    store = _store()
    until = [store.locked_until(key, limit) for key, limit in keys]
    return max((u for u in until if u is not None), default=None)


def count_request(keys: list[tuple[str, int]]) -> None:
    """Count one request under each key (it counts as a failure would, within the window)."""
    store = _store()
    for key, _limit in keys:
        store.add(key)


def prune() -> int:
    """Delete failures in the database older than the window: they count no more, and a
    name tried once and never again would otherwise stay for good. (Redis expires its own.)
    Returns how many."""
    deleted = db.session.execute(delete(SignInFailure).where(
        SignInFailure.at < utcnow() - _window())).rowcount
    db.session.commit()
    return deleted


class DatabaseStore:
    def add(self, key: str) -> None:
        now = utcnow()
        db.session.execute(delete(SignInFailure).where(
            SignInFailure.key == key, SignInFailure.at < now - _window()))
        db.session.add(SignInFailure(key=key, at=now))
        db.session.commit()

    def locked_until(self, key: str, limit: int) -> datetime | None:
        recent = db.session.scalars(
            select(SignInFailure.at)
            .where(SignInFailure.key == key, SignInFailure.at >= utcnow() - _window())
            .order_by(SignInFailure.at.desc())
            .limit(limit)
        ).all()
        if len(recent) < limit:
            return None
        return recent[-1] + _window()

    def clear(self, key: str) -> None:
        db.session.execute(delete(SignInFailure).where(SignInFailure.key == key))
        db.session.commit()


class RedisStore:
    """One sorted set per key, scored by the time of each failure (UTC seconds)."""

    def __init__(self, url: str) -> None:
        import redis

        # short timeouts: a Redis that hangs must not hold every sign-in with it
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self.prefix = "smweb:sign-in-failures:"

    @staticmethod
    def _now() -> float:
        return utcnow().replace(tzinfo=UTC).timestamp()

    def add(self, key: str) -> None:
        now, window = self._now(), _window().total_seconds()
        name = self.prefix + key
        with self.redis.pipeline() as pipe:
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.zadd(name, {uuid.uuid4().hex: now})
            pipe.expire(name, int(window) + 1)
            pipe.execute()

    def locked_until(self, key: str, limit: int) -> datetime | None:
        window = _window().total_seconds()
        recent = self.redis.zrevrangebyscore(
            self.prefix + key, "+inf", self._now() - window, start=0, num=limit,
            withscores=True)
        if len(recent) < limit:
            return None
        oldest = recent[-1][1]
        return datetime.fromtimestamp(oldest + window, UTC).replace(tzinfo=None)

    def clear(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


class FallbackStore:
    """Redis, or the database while Redis can't be reached: a Redis outage must not stop
    people signing in, nor switch the protection off. (Counts made during the outage stay in
    the database and are not seen once Redis is back, for one window at most.)"""

    def __init__(self, url: str) -> None:
        self.redis, self.database = RedisStore(url), DatabaseStore()

    def __getattr__(self, name: str):
        import redis

        def call(*args):
            try:
                return getattr(self.redis, name)(*args)
            except redis.exceptions.RedisError:
                log.warning("Redis unreachable: sign-in failures counted in the database")
                return getattr(self.database, name)(*args)

        return call


@cache
def _redis_store(url: str) -> FallbackStore:
    return FallbackStore(url)


def _store() -> DatabaseStore | FallbackStore:
    url = current_app.config["REDIS_URL"]
    return _redis_store(url) if url else DatabaseStore()
