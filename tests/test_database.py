"""The database: migrations that match the models, SQLite set for durability, and several
worker processes writing at once without "database is locked"."""

import multiprocessing
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from smweb.extensions import db


def test_migrations_match_the_models(ctx):
    with db.engine.connect() as connection, warnings.catch_warnings():
        # PostgreSQL: SQLAlchemy can't reflect the search index's expression, and says so
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def include_object(obj, name, type_, reflected, compare_to):
    # the full-text search objects of migrations 0005, 0009, 0014 and 0015 are the database's own
    if type_ == "table" and name and name.startswith("message_fts"):
        return False
    return not (type_ == "index" and name == "ix_messages_search")


def test_sqlite_is_set_for_durability(ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def _send_many(database_url: str, worker: int, count: int, results) -> None:
    """One 'gunicorn worker': its own app and connections, sending messages in a loop."""
    from smweb import create_app
    from smweb.config import TestConfig
    from smweb.models import Thread
    from smweb.services import messaging, throttle
    from tests.support import user

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    errors = []
    with app.app_context():
        patient = user("veteran1")
        thread = db.session.scalar(db.select(Thread).where(
            Thread.subject == "Refill for blood pressure pills"))
        for n in range(count):
            try:
                # read first, then write: the pattern that deadlocks with deferred BEGIN
                db.session.scalar(db.select(db.func.count(Thread.id)))
                messaging.reply(patient, thread, f"worker {worker} message {n}")
                # ... and a bulk statement after a read, with no ORM object to flush (a
                # correct password clears the name's failures)
                db.session.scalar(db.select(db.func.count(Thread.id)))
                throttle.clear(f"worker-{worker}")
            except Exception as error:  # noqa: BLE001 - report every failure to the parent
                errors.append(repr(error))
                db.session.rollback()
        db.engine.dispose()
    results.put(errors)


def test_several_processes_write_at_once_without_lock_errors(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    workers, count = 4, 25
    mp = multiprocessing.get_context("spawn")
    results = mp.Queue()
    processes = [mp.Process(target=_send_many, args=(url, w, count, results))
                 for w in range(workers)]
    for process in processes:
        process.start()
    errors = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert errors == [[]] * workers
    with app.app_context():
        sent = db.session.execute(text(
            "SELECT count(*) FROM messages WHERE body LIKE 'worker %'")).scalar()
        assert sent == workers * count


def test_postgresql_queries_run_without_parallel_workers(ctx):
    """Every query of a request reads a page or a few rows: PostgreSQL's parallel workers
    only cost their start-up there (a search under load went from 1 ms to 25 with them)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
