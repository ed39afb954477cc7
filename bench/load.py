"""Concurrency without loss (issue 8, point 4): simulated patients and staff read, send new
messages and reply at once; afterwards every send that got a success answer must be in the
database exactly once, with no 5xx answer and no "database is locked" anywhere.

    python -m bench.load [--small | --large] [--mode sync|gthread|postgresql|all]
                         [--users 50] [--duration 60] [--database-url URL]

Modes: `sync` (4 sync workers on SQLite), `gthread` (4 workers, 8 threads each, SQLite),
`postgresql` (4 sync workers on --database-url). Each send carries a unique marker in its
subject and body; the check reads the markers back from the messages table. Then a form is
posted twice at once, as a double click does, and the messages it created are counted.
Exits 1 when a check fails.
"""

import argparse
import multiprocessing
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from .browser import CookieJar, HttpBrowser, SignInFailed, csrf_token, parse_page, sign_in
from .loadgen import percentile
from .seed import ensure_seeded
from .server import Gunicorn
from .settings import (
    PASSWORD,
    POSTGRES_EXAMPLE,
    SIZES,
    WORK_DIR,
    add_size_arguments,
    app_environment,
    sqlite_url,
)

MARKER = re.compile(r"\bLD[0-9a-z]+-[0-9]+-[0-9]+\b")
LOCKED = "database is locked"
SENT = (303,)  # what the app answers a form post that sent (POST/redirect/GET)


@dataclass
class Person:
    """A simulated user: signed in once, with what they can read and write to."""

    username: str
    is_staff: bool
    cookie: str = ""
    token: str = ""
    groups: list[int] = field(default_factory=list)  # patients: teams they may write to
    threads: list[int] = field(default_factory=list)  # threads they may open and reply to


@dataclass
class Record:
    kind: str  # "read", "send" or "reply"
    status: int  # 0: no answer (connection failed)
    seconds: float
    marker: str = ""
    locked: bool = False


@dataclass
class Mode:
    name: str
    database_url: str
    worker_class: str = "sync"
    threads: int = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_arguments(parser)
    parser.add_argument("--mode", choices=["sync", "gthread", "postgresql", "all"],
                        default="all")
    parser.add_argument("--users", type=int, default=50, help="simulated users (50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per mode (60)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a user pauses between requests (0: as fast as it can)")
    parser.add_argument("--processes", type=int, default=2,
                        help="load generator processes the users are spread over")
    parser.add_argument("--sign-in-at-once", type=int, default=1,
                        help="users signing in at the same time before the load (default 1: "
                             "concurrent sign-ins are not what this measures; >1 checks them)")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    sqlite = sqlite_url(size)
    postgres = args.database_url or POSTGRES_EXAMPLE
    modes = {
        "sync": Mode("SQLite, sync workers", sqlite),
        "gthread": Mode("SQLite, gthread workers", sqlite, "gthread", args.threads),
        "postgresql": Mode("PostgreSQL, sync workers", postgres),
    }
    chosen = list(modes) if args.mode == "all" else [args.mode]
    verdicts = []
    for key in chosen:
        mode = modes[key]
        ensure_seeded(size, mode.database_url, reseed=args.reseed)
        verdicts.append((mode.name, run_mode(mode, size, args)))
    print("\n== summary ==")
    for name, passed in verdicts:
        print(f"  {'PASS' if passed else 'FAIL'}  {name}")
    return 0 if all(passed for _name, passed in verdicts) else 1


