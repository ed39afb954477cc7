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
import urllib.parse
from datetime import datetime
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from tests import proxy
from tests.liveapp import HIDDEN, Browser, free_port, prepare_site, process, server, site_env
from tests.support import demo_code

SUITE_DATABASE = os.environ.get("SMWEB_TEST_DATABASE_URL", "")
REDIS_URL = "redis://127.0.0.1:6379/7"
PASSWORD = "demo-password-1"  # noqa: S105 - the demo accounts' password

pytestmark = pytest.mark.skipif(
    not SUITE_DATABASE.startswith("postgresql"),
    reason="runs in the PostgreSQL run (SMWEB_TEST_DATABASE_URL), as a site of several servers "
           "needs")


def fresh_database(suffix: str) -> str:
    """A database named after the suite's and `suffix` on its PostgreSQL server, empty; its
    URL. (Two checkouts' suites on one server each keep their own.)"""
    url = sa.engine.make_url(SUITE_DATABASE)
    name = f"{url.database}_{suffix}"
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
           "DATABASE_URL": fresh_database("two_servers"),
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


# --- a server killed under load (issue 21, point 4) ----------------------------------------
# Short in `make test`; `make load` runs it with SMWEB_LOAD_USERS=50 SMWEB_LOAD_SECONDS=60.
LOAD_USERS = int(os.environ.get("SMWEB_LOAD_USERS", "8"))
LOAD_SECONDS = float(os.environ.get("SMWEB_LOAD_SECONDS", "8"))
SENT = 303


def _teams_of(front: str) -> dict:
    """Each load patient's care team (its id in the compose form's list)."""
    teams = {}
    for username in ("veteran1", "veteran2"):
        browser = Browser(front)
        assert browser.sign_in(username, PASSWORD) == 303
        page = browser.request("/compose")[2]
        teams[username] = re.search(
            r'<option value="(\d+)">Primary Care Team Blue', page).group(1)
    return teams


def _start_users(front: str, count: int, seconds: float, records: list, teams: dict,
                 first: int = 0) -> list:
    """`count` patients working through `front` for `seconds` (threads, started), numbered
    from `first` (their writes' markers name the number)."""
    import threading

    stop = time.monotonic() + seconds
    users = [threading.Thread(target=_one_user, args=(front, n, stop, records, teams))
             for n in range(first, first + count)]
    for user in users:
        user.start()
    return users


def _one_user(front: str, number: int, stop: float, records: list, team_of: dict) -> None:
    """A patient until the time is up: reading the Inbox and threads, sending a message with
    a file, replying. Each write carries a marker; the form's hidden fields are kept so that a
    failed send can be sent again as the person would (Back, then Send)."""
    username = ("veteran1", "veteran2")[number % 2]
    person = Browser(front)
    while person.sign_in(username, PASSWORD) != 303:  # a server may be down mid-sign-in
        time.sleep(0.2)
    threads: list[str] = []
    step = 0
    while time.monotonic() < stop:
        step += 1
        marker = f"LOAD-{number}-{step}"
        try:
            if step % 3 == 1 or not threads:
                kind, form_page = "send", "/compose"
                fields = {"recipient": team_of[username], "category": "General",
                          "subject": f"Load {marker}", "body": f"Load test {marker}.",
                          "action": "send"}
                extra = [("attachments", f"{marker}.pdf",
                          b"%PDF-1.4\n" + marker.encode() * 2000 + b"\n%%EOF\n")]
            elif step % 3 == 2:
                kind, extra = "reply", f"/threads/{threads[-1]}/reply"
                form_page = f"/threads/{threads[-1]}"
                fields = {"body": f"Load reply {marker}.", "action": "send"}
            else:
                records.append(("read", person.request("/mailbox/inbox")[0], "", None, None,
                                None, None))
                continue
            status, _, page = person.request(form_page)
        except OSError:
            status = 0
        if status != 200:  # the form's page did not come (a server was killed): nothing sent
            records.append(("read", status, "", None, None, None, None))
            continue
        hidden = dict(HIDDEN.findall(page))
        try:
            status, location, _ = _write(person, kind, hidden, fields, extra)
        except OSError:
            status, location = 0, None
        if kind == "send" and status == SENT and "/threads/" in (location or ""):
            threads.append(location.split("/threads/")[1].split("?")[0])
        records.append((kind, status, marker, person, hidden, fields, extra))


