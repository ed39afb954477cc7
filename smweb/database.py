"""Engine set-up for SQLite: durable pragmas, and writes that don't fail with "database is
locked" when several worker processes write at once.

SQLite's Python driver begins transactions lazily, so two workers can both read and then
collide upgrading to a write: the second gets "database is locked" at once, whatever the busy
timeout. We take over BEGIN (the recipe in SQLAlchemy's SQLite dialect docs): every transaction
begins deferred, so reading never waits for a writer (WAL lets readers and one writer run
together); just before the session first writes, the read transaction is ended and a
`BEGIN IMMEDIATE` takes the write lock, waiting for it under busy_timeout. The lock is held
only from the first write to the commit — never across a password hash, a virus scan or an
upload, which happen before. (Rows read earlier may have changed meanwhile: the same
guarantee as PostgreSQL's default READ COMMITTED.)
"""

from collections import namedtuple
from functools import cache

from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db

WRITING = "smweb.sqlite_writing"


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
        # Straight to the driver: every request begins a transaction, and SQLAlchemy's
        # execution path would cost more than the statement.
        connection.connection.driver_connection.execute("BEGIN")
        connection.info[WRITING] = False

    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _before_statement)


def _before_flush(session: Session, _flush_context, _instances) -> None:
    """Objects added, changed or deleted are about to be written."""
    if session.new or session.dirty or session.deleted:
        _take_write_lock(session)


def _before_statement(state) -> None:
    """An INSERT, UPDATE or DELETE statement run through the session writes as well."""
    if state.is_insert or state.is_update or state.is_delete:
        _take_write_lock(state.session)


def _take_write_lock(session: Session) -> None:
    """Before a session's first write on SQLite: swap its read transaction for a write one."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or connection.info.get(WRITING):
        return
    connection.exec_driver_sql("COMMIT")  # nothing written yet: only a read snapshot ends
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.info[WRITING] = True


def read_rows(statement, params: dict) -> list:
    """The rows of a plain SELECT of columns, run on the session's connection: without the
    ORM's result machinery, which costs more than the query for the small lists read on
    every page. Pending changes are flushed first, as the session itself would.

    Each row is a named tuple of the statement's columns: a template reads `row.subject`
    at a seventh of what the same attribute costs on SQLAlchemy's Row (70 against 480 ns
    here), and a list page reads a dozen of them on every row."""
    db.session.flush()
    result = db.session.connection().execute(statement, params)
    make = _row_type(tuple(result.keys()))._make
    return [make(row) for row in result]


def write(statement, params: dict) -> None:
    """A Core INSERT (or UPDATE) of plain columns, run on the session's connection in its
    transaction, without the ORM's bulk machinery: for the one audit row most requests
    append, that machinery costs more than the statement (about 0.15 ms here). On SQLite the
    write lock is taken first, as for the session's own writes."""
    session = db.session()
    _take_write_lock(session)
    session.connection().execute(statement, params)


@cache
def _row_type(columns: tuple[str, ...]) -> type:
    # Column names must be identifiers not starting with "_" (label them so): namedtuple
    # refuses others at once, rather than renaming them behind a template's back.
    return namedtuple("Row", columns)


# SQLite's INDEXED BY is written where SQLAlchemy puts a FROM hint (`with_hint(table,
# "INDEXED BY ix_...", "sqlite")`), but its SQLite compiler has no hook for hints and drops
# them; this one writes them. Only statements that ask for it get one (services/reports.py).
def _sqlite_from_hint(_compiler, _table, text: str) -> str:
    return text


SQLiteCompiler.get_from_hint_text = _sqlite_from_hint
