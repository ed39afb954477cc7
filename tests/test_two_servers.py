"""Two app servers, one site (issue 21, point 3): two gunicorn servers on PostgreSQL, Redis
(sign-in limits, the task queue) and SeaweedFS (attachments), behind HAProxy from Debian, each
with its worker. A message sent through one is read through the other, an attachment uploaded
through one downloads byte-identical through the other, a sign-out on one ends the session on
both, sign-in failures add up across both, and a scheduled job runs once for the site.

Part of `make test`'s PostgreSQL run (SMWEB_TEST_DATABASE_URL): a database of its own beside
the suite's, emptied first."""

import os
import re
import sys
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from tests import proxy
from tests.liveapp import Browser, free_port, prepare_site, process, server, site_env
from tests.support import demo_code

SUITE_DATABASE = os.environ.get("SMWEB_TEST_DATABASE_URL", "")
REDIS_URL = "redis://127.0.0.1:6379/7"
PASSWORD = "demo-password-1"  # noqa: S105 - the demo accounts' password

pytestmark = pytest.mark.skipif(
    not SUITE_DATABASE.startswith("postgresql"),
    reason="runs in the PostgreSQL run (SMWEB_TEST_DATABASE_URL), as a site of several servers "
           "needs")


def fresh_database(name: str) -> str:
    """A database `name` on the suite's PostgreSQL server, empty; its URL."""
    url = sa.engine.make_url(SUITE_DATABASE)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def fresh_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}", pytrace=False)


def gunicorn(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--access-logfile", "-", "--timeout", "60", "app:app"]


def worker(env: dict, name: str):
    return process([sys.executable, "-m", "flask", "--app", "app", "smweb", "worker",
                    "--workers", "1"], env, name)


def log_of(folder: Path, name: str) -> str:
    return (folder / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def site(tmp_path, seaweed):
    """The site's settings, shared by both servers as the README's set-up says."""
    fresh_redis()
    env = {**site_env(tmp_path),
           "DATABASE_URL": fresh_database("smweb_two_servers"),
           "SMWEB_REDIS_URL": REDIS_URL, "SMWEB_QUEUE": "redis",
           "SMWEB_STORAGE": "s3", "SMWEB_TRUST_PROXY_HOPS": "1",
           "SMWEB_MAIL_BACKEND": "outbox", "SMWEB_MAIL_OUTBOX": str(tmp_path / "outbox"),
           **{f"SMWEB_{name}": value for name, value in seaweed.config().items()}}
    prepare_site(env)
    return env


@pytest.fixture
def servers(site, tmp_path):
    """Two app servers, each with its worker, and HAProxy in front: (proxy, one, two) base
    URLs."""
    one, two, front = free_port(), free_port(), free_port()
    bases = [f"http://127.0.0.1:{port}" for port in (one, two, front)]
    with server(gunicorn(one), site, bases[0]), server(gunicorn(two), site, bases[1]), \
            worker(site, "worker-1"), worker(site, "worker-2"), \
            proxy.haproxy(tmp_path, front, [one, two]):
        yield bases[2], bases[0], bases[1]


def test_two_servers_behind_a_proxy_are_one_site(servers, site, tmp_path):
    front, one, two = servers

    # A patient works through the proxy: each request goes to one server or the other (the
    # form page from one, its post to the other), as a site's visitors do.
    patient = Browser(front)
    assert patient.sign_in("veteran1", PASSWORD) == 303
    for _ in range(4):
        assert patient.request("/mailbox/inbox")[0] == 200
    for name in (f"server-{one.rsplit(':', 1)[1]}", f"server-{two.rsplit(':', 1)[1]}"):
        assert '"GET /mailbox/inbox' in log_of(tmp_path, name), f"{name} served no Inbox"

    page = patient.request("/compose")[2]
    team = re.search(r'<option value="(\d+)">Primary Care Team Blue', page).group(1)
    scan = b"%PDF-1.4\n" + os.urandom(300 * 1024) + b"\n%%EOF\n"
    status, location, _ = patient.post_multipart(
        "/compose", {"recipient": team, "category": "Test results",
                     "subject": "Results from the other clinic", "body": "My scan is attached.",
                     "action": "send"}, [("attachments", "scan.pdf", scan)])
    assert status == 303 and "/threads/" in location
    thread_path = location.removeprefix(front)

    # Sent through the proxy; read and downloaded through each server, byte for byte.
    nurse = Browser(one)
    status, location, _ = nurse.post("/sign-in", {"username": "nurse1", "password": PASSWORD})
    assert status == 303 and location.endswith("/sign-in/code")
    assert nurse.post("/sign-in/code", {"code": demo_code()})[0] == 303
    for base in (one, two):
        nurse.base = base  # the same cookie (cookies are per host, not per port)
        status, _, thread_page = nurse.request(thread_path)
        assert status == 200 and "My scan is attached." in thread_page
        link = re.search(r'href="(/attachments/\d+)"', thread_page).group(1)
        assert nurse.download(link) == (200, scan)

    # A sign-out on one server ends the session on both.
    both = Browser(one)
    assert both.sign_in("veteran2", PASSWORD) == 303
    both.base = two
    assert both.request("/mailbox/inbox")[0] == 200
    both.base = one
    inbox = both.request("/mailbox/inbox")[2]
    token = re.search(r'name="csrf_token" value="([^"]+)"', inbox).group(1)
    assert both.request("/sign-out", f"csrf_token={token}".encode())[0] in (302, 303)
    both.base = two
    status, location, _ = both.request("/mailbox/inbox")
    assert status == 302 and "/sign-in" in location

    # Sign-in failures add up across the servers: five wrong passwords, taken in turn by
    # each, lock the name on both (Redis keeps the count).
    guesser = Browser(front)
    answers = [guesser.sign_in("veteran3", f"not-the-password-{n}") for n in range(5)]
    assert answers == [401] * 4 + [429]
    for base in (one, two):
        assert Browser(base).sign_in("veteran3", PASSWORD) == 429
    assert redis.Redis.from_url(REDIS_URL).keys("smweb:sign-in-failures:*")


def test_a_scheduled_job_runs_once_for_the_site(servers, site, tmp_path):
    """Both workers ask for the escalation when they start (as they do every quarter hour):
    the shared queue hands each request to one worker, and the job runs once."""
    deadline = time.monotonic() + 30
    logs = ""
    while time.monotonic() < deadline:
        logs = log_of(tmp_path, "worker-1") + log_of(tmp_path, "worker-2")
        if logs.count("job escalate: ") >= 2:
            break
        time.sleep(0.5)
    assert logs.count("job escalate: ran") == 1, logs
    assert logs.count("job escalate: skipped") == 1, logs
    assert "smweb worker: redis queue" in log_of(tmp_path, "worker-1")
    engine = sa.create_engine(site["DATABASE_URL"])
    with engine.connect() as connection:
        started = connection.execute(sa.text(
            "SELECT started_at FROM job_runs WHERE name = 'escalate'")).scalar()
    engine.dispose()
    assert started is not None