def _write(person: Browser, kind: str, hidden: dict, fields: dict, extra):
    """Post a send (extra: its files) or a reply (extra: its path): (status, location, page)."""
    if kind == "send":
        return person.post_multipart("/compose", fields, extra, hidden=hidden)
    return person.request(extra, urllib.parse.urlencode({**hidden, **fields}).encode())


def _age_upload_marks(database_url: str) -> None:
    """What waiting out drafts.UPLOAD_STALE does to the marks a killed server left."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE drafts SET upload_started_at = :long_ago WHERE uploads_pending > 0"),
            {"long_ago": datetime(2000, 1, 1)})
    engine.dispose()


def _stored(database_url: str) -> dict:
    """Each marker's messages and, for sends, their files: {marker: [(message id, keys)]}."""
    engine = sa.create_engine(database_url)
    found: dict = {}
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT m.id, m.body, a.storage_key FROM messages m "
            "LEFT JOIN attachments a ON a.message_id = m.id WHERE m.body LIKE '%LOAD-%'"))
        for message_id, body, key in rows:
            marker = re.search(r"LOAD-\d+-\d+", body).group(0)
            entries = found.setdefault(marker, {})
            entries.setdefault(message_id, set()).update({key} - {None})
        keys = set(connection.scalars(sa.text("SELECT storage_key FROM attachments")))
    engine.dispose()
    found["__keys__"] = keys
    return found


def test_a_server_killed_under_load_loses_nothing(site, tmp_path, seaweed):
    """Patients read, send with files and reply through the proxy; halfway one app server is
    killed (SIGKILL, master and workers) and started again. Afterwards every acknowledged send
    is stored once with its file, a failed send sent again makes one message, only requests in
    flight on the killed server failed, and the sweep leaves no object without its row."""
    import signal
    import subprocess
    from contextlib import ExitStack

    from tests import seaweed as seaweed_server

    seaweed_server.empty_bucket(seaweed)
    one, two, front_port = free_port(), free_port(), free_port()
    front = f"http://127.0.0.1:{front_port}"
    records: list = []
    with ExitStack() as stack:
        killed = stack.enter_context(server(gunicorn(one), site, f"http://127.0.0.1:{one}"))
        stack.enter_context(server(gunicorn(two), site, f"http://127.0.0.1:{two}"))
        stack.enter_context(worker(site, "worker-1"))
        stack.enter_context(proxy.haproxy(tmp_path, front_port, [one, two]))
        teams = _teams_of(front)
        users = _start_users(front, LOAD_USERS, LOAD_SECONDS, records, teams)
        time.sleep(LOAD_SECONDS / 2)
        in_flight_at_kill = LOAD_USERS  # at most one request per person is ever in flight
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
        time.sleep(1)
        stack.enter_context(server(gunicorn(one), site, f"http://127.0.0.1:{one}"))
        for user in users:
            user.join(timeout=LOAD_SECONDS + 60)

        writes = [r for r in records if r[0] != "read"]
        failed = [r for r in records if r[1] == 0 or r[1] >= 500]
        statuses: dict = {}
        for record in records:
            statuses[record[1]] = statuses.get(record[1], 0) + 1
        print(f"\nkilled-server load: {LOAD_USERS} users, {LOAD_SECONDS:g} s, "
              f"{len(records)} requests ({len(records) / LOAD_SECONDS:.0f}/s; "
              f"{len(writes)} writes); "
              f"answers {sorted(statuses.items())}; "
              f"5xx or no answer through the proxy: {len(failed)}")
        assert len(failed) <= in_flight_at_kill, failed

        # What a person does when Send failed: Back, then Send again, the same form.
        resent = []
        for kind, status, _marker, person, hidden, fields, extra in writes:
            if status != SENT:
                again, _, page = _write(person, kind, hidden, fields, extra)
                resent.append(again)
                if again == 409:
                    # The killed server was storing this form's file: its mark holds Send
                    # back until it is UPLOAD_STALE old, and the page says so. The person
                    # waits and presses Send again; here the mark is aged instead.
                    assert "your files are still being uploaded" in page, page
                    _age_upload_marks(site["DATABASE_URL"])
                    again = _write(person, kind, hidden, fields, extra)[0]
                assert again in (SENT, 200), (kind, status, again)
        print(f"sent again after a failure: {sorted(resent)}")

    stored = _stored(site["DATABASE_URL"])
    for kind, status, marker, *_ in writes:
        messages = stored.get(marker, {})
        assert len(messages) == 1, (kind, status, marker, messages)
        if kind == "send":
            (keys,) = messages.values()
            assert len(keys) == 1, (marker, keys)
    sends = sum(r[0] == "send" for r in writes)
    assert sends >= LOAD_USERS, "too few sends to show anything"

    # The sweep (as the worker runs it nightly, here without its hour's grace) leaves every
    # object a row names and nothing else.
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "smweb", "sweep-attachments",
                    "--min-age", "0"], cwd=Path(__file__).parents[1], env=site, check=True,
                   capture_output=True)
    client = seaweed.client()
    objects = {item["Key"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=seaweed.bucket) for item in page.get("Contents", [])}
    assert objects == stored["__keys__"], (objects ^ stored["__keys__"])


