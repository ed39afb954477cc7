"""Faults: gunicorn killed with SIGKILL (one worker, or the whole server) in the middle of sends
with attachments. Afterwards the SQLite database passes its integrity check, every attachment
row has its file with the right checksum, and every send that was answered is there once."""

import hashlib
import http.client
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.liveapp import Browser, free_port, prepare_site, server, site_env

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses Linux process signals")


def gunicorn(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--timeout", "60", "app:app"]


class Senders:
    """Patients sending messages with a PDF attached, as fast as the server answers; each
    send the server acknowledged (303 to the new thread) is noted by its marker."""

    def __init__(self, base: str, count: int = 4) -> None:
        self.base, self.count = base, count
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.count):
            browser = Browser(self.base)
            assert browser.sign_in("veteran1", "demo-password-1") == 303
            page = browser.request("/compose")[2]
            group = re.search(r'<option value="(\d+)">Primary Care Team Blue', page).group(1)
            thread = threading.Thread(target=self._send, args=(browser, group, n), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _send(self, browser: Browser, group: str, n: int) -> None:
        sent = 0
        while not self.stop.is_set():
            marker = f"crash-{n}-{sent}"
            pdf = b"%PDF-1.4\n" + os.urandom(64 * 1024) + b"\n%%EOF\n"
            try:
                status, location, _body = browser.post_multipart(
                    "/compose", {"recipient": group, "category": "General", "subject": marker,
                                 "body": f"Body of {marker}", "action": "send"},
                    [("attachments", f"{marker}.pdf", pdf)])
            except (OSError, http.client.HTTPException):
                return  # the server is gone
            if status == 303 and location and "/threads/" in location:
                self.acknowledged.append(marker)
            sent += 1

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def check_site(folder, acknowledged: list[str]) -> None:
    with sqlite3.connect(folder / "smweb.db") as database:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert database.execute("PRAGMA foreign_key_check").fetchall() == []
        for key, digest in database.execute("SELECT storage_key, sha256 FROM attachments"):
            stored = folder / "attachments" / key
            assert stored.exists(), f"attachment row {key} without its file"
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
        counts = dict(database.execute(
            "SELECT subject, count(*) FROM messages WHERE subject LIKE 'crash-%' "
            "GROUP BY subject"))
    database.close()
    assert acknowledged, "no send was answered before the kill"
    missing = [m for m in acknowledged if counts.get(m) != 1]
    assert missing == [], f"answered sends not in the database exactly once: {missing}"


@pytest.fixture
def sending(tmp_path):
    """gunicorn (2 workers) on a SQLite site in tmp_path, with patients sending to it:
    yields (the master process, the senders); checks the site after the test's kill."""
    env = site_env(tmp_path)
    prepare_site(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server(gunicorn(port), env, base) as master:
        senders = Senders(base)
        senders.start()
        time.sleep(2)
        yield master, senders
        senders.finish()
    check_site(tmp_path, senders.acknowledged)
    print(f"acknowledged sends: {len(senders.acknowledged)}")


def test_whole_server_killed_mid_sends(sending):
    master, _senders = sending
    os.killpg(master.pid, signal.SIGKILL)  # master and workers at once, mid-write
    master.wait(timeout=10)


def test_one_worker_killed_mid_sends(sending):
    master, _senders = sending
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text()
    workers = [int(p) for p in children.split()]
    assert workers
    os.kill(workers[0], signal.SIGKILL)  # gunicorn starts a new worker in its place
    time.sleep(3)
    assert master.poll() is None  # the server goes on
