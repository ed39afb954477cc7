"""The worker as a site runs it: `flask --app app smweb worker`, its own process, on the
SQLite queue (the default) and on Redis, against a real SMTP relay. Killed with SIGKILL in
the middle of a delivery, started again: the rest go out, none twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.liveapp import ROOT, prepare_site, process, site_env
from tests.mailrelay import Relay

TEAM_BLUE = ("nurse1", "doctor1", "clerk1")

# Run inside the site (its environment, its database): the three staff of Team Blue want an
# email for each message; then veteran1 sends N messages through the real service, and the
# moment each send returned is printed.
SENDS = """
import sys, time
from app import app
from smweb.extensions import db
from smweb.models import TriageGroup
from smweb.services import accounts, messaging, preferences
with app.app_context():
    for name in {team!r}:
        preferences.save(accounts.find_user(name), signature_name="", signature_title="",
                         signature_by_default=False, notify="each",
                         email=name + "@example.org", shown_group_ids=None)
    group = db.session.scalar(db.select(TriageGroup).where(
        TriageGroup.name == "Primary Care Team Blue"))
    for n in range({count}):
        messaging.send_new_message(accounts.find_user("veteran1"), messaging.NewMessage(
            group.id, "General", f"Question {{n}} about my knee", "It hurts when I walk."))
        print(time.time(), flush=True)
"""

COUNTS = """
from app import app
from smweb.extensions import db
from smweb.models import Notice
with app.app_context():
    rows = db.session.execute(db.select(Notice.sent_at.is_not(None), Notice.attempts)).all()
    print(sum(1 for sent, _ in rows if sent), len(rows), max((a for _, a in rows), default=0))
"""


def in_site(env: dict, code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def site(folder: Path, relay: Relay, **settings) -> dict:
    env = {**site_env(folder), "SMWEB_MAIL_BACKEND": "smtp", "SMWEB_SMTP_HOST": "127.0.0.1",
           "SMWEB_SMTP_PORT": str(relay.port), "SMWEB_QUEUE": "sqlite",
           "SMWEB_QUEUE_FILE": str(folder / "queue.db"), "SMWEB_NOTICE_RETRY_SECONDS": "1",
           "SMWEB_NOTICE_LEASE_SECONDS": "3", "SMWEB_SMTP_TIMEOUT_SECONDS": "3",
           **settings}
    prepare_site(env)
    return env


def worker(env: dict, name: str = "worker"):
    return process([sys.executable, "-m", "flask", "--app", "app", "smweb", "worker",
                    "--workers", "1"], env, name)


def kill_hard(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def outbox(env: dict) -> tuple[int, int, int]:
    sent, total, most_attempts = in_site(env, COUNTS).split()
    return int(sent), int(total), int(most_attempts)


def sent_all(env: dict, count: int, seconds: float = 15) -> None:
    """Wait until the outbox says `count` notices went (the worker's own record)."""
    deadline = time.monotonic() + seconds
    while outbox(env)[0] < count and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture
def relay():
    running = Relay()
    yield running
    running.stop()


def test_a_slow_relay_never_holds_up_the_send(tmp_path, relay):
    relay.delay = 1.5  # a busy relay: each email takes 1.5 s to be acknowledged
    relay.start()
    env = site(tmp_path, relay)
    with worker(env):
        returned = [float(line) for line in in_site(
            env, SENDS.format(team=TEAM_BLUE, count=1)).split()]
        relay.wait_for(3)
        # The relay's third "250 OK" comes a moment before the worker writes it down: the
        # worker stays up until it has (stopping it at once could cut that write).
        sent_all(env, 3)
    first_ack = min(relay.acknowledged_at)
    # The send came back before the relay had acknowledged a single email of it.
    assert returned[0] < first_ack
    assert relay.recipients == sorted(f"{n}@example.org" for n in TEAM_BLUE)
    assert outbox(env) == (3, 3, 1)


def test_killed_mid_delivery_the_rest_go_after_restart_none_twice(tmp_path, relay):
    relay.delay = 1.0
    relay.start()
    env = site(tmp_path, relay)
    in_site(env, SENDS.format(team=TEAM_BLUE, count=2))  # six notices, no worker yet
    assert outbox(env)[:2] == (0, 6)
    with worker(env) as first:
        relay.wait_for(1)
        relay.data_started.clear()
        assert relay.data_started.wait(timeout=30)  # the next email is on the wire
        kill_hard(first)
    acknowledged = len(relay.accepted)
    assert 1 <= acknowledged < 6
    time.sleep(1.2)  # the relay finishes with the email whose sender is gone
    assert len(relay.accepted) == acknowledged  # ... and counts it as not taken
    sent, total, _ = outbox(env)
    assert (sent, total) == (acknowledged, 6)  # every acknowledged email is marked sent
    with worker(env, name="restarted"):
        relay.wait_for(6, timeout=90)
        time.sleep(4)  # a while more: nothing else may come
    assert len(relay.accepted) == 6
    assert len(set(relay.message_ids)) == 6
    for _to, content in relay.accepted:  # nothing of the message, the patient or the place
        assert "New work in your Secure Messaging queue" in content
        for secret in ("knee", "hurts", "Question", "Alex", "Rivera", "Primary Care",
                       "Team Blue", "Demo VA"):
            assert secret not in content
    assert relay.recipients == sorted(f"{n}@example.org" for n in TEAM_BLUE for _ in range(2))
    assert outbox(env)[:2] == (6, 6)


def test_a_relay_down_across_a_kill_delivers_after_restart_exactly_once(tmp_path, relay):
    env = site(tmp_path, relay)  # the relay is not started: its port refuses
    with worker(env) as first:
        in_site(env, SENDS.format(team=TEAM_BLUE, count=1))
        deadline = time.monotonic() + 60
        while outbox(env)[2] < 2:  # tried, refused, and tried again
            assert time.monotonic() < deadline, "the worker did not retry"
            time.sleep(0.5)
        kill_hard(first)
    assert outbox(env)[:2] == (0, 3)
    relay.start()
    with worker(env, name="restarted"):
        relay.wait_for(3, timeout=90)
        time.sleep(4)
    assert len(relay.accepted) == 3 and len(set(relay.message_ids)) == 3
    assert outbox(env)[:2] == (3, 3)


REDIS_URL = "redis://127.0.0.1:6379/9"


def test_the_redis_queue(tmp_path, relay):
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    relay.start()
    env = site(tmp_path, relay, SMWEB_QUEUE="redis", SMWEB_REDIS_URL=REDIS_URL)
    with worker(env):
        in_site(env, SENDS.format(team=TEAM_BLUE, count=1))
        relay.wait_for(3)
        sent_all(env, 3)
    assert outbox(env) == (3, 3, 1)
    # the send's task went through Redis (not a file, not the minute's sweep)
    assert not (tmp_path / "queue.db").exists()
    log = (tmp_path / "worker.log").read_text()
    assert "smweb worker: redis queue" in log
    assert "Executing smweb.tasks.deliver_notices:" in log