def test_one_server_and_two_carry_the_same_load(site, tmp_path, seaweed):
    """The same patients through the proxy, first with one app server, then with two (each
    with two gunicorn workers): the requests a second each carried are printed (README, "When
    one machine is not enough"). Every request is answered and every acknowledged write is
    stored once, with its file."""
    from contextlib import ExitStack

    from tests import seaweed as seaweed_server

    seaweed_server.empty_bucket(seaweed)
    records: list = []
    carried = []
    for count in (1, 2):
        ports, front_port = [free_port() for _ in range(count)], free_port()
        front = f"http://127.0.0.1:{front_port}"
        with ExitStack() as stack:
            for port in ports:
                stack.enter_context(server(gunicorn(port), site, f"http://127.0.0.1:{port}"))
            stack.enter_context(worker(site, "worker-1"))
            stack.enter_context(proxy.haproxy(tmp_path, front_port, ports))
            teams = _teams_of(front)
            these: list = []
            users = _start_users(front, LOAD_USERS, LOAD_SECONDS / 2, these, teams,
                                 first=LOAD_USERS * count)
            for user in users:
                user.join(timeout=LOAD_SECONDS + 60)
        carried.append(len(these) / (LOAD_SECONDS / 2))
        failed = [r[:3] for r in these if r[1] == 0 or r[1] >= 500]
        assert not failed, (count, failed)
        records += these
    print(f"\n{LOAD_USERS} users for {LOAD_SECONDS / 2:g} s through HAProxy: one app server "
          f"{carried[0]:.0f} requests/s, two {carried[1]:.0f} requests/s "
          f"({carried[1] / carried[0]:.2f}x) on {os.cpu_count()} cores")

    stored = _stored(site["DATABASE_URL"])
    writes = [r for r in records if r[0] != "read"]
    for kind, status, marker, *_ in writes:
        if status == SENT:
            messages = stored.get(marker, {})
            assert len(messages) == 1, (kind, marker, messages)
            if kind == "send":
                (keys,) = messages.values()
                assert len(keys) == 1, (marker, keys)
    assert sum(r[1] == SENT for r in writes) >= LOAD_USERS, "too few writes to show anything"
