"""Fixtures: an app on a throw-away database built by the real migrations, a client, the demo
people, and helpers to sign in and post forms with their CSRF token, as a browser would."""

import io
import os
import re
from datetime import timedelta

import flask_migrate
import pyotp
import pytest
from sqlalchemy import MetaData, text
from werkzeug.datastructures import FileStorage

from smweb import create_app
from smweb.clock import utcnow as real_utcnow
from smweb.config import TestConfig
from smweb.extensions import db
from smweb.models import User
from smweb.services import demo, messaging

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("SMWEB_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'smweb-test.db'}"


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


class Clock:
    """Time as the session, sign-in and second-factor rules see it, moved on by a test."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self):
        return real_utcnow() + self.offset

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """`clock.advance(minutes=31)`: the app's session and sign-in rules see a later time."""
    from smweb.auth import routes as auth_routes
    from smweb.services import sessions, throttle, twofactor

    moved = Clock()
    for module in (sessions, throttle, twofactor, auth_routes):
        monkeypatch.setattr(module, "utcnow", moved.now)
    return moved


def user(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


def csrf_token(client, path: str = "/sign-in") -> str:
    """The token a browser would find on the page at `path`."""
    page = client.get(path, follow_redirects=True)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1) or match.group(2)


def forget_used_codes(app, username: str) -> None:
    """A TOTP code is accepted once: tests that sign the same account in several times within
    30 seconds forget the last one used first, as 30 seconds passing would."""
    with app.app_context():
        db.session.execute(
            db.update(User).where(User.username == username).values(totp_last_counter=None))
        db.session.commit()
        db.session.remove()


def demo_code() -> str:
    """What the demo staff accounts' authenticator app shows now."""
    return pyotp.TOTP(demo.DEMO_TOTP_SECRET).now()


def sign_in(client, username: str, password: str = demo.DEMO_PASSWORD, **form):
    """Sign in as a browser does: the password, then (staff) the code from the app."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, **form})
    if response.status_code == 303 and response.location.startswith("/sign-in/code"):
        forget_used_codes(client.application, username)
        response = client.post("/sign-in/code", data={
            "code": demo_code(), "csrf_token": csrf_token(client, "/sign-in/code")})
    return response


def set_up_two_step(client, app, username: str):
    """A first staff sign-in's setup step, as a person with the app does: the key shown on
    the page goes into the app, whose code is typed back."""
    page = client.get("/sign-in/setup").get_data(as_text=True)
    key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page).group(1)
    return client.post("/sign-in/setup", data={
        "code": pyotp.TOTP(key.replace(" ", "")).now(),
        "csrf_token": csrf_token(client, "/sign-in/setup")})


def post_form(client, path: str, data: dict | None = None, form_page: str | None = None,
              headers: dict | None = None):
    """POST like the browser: with the CSRF token of the signed-in page it came from."""
    token = csrf_token(client, form_page or "/")
    return client.post(path, data={**(data or {}), "csrf_token": token}, headers=headers)


@pytest.fixture
def login(client):
    """`login("veteran1")` signs the test client in as a demo account."""

    def do(username: str):
        response = sign_in(client, username)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return do


def new_thread(patient_name: str = "veteran1", group_name: str = "Primary Care Team Blue",
               subject: str = "Question about my knee", body: str = "It hurts when I walk.",
               category: str = "General"):
    """A patient's new message to a care team, through the real service."""
    from smweb.models import TriageGroup

    group = db.session.scalar(db.select(TriageGroup).where(TriageGroup.name == group_name))
    return messaging.send_new_message(
        user(patient_name), messaging.NewMessage(group.id, category, subject, body)
    )


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    """A file as the browser sends it in a multipart form."""
    return FileStorage(io.BytesIO(data), filename=name, content_type=content_type)


HTMX = {"HX-Request": "true"}


def htmx_fragment(target: str) -> dict:
    """Headers of an htmx request that swaps the element with this id (a poll or a form)."""
    return {"HX-Request": "true", "HX-Target": target}


BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "body"}


def at_once(app, work, times: int = 2, timeout: float = 60) -> list:
    """Run `work` in `times` threads released together, each in its own app context, as
    workers or servers would; returns what each returned. A thread's exception fails the
    test here rather than vanishing with its thread."""
    import threading

    start = threading.Barrier(times)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(work())
            except Exception as error:  # re-raised below, in the test's own thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return results
