"""The response-time report at a big site's size (issue 19): p95 under 1 s on SQLite.

A report reads three tables only: `reply_times` (one row per patient message: services/
reports.py), the open threads (overdue now) and the thread events (escalations). This bench
fills them as a site of about two million messages would: 1,000,000 patient messages over
two years in 20 care teams of one facility (90% answered, by three staff a team), 200,000
threads (2% overdue) and 20,000 escalations, and no message bodies, which the report never
reads (SQLite's foreign keys are off while it loads, so the rows need no messages behind
them). The coordinator then asks for the report over the last 30 days (the default), 90
days, and the longest period allowed (366 days), for all teams and for one, and for the CSV,
each `--runs` times, through the whole app in this process (sign-in, session, view, SQL,
template); it prints each one's median, p95 and slowest.

    python -m bench.reports [--rows N] [--runs N] [--reseed]
"""

import argparse
import json
import random
import statistics
import time
from datetime import datetime, timedelta

from .browser import TestClientBrowser, sign_in
from .seed import _empty_database, _migrate, staff_totp_secret
from .settings import PASSWORD, WORK_DIR, use_app_environment

TEAMS, STAFF_PER_TEAM = 20, 3
COORDINATOR = "report-coordinator"
CATEGORIES = ["General", "COVID", "Appointments", "Medications", "Test results", "Education"]
BATCH = 20_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="patient messages (reply-time rows) to seed (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=20, help="requests per report (default 20)")
    parser.add_argument("--reseed", action="store_true", help="seed again")
    args = parser.parse_args(argv)
    url = f"sqlite:///{WORK_DIR / f'reports-{args.rows}.db'}"
    _ensure_seeded(url, args.rows, args.reseed)
    use_app_environment(url)
    from smweb import create_app

    app = create_app(SQLALCHEMY_DATABASE_URI=url)
    browser = TestClientBrowser(app, _NoCookies())
    sign_in(browser, COORDINATOR, PASSWORD, totp_secret=staff_totp_secret())
    today = datetime.utcnow().date()  # noqa: DTZ003 - the app's dates are UTC-naive

    def since(days: int) -> str:
        return f"start={today - timedelta(days=days - 1)}&end={today}"

    reports = [
        ("last 30 days, 20 teams", "/triage/reports"),
        ("90 days, 20 teams", f"/triage/reports?{since(90)}"),
        ("366 days, 20 teams", f"/triage/reports?{since(366)}"),
        ("366 days, one team", f"/triage/reports?{since(366)}&team=1"),
        ("366 days, CSV", f"/triage/reports.csv?{since(366)}"),
    ]
    print(f"\nbench.reports: {args.rows:,} patient messages on SQLite, {args.runs} requests "
          "each, in process")
    print(f"  {'report':<26} {'median':>9} {'p95':>9} {'slowest':>9}")
    worst = 0.0
    for name, path in reports:
        browser.request("GET", path)  # the first compiles the template: not counted
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            answer = browser.request("GET", path)
            times.append(time.perf_counter() - started)
            if answer.status != 200:
                raise SystemExit(f"{name}: HTTP {answer.status}")
        times.sort()
        p95 = times[max(0, -(-95 * len(times) // 100) - 1)]
        worst = max(worst, p95)
        print(f"  {name:<26} {statistics.median(times) * 1000:>7.0f} ms {p95 * 1000:>6.0f} ms "
              f"{times[-1] * 1000:>6.0f} ms")
    print(f"  target: p95 under 1,000 ms: {'met' if worst < 1 else 'NOT MET'} "
          f"(worst p95 {worst * 1000:.0f} ms)")
    return 0


class _NoCookies:
    values: dict = {}


def _ensure_seeded(url: str, rows: int, reseed: bool) -> None:
    from .seed import _migration_files

    marker = WORK_DIR / f"reports-{rows}.json"
    wanted = {"rows": rows, "migrations": _migration_files()}
    if not reseed and marker.exists() and json.loads(marker.read_text()) == wanted:
        print(f"bench.reports: reusing {url} (--reseed to start again)")
        return
    started = time.monotonic()
    _empty_database(url)
    _migrate(url)
    _load(url, rows)
    marker.write_text(json.dumps(wanted))
    print(f"bench.reports: seeded {rows:,} rows in {time.monotonic() - started:.0f} s")


def _load(url: str, rows: int) -> None:
    """Core inserts on a plain engine: none of the app's hooks, so no foreign keys."""
    from sqlalchemy import create_engine, text

    use_app_environment(url)
    from smweb import create_app
    from smweb.models import Facility, ReplyTime, Thread, ThreadEvent, TriageGroup, User
    from smweb.models.people import group_members
    from smweb.services.accounts import hash_password

    with create_app(SQLALCHEMY_DATABASE_URI=url).app_context():
        password = hash_password(PASSWORD)
    rng = random.Random(19)  # noqa: S311 - synthetic data, not security
    now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("PRAGMA foreign_keys = OFF"))
        connection.execute(Facility.__table__.insert(), [{
            "id": 1, "name": "Bench Report Medical Center", "timezone": "America/New_York",
            "phone": "555-0100"}])
        connection.execute(TriageGroup.__table__.insert(), [
            {"id": g, "facility_id": 1, "name": f"Report Team {g:02d}"}
            for g in range(1, TEAMS + 1)])
        users, members = [], []
        for g in range(1, TEAMS + 1):
            for k in range(STAFF_PER_TEAM):
                user_id = 1 + (g - 1) * STAFF_PER_TEAM + k
                users.append(_user(user_id, f"report-staff-{g}-{k}", f"Staff {g}-{k}",
                                   password, now))
                members.append({"group_id": g, "user_id": user_id})
        patient_id = len(users) + 1
        users.append(_user(patient_id, "report-patient", "Report Patient", password, now,
                           role="patient"))
        users.append(_user(patient_id + 1, COORDINATOR, "Report Coordinator", password, now)
                     | {"coordinator_of_id": 1, "totp_secret": staff_totp_secret()})
        connection.execute(User.__table__.insert(), users)
        connection.execute(group_members.insert(), members)

        thread_count = rows // 5
        threads = []
        for t in range(1, thread_count + 1):
            group = rng.randint(1, TEAMS)
            created = now - timedelta(days=730 * rng.random() ** 1.5)
            overdue = rng.random() < 0.02
            threads.append({
                "id": t, "patient_id": patient_id, "group_id": group, "category": "General",
                "subject": "Bench", "created_at": created, "last_message_at": created,
                "unread_for_patient": False, "unread_for_team": overdue,
                "status": "new" if overdue else "waiting",
                "due_at": created + timedelta(days=3) if overdue else None,
                "assignee_id": (group - 1) * STAFF_PER_TEAM + 1 if overdue else None})
            if len(threads) == BATCH:
                connection.execute(Thread.__table__.insert(), threads)
                threads = []
        if threads:
            connection.execute(Thread.__table__.insert(), threads)
        connection.execute(ThreadEvent.__table__.insert(), [{
            "thread_id": rng.randint(1, thread_count), "kind": "escalated",
            "created_at": now - timedelta(days=730 * rng.random())} for _ in range(20_000)])

        batch = []
        for m in range(1, rows + 1):
            group = rng.randint(1, TEAMS)
            received = now - timedelta(days=730 * rng.random() ** 1.5)
            answered = rng.random() < 0.9
            seconds = int(rng.lognormvariate(9.6, 1.1))
            replied = received + timedelta(seconds=seconds * 2.5)
            batch.append({
                "message_id": m, "thread_id": rng.randint(1, thread_count), "group_id": group,
                "category": rng.choice(CATEGORIES), "received_at": received,
                "weekday": received.weekday(), "due_at": received + timedelta(days=3),
                "replied_at": replied if answered else None,
                "replied_by_id": (group - 1) * STAFF_PER_TEAM + 1 + rng.randrange(
                    STAFF_PER_TEAM) if answered else None,
                "business_seconds": seconds if answered else None,
                "business_tenths": seconds // 360 if answered else None})
            if len(batch) == BATCH:
                connection.execute(ReplyTime.__table__.insert(), batch)
                batch = []
        if batch:
            connection.execute(ReplyTime.__table__.insert(), batch)
        connection.execute(text("ANALYZE"))
    engine.dispose()


def _user(user_id, username, name, password, now, role="staff") -> dict:
    return {"id": user_id, "username": username, "password_hash": password,
            "display_name": name, "role": role,
            "account_level": "premium" if role == "patient" else "basic",
            "opted_in_at": now if role == "patient" else None, "disabled": False,
            "coordinator_of_id": None, "created_at": now - timedelta(days=800),
            "totp_secret": staff_totp_secret() if role == "staff" else None}


if __name__ == "__main__":
    raise SystemExit(main())