def run_mode(mode: Mode, size, args) -> bool:
    """Serve, load, check. Returns whether every check passed."""
    env = app_environment(mode.database_url)
    log = WORK_DIR / "logs" / f"load-{mode.worker_class}-{mode.database_url.split(':')[0]}.log"
    log.unlink(missing_ok=True)
    label = f"{args.workers} workers" + (f" x {mode.threads} threads" if mode.threads > 1 else "")
    print(f"\n== {mode.name} ({label}), {args.users} users, {args.duration:g} s ==")
    server = Gunicorn("app:app", env, args.workers, log, mode.worker_class, mode.threads)
    with server:
        people = _people(mode.database_url, size, args.users)
        sign_in_failures = _sign_in_all(server.port, people, args.sign_in_at_once)
        locked_at_sign_in = log.read_text(errors="replace").count(LOCKED)
        first_id = _last_message_id(mode.database_url)
        run_id = f"LD{int(time.time()) % 10**6:x}"
        records = _drive(server.port, people, run_id, args.duration, args.think,
                         args.processes)
        double = _double_submit(server.port, people[0], run_id)
    server_log = log.read_text(errors="replace")
    stored = _stored_markers(mode.database_url, first_id)
    passed = _report(records, stored, double, server_log, log)
    if sign_in_failures or locked_at_sign_in:
        print(f"  [FAIL] signing the users in (a few at a time): {len(sign_in_failures)} "
              f"failed attempt(s), \"{LOCKED}\" {locked_at_sign_in} time(s) in the log then")
        passed = False
    return passed


# --- who -----------------------------------------------------------------------------------

def _people(database_url: str, size, count: int) -> list[Person]:
    """Ordinary patients (not the bench's big and small mailboxes) and staff of their teams,
    about four patients to one staff member, with the threads each may reply to."""
    from datetime import timedelta

    from sqlalchemy import create_engine, text

    staff_count = max(1, count // 5)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        staff = connection.execute(text(
            "SELECT u.id, u.username FROM users u WHERE u.username LIKE 'bench-staff-%' "
            "AND u.username NOT LIKE 'bench-staff-1-%' AND u.username NOT LIKE 'bench-staff-2-%' "
            "ORDER BY u.id LIMIT :n"), {"n": staff_count}).all()
        # a small data set may have fewer staff than a fifth of the users: more patients then
        patients = connection.execute(text(
            "SELECT u.id, u.username FROM users u WHERE u.username LIKE 'bench-patient-%' "
            "ORDER BY u.id LIMIT :n"), {"n": count - len(staff)}).all()
        since = _utcnow() - timedelta(days=40)  # inside the patients' 45-day reply window
        people = []
        for user_id, username in patients:
            groups = list(connection.scalars(text(
                "SELECT group_id FROM patient_groups WHERE patient_id = :p"), {"p": user_id}))
            threads = list(connection.scalars(text(
                "SELECT id FROM threads WHERE patient_id = :p AND last_message_at > :s "
                "ORDER BY last_message_at DESC LIMIT 50"), {"p": user_id, "s": since}))
            people.append(Person(username, False, groups=groups, threads=threads))
        for user_id, username in staff:
            threads = list(connection.scalars(text(
                "SELECT t.id FROM threads t JOIN group_members m ON m.group_id = t.group_id "
                "WHERE m.user_id = :u ORDER BY t.last_message_at DESC LIMIT 200"),
                {"u": user_id}))
            people.append(Person(username, True, threads=threads))
    engine.dispose()
    if len(people) < count:
        print(f"  note: the data set has room for {len(people)} simulated users")
    return people


def _utcnow():
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None)


