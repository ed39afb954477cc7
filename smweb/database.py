"""Engine set-up for SQLite: durable pragmas and write transactions that don't deadlock.

SQLite's Python driver begins transactions lazily, so two workers can both read and then
collide upgrading to a write ("database is locked", whatever the busy timeout). We take over
BEGIN (the recipe in SQLAlchemy's SQLite dialect docs): requests that change state begin with
BEGIN IMMEDIATE, which waits for the write lock up front under busy_timeout; reads begin
deferred so they never wait for a writer (WAL lets readers and one writer run together).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

_write_intent: ContextVar[bool] = ContextVar("smweb_write_intent", default=False)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _begins_writing() -> bool:
    if _write_intent.get():
        return True
    if has_request_context():
        return request.method not in SAFE_METHODS
    return True  # CLI commands and scripts: treat as writers


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run a write from a read-only request (e.g. marking a message read) in its own short
    IMMEDIATE transaction, committed at the end."""
    db.session.commit()  # end the read transaction, so the next BEGIN is ours
    token = _write_intent.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _write_intent.reset(token)


def configure_engine(app: Flask, engine: Engine) -> None:
    """Install the SQLite pragmas and BEGIN handling on the app's engine."""
    if engine.dialect.name != "sqlite":
        return
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _begins_writing() else "BEGIN")