def _sign_in_all(port: int, people: list[Person], at_once: int) -> list[str]:
    """Sign everyone in once, `at_once` at a time, and keep their cookie and CSRF token."""
    failures: list[str] = []

    def one(person: Person) -> None:
        for _attempt in range(3):
            browser = HttpBrowser("127.0.0.1", port, cookies=CookieJar())
            try:
                sign_in(browser, person.username, PASSWORD)
                page = "/triage/compose" if person.is_staff else "/compose"
                person.token = csrf_token(browser.request("GET", page))
                person.cookie = browser.cookies.header()
                return
            except SignInFailed as failure:
                failures.append(str(failure))  # list.append is thread-safe
                time.sleep(0.5)
            finally:
                browser.close()

    started = time.monotonic()
    for start in range(0, len(people), at_once):
        threads = [threading.Thread(target=one, args=(p,))
                   for p in people[start:start + at_once]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    missing = [p.username for p in people if not p.token]
    print(f"  {len(people)} users signed in ({time.monotonic() - started:.0f} s)")
    if failures:
        print(f"  FAILED sign-in attempts (retried): {len(failures)}, e.g. {failures[0]}")
    if missing:
        raise SystemExit(f"load: could not sign in {missing}")
    return failures


# --- the load ------------------------------------------------------------------------------

def _drive(port: int, people: list[Person], run_id: str, duration: float, think: float,
           processes: int) -> list[Record]:
    stop = time.monotonic() + duration
    shares = [(port, people[p::processes], p, run_id, stop, think) for p in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_users_process, shares)
    return [record for part in parts for record in part]


def _users_process(share) -> list[Record]:
    port, people, process_number, run_id, stop, think = share
    records: list[Record] = []
    threads = [threading.Thread(target=_user, args=(port, person, f"{run_id}-{process_number}"
                                                    f"{n:02d}", stop, think, records))
               for n, person in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records


def _user(port: int, person: Person, tag: str, stop: float, think: float,
          records: list[Record]) -> None:
    """One simulated person until the time is up: mostly reading, sometimes writing."""
    rng = random.Random(tag)  # noqa: S311 - load pattern, not security
    browser = HttpBrowser("127.0.0.1", port)
    headers = {"Cookie": person.cookie}
    sends = 0
    while time.monotonic() < stop:
        roll = rng.random()
        form, kind, marker = None, "read", ""
        if person.is_staff:
            if roll < 0.4 or not person.threads:
                path = "/triage/"
            elif roll < 0.7:
                path = f"/threads/{rng.choice(person.threads)}"
            else:
                kind = "reply"
        elif roll < 0.35:
            path = "/mailbox/inbox"
        elif roll < 0.55 and person.threads:
            path = f"/threads/{rng.choice(person.threads)}"
        elif roll < 0.65:
            path = "/search?q=refill"
        elif roll < 0.85 or not person.threads:
            kind = "send"
        else:
            kind = "reply"
        if kind != "read":
            sends += 1
            marker = f"{tag}-{sends}"
        if kind == "send":
            path = "/compose"
            form = {"csrf_token": person.token, "action": "send",
                    "recipient": str(rng.choice(person.groups)), "category": "General",
                    "subject": f"Load test {marker}", "body": f"Load test message {marker}."}
        elif kind == "reply":
            path = f"/threads/{rng.choice(person.threads)}/reply"
            form = {"csrf_token": person.token, "action": "send",
                    "body": f"Load test reply {marker}."}
        began = time.monotonic()
        try:
            answer = browser.request("POST" if form else "GET", path, form=form,
                                     headers=headers)
            status, locked = answer.status, LOCKED in answer.text
        except OSError:
            status, locked = 0, False
        records.append(Record(kind, status, time.monotonic() - began, marker, locked))
        if think:
            time.sleep(rng.uniform(0, 2 * think))
    browser.close()


def _double_submit(port: int, person: Person, run_id: str) -> str:
    """The same compose form (same CSRF token, same fields) posted twice at once, as a double
    click does. Returns its marker: the check counts the messages that carry it."""
    marker = f"{run_id}-999-1"
    browser = HttpBrowser("127.0.0.1", port)
    page = browser.request("GET", "/compose", headers={"Cookie": person.cookie})
    browser.close()
    # Every hidden field of the form as the page gave it (the CSRF token, and any key the
    # app puts in a form to know it again), then what the person typed.
    form = parse_page(page.text).hidden | {
        "action": "send", "recipient": str(person.groups[0]), "category": "General",
        "subject": f"Double {marker}", "body": f"Double submit {marker}."}
    statuses = []

    def post() -> None:
        browser = HttpBrowser("127.0.0.1", port)
        statuses.append(browser.request("POST", "/compose", form=form,
                                        headers={"Cookie": person.cookie}).status)
        browser.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"  double submit: both posts answered {statuses}")
    return marker


# --- the check -----------------------------------------------------------------------------

def _last_message_id(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        last = connection.scalar(text("SELECT max(id) FROM messages")) or 0
    engine.dispose()
    return last


def _stored_markers(database_url: str, after_id: int) -> Counter:
    """How many times each marker is in the messages written during the run."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    found: Counter = Counter()
    with engine.connect() as connection:
        for (body,) in connection.execute(
                text("SELECT body FROM messages WHERE id > :after"), {"after": after_id}):
            found.update(set(MARKER.findall(body)))
    engine.dispose()
    return found


def _report(records: list[Record], stored: Counter, double_marker: str, server_log: str,
            log_path) -> bool:
    statuses = Counter(r.status for r in records)
    writes = [r for r in records if r.kind != "read"]
    acknowledged = [r.marker for r in writes if r.status in SENT]
    lost = [m for m in acknowledged if stored[m] == 0]
    duplicated = [m for m in acknowledged if stored[m] > 1]
    unacknowledged_stored = [r.marker for r in writes if r.status not in SENT and stored[r.marker]]
    errors_5xx = sum(n for status, n in statuses.items() if status >= 500)
    no_answer = statuses.get(0, 0)
    locked_answers = sum(r.locked for r in records)
    locked_log = server_log.count(LOCKED)
    tracebacks = server_log.count("Traceback")
    elapsed_writes = [r.seconds for r in writes if r.status in SENT]

    print(f"  requests: {len(records):,} ({sum(r.kind == 'read' for r in records):,} reads, "
          f"{sum(r.kind == 'send' for r in records):,} sends, "
          f"{sum(r.kind == 'reply' for r in records):,} replies); answers "
          f"{dict(sorted(statuses.items()))}")
    refused = Counter(r.status for r in writes if r.status not in SENT)
    if refused:
        print(f"  writes not sent (status: count): {dict(refused)}")
    for kind in ("send", "reply"):
        times = [r.seconds for r in writes if r.kind == kind and r.status in SENT]
        print(f"  {kind:<5} latency ms: p50 {percentile(times, 50) * 1000:7.1f}  "
              f"p95 {percentile(times, 95) * 1000:7.1f}  p99 {percentile(times, 99) * 1000:7.1f}"
              f"  ({len(times)} sent)")
    print(f"  all writes ms: p50 {percentile(elapsed_writes, 50) * 1000:7.1f}  "
          f"p95 {percentile(elapsed_writes, 95) * 1000:7.1f}  "
          f"p99 {percentile(elapsed_writes, 99) * 1000:7.1f}")
    reads = [r.seconds for r in records if r.kind == "read" and r.status == 200]
    print(f"  reads ms:      p50 {percentile(reads, 50) * 1000:7.1f}  "
          f"p95 {percentile(reads, 95) * 1000:7.1f}  p99 {percentile(reads, 99) * 1000:7.1f}")
    double = stored[double_marker]
    checks = [
        (f"5xx answers: {errors_5xx}", errors_5xx == 0),
        (f"requests without an answer: {no_answer}", no_answer == 0),
        (f'"{LOCKED}": {locked_answers} in answers, {locked_log} in the server log',
         locked_answers == 0 and locked_log == 0),
        (f"acknowledged sends stored exactly once: {len(acknowledged) - len(lost)}"
         f"{' - ' + str(len(duplicated)) if duplicated else ''} of {len(acknowledged)} "
         f"(lost {len(lost)}, duplicated {len(duplicated)})", not lost and not duplicated),
        (f"double-submitted form created {double} message(s) (should be 1)", double == 1),
    ]
    for text, passed in checks:
        print(f"  [{'ok' if passed else 'FAIL':>4}] {text}")
    if unacknowledged_stored:
        print(f"  note: {len(unacknowledged_stored)} send(s) without a success answer were "
              "stored anyway")
    if tracebacks:
        print(f"  note: {tracebacks} traceback(s) in {log_path}")
    for marker in (lost + duplicated)[:5]:
        print(f"  e.g. {marker}: stored {stored[marker]} time(s)")
    return all(passed for _text, passed in checks)


if __name__ == "__main__":
    raise SystemExit(main())
