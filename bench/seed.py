"""Seed a synthetic data set for the bench: bulk inserts through the app's own tables.

One facility; care teams with three staff each; premium patients who have opted in; threads of
one to five messages spread over two years (more of them recent), with the columns the app
keeps up to date (last_*, unread flags, status, due_at) filled as its services would.
Two mailboxes are singled out for the flat-cost comparison: `bench-big` (the big patient, all
threads in the big team `Bench Team Big`) and `bench-small` (100 threads in `Bench Team
Small`, which holds nothing else). `bench-coordinator` is the facility's coordinator (on no
team): every patient is on their Patients page. Every account shares one password hash,
computed once with the app's hasher.

The search index fills itself: the triggers of migrations 0014 (SQLite) and 0015 (PostgreSQL)
write each message into `message_fts` with its thread's scope; on PostgreSQL that table's GIN
index is dropped during the load and built again after it, which is much faster than updating
it row by row.

    python -m bench.seed [--small | --large] [--database-url URL] [--reseed]
"""

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .settings import (
    PASSWORD,
    REPO,
    SIZES,
    VENV_BIN,
    WORK_DIR,
    Size,
    add_size_arguments,
    app_environment,
    sqlite_url,
    use_app_environment,
)

BIG_PATIENT, SMALL_PATIENT = "bench-big", "bench-small"
COORDINATOR = "bench-coordinator"
BIG_GROUP_ID, SMALL_GROUP_ID = 1, 2
BATCH = 5_000  # rows per executemany



def _words(text: str) -> list[str]:
    return text.split()


SUBJECTS = [
    "Refill request", "Question about my appointment", "Lab results", "Blood pressure readings",
    "Medication side effects", "Follow-up after my visit", "Travel pay question",
    "Sleep problems", "Knee pain getting worse", "Flu shot", "New prescription",
    "Change of pharmacy", "Test results question", "Referral to a specialist",
    "Blood sugar log", "Hearing aid batteries", "Diet advice", "Physical therapy schedule",
]
FILLER = _words(
    "i the a to and my of is it for have in that was with you on be this can not are at but "
    "so do if please when about would will your could there what should had been since last "
    "week day morning night still also more than just again thank thanks help need know"
)
TOPICS = _words(
    "refill pharmacy lisinopril metformin atorvastatin insulin inhaler prescription dosage "
    "appointment clinic schedule reschedule cancel referral specialist cardiology audiology "
    "blood pressure sugar glucose cholesterol headache dizziness nausea fatigue rash cough "
    "fever swelling knee shoulder back hip ankle wrist pain numbness tingling sleep insomnia "
    "anxiety mood therapy counseling exercise walking diet weight nutrition vitamin allergy "
    "vaccine flu shingles covid booster xray mri ultrasound echocardiogram biopsy colonoscopy "
    "labs results urine kidney liver thyroid prostate hearing vision glasses dental travel "
    "mileage copay billing insurance wheelchair cane brace hearing-aid batteries oxygen cpap"
)
CATEGORY_NAMES = ["General", "COVID", "Appointments", "Medications", "Test results"]
MESSAGE_COUNTS = [1, 2, 2, 3, 3, 3, 4, 4, 5]  # messages per ordinary thread: about 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_arguments(parser)
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    url = args.database_url or sqlite_url(size)
    ensure_seeded(size, url, reseed=args.reseed)
    return 0


def ensure_seeded(size: Size, database_url: str, reseed: bool = False) -> None:
    """Seed `database_url` with `size`, unless the marker says it already holds that size at
    the current schema (seeding the default size takes a minute or two: runs reuse it)."""
    marker = _marker_path(database_url)
    # A data set seeded before the bench had its coordinator lacks that account: stale.
    wanted = {"size": size.name, "url": database_url, "migrations": _migration_files(),
              "coordinator": COORDINATOR}
    if not reseed and marker.exists():
        found = json.loads(marker.read_text())
        if all(found.get(key) == value for key, value in wanted.items()):
            print(f"seed: reusing {size.name} data set in {_shown(database_url)} "
                  f"(seeded {found.get('seeded_at')}; --reseed to start again)")
            return
    marker.unlink(missing_ok=True)
    started = time.monotonic()
    print(f"seed: {size.name} data set ({size.patients:,} patients, {size.messages:,} messages) "
          f"into {_shown(database_url)}")
    _empty_database(database_url)
    _migrate(database_url)
    counts = _load(size, database_url)
    print(f"seed: {counts} in {time.monotonic() - started:.0f} s")
    marker.write_text(json.dumps(wanted | {"seeded_at": time.strftime("%Y-%m-%d %H:%M")}))


def _shown(database_url: str) -> str:
    return database_url.split("@")[-1] if "@" in database_url else database_url


def _marker_path(database_url: str) -> Path:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() else "_" for c in _shown(database_url))[-80:]
    return WORK_DIR / f"seeded-{name}.json"


def _migration_files() -> list[str]:
    """The schema's revisions, by name and content: a new or changed migration means the
    seeded database is stale."""
    import hashlib

    return sorted(f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()[:12]}"
                  for p in (REPO / "migrations" / "versions").glob("*.py"))


def _empty_database(database_url: str) -> None:
    """Start from nothing: delete the SQLite file, or empty the PostgreSQL bench database."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(database_url).database or ""
    # The test suite's database (and any other) is never emptied by mistake.
    if "bench" not in name:
        raise SystemExit(f"seed: refusing to empty database {name!r}: its name must contain "
                         "'bench' (create one: psql -c 'CREATE DATABASE smweb_bench')")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _migrate(database_url: str) -> None:
    """The schema through the app's own migrations (as `make run` does)."""
    env = app_environment(database_url)
    Path(env["SMWEB_INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed command, our own venv
        [str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=REPO, env={**_inherited_env(), **env}, check=True,
    )


def _inherited_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SMWEB_")}


# --- the data ------------------------------------------------------------------------------

@dataclass
class Batches:
    """Rows waiting to be inserted, flushed in FK order every BATCH messages."""

    threads: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    thread_count: int = 0
    message_count: int = 0


class DataSet:
    """Builds the rows of one synthetic data set, deterministically (seeded random)."""

    def __init__(self, size: Size, password_hash: str, now: datetime):
        self.size, self.password_hash, self.now = size, password_hash, now
        self.rng = random.Random(8)  # noqa: S311 - synthetic data, not security
        self.next_thread_id = 1
        self.next_message_id = 1
        self.staff_of: dict[int, list[int]] = {}
        self.users: list[dict] = []
        self.members: list[dict] = []
        self.patient_links: list[dict] = []
        self.patients_of_group: dict[int, list[int]] = {}

    # people
    def people(self) -> None:
        """Staff of every team, then the big and small patients, then everyone else, then
        the facility's coordinator."""
        size, user_id = self.size, 0
        for group_id in range(1, size.groups + 1):
            self.staff_of[group_id] = []
            for k in range(1, size.staff_per_group + 1):
                user_id += 1
                self.users.append(self._user(user_id, f"bench-staff-{group_id}-{k}",
                                             f"Nurse Bench {group_id}-{k}, RN", "staff"))
                self.members.append({"group_id": group_id, "user_id": user_id,
                                     "role": "nurse" if k > 1 else "provider"})
                self.staff_of[group_id].append(user_id)
        for n in range(1, size.patients + 1):
            user_id += 1
            username = {1: BIG_PATIENT, 2: SMALL_PATIENT}.get(n, f"bench-patient-{n}")
            self.users.append(self._user(user_id, username, f"Patient Bench {n}", "patient"))
            if n == 1:
                groups = [BIG_GROUP_ID]
            elif n == 2:
                groups = [SMALL_GROUP_ID]
            else:  # one ordinary team each; every tenth patient also in the big team
                groups = [3 + n % max(size.groups - 2, 1)] if size.groups > 2 else []
                if n % 10 == 0 or not groups:
                    groups.append(BIG_GROUP_ID)
            for group_id in groups:
                self.patient_links.append({"group_id": group_id, "patient_id": user_id})
                self.patients_of_group.setdefault(group_id, []).append(user_id)
        user_id += 1
        self.users.append(self._user(user_id, COORDINATOR, "Coordinator Bench", "staff")
                          | {"coordinator_of_id": 1})

    def _user(self, user_id: int, username: str, name: str, role: str) -> dict:
        return {"id": user_id, "username": username, "password_hash": self.password_hash,
                "display_name": name, "role": role,
                "account_level": "premium" if role == "patient" else "basic",
                "opted_in_at": self.now - timedelta(days=800) if role == "patient" else None,
                "disabled": False, "coordinator_of_id": None,
                "created_at": self.now - timedelta(days=800)}

    # threads and messages
    def threads(self) -> Iterator[tuple[int, int, int]]:
        """(patient id, group id, messages) for every thread, within the message
        budget: the big and small mailboxes first (two messages each: patient, then team)."""
        size = self.size
        big, small = self.patients_of_group[BIG_GROUP_ID][0], \
            self.patients_of_group[SMALL_GROUP_ID][0]
        budget = size.messages
        for _ in range(size.big_patient_threads):
            yield big, BIG_GROUP_ID, 2
        for _ in range(size.small_threads):
            yield small, SMALL_GROUP_ID, 2
        budget -= 2 * (size.big_patient_threads + size.small_threads)
        others_in_big = [p for p in self.patients_of_group[BIG_GROUP_ID] if p != big]
        extra = size.big_group_threads - size.big_patient_threads
        ordinary = [(p, g) for g, patients in self.patients_of_group.items()
                    if g not in (BIG_GROUP_ID, SMALL_GROUP_ID) for p in patients]
        while budget > 0:
            if extra > 0:
                patient, group, extra = self.rng.choice(others_in_big), BIG_GROUP_ID, extra - 1
            else:
                patient, group = self.rng.choice(ordinary or [(others_in_big[0], BIG_GROUP_ID)])
            count = min(self.rng.choice(MESSAGE_COUNTS), budget)
            budget -= count
            yield patient, group, count

    def thread_rows(self, patient_id: int, group_id: int, count: int) -> tuple[dict, list[dict]]:
        """One thread and its messages, alternating patient and team (most start with the
        patient), with the columns the messaging and triage services keep."""
        rng, now = self.rng, self.now
        thread_id = self.next_thread_id
        self.next_thread_id += 1
        gaps = [timedelta(hours=rng.uniform(1, 72)) for _ in range(count - 1)]
        age = timedelta(days=730 * rng.random() ** 2, minutes=5)  # more recent than old
        start = min(now - age, now - sum(gaps, timedelta()) - timedelta(minutes=5))
        staff = self.staff_of[group_id]
        subject = rng.choice(SUBJECTS)
        patient_first = count == 2 or rng.random() < 0.9
        times, t = [], start
        for gap in [timedelta(), *gaps]:
            t += gap
            times.append(t)
        messages = []
        last_team_author = None
        for i, sent in enumerate(times):
            from_patient = (i % 2 == 0) == patient_first
            author = patient_id if from_patient else rng.choice(staff)
            if not from_patient:
                last_team_author = author
            messages.append({
                "id": self.next_message_id, "thread_id": thread_id, "author_id": author,
                "from_patient": from_patient, "subject": subject, "body": self._body(),
                "sent_at": sent, "read_by_team_at": None, "read_by_team_user_id": None,
                "read_by_patient_at": None,
                "reply_due_at": sent + timedelta(days=3) if from_patient else None,
            })
            self.next_message_id += 1
        last = messages[-1]
        team_times = [m["sent_at"] for m in messages if not m["from_patient"]]
        patient_times = [m["sent_at"] for m in messages if m["from_patient"]]
        thread = {
            "id": thread_id, "patient_id": patient_id, "group_id": group_id,
            "category": rng.choice(CATEGORY_NAMES), "subject": subject, "created_at": start,
            "last_message_at": last["sent_at"],
            "last_team_message_at": team_times[-1] if team_times else None,
            "last_team_author_id": last_team_author,
            "last_patient_message_at": patient_times[-1] if patient_times else None,
            "unread_for_patient": False, "unread_for_team": False,
            "patient_deleted_at": None, "folder_id": None, "assignee_id": None,
            "assigned_for_id": None, "due_at": None, "warn_at": None, "escalated_at": None,
            "completed_at": None,
        }
        self._triage_state(thread, messages, staff)
        return thread, messages

    def _triage_state(self, thread: dict, messages: list[dict], staff: list[int]) -> None:
        """Status, reply clock and read receipts as the services would have left them."""
        rng, now = self.rng, self.now
        answered_by = None
        for message in reversed(messages):  # patient messages before a team reply were read
            if not message["from_patient"]:
                answered_by = message["author_id"]
            elif answered_by is not None:
                message["read_by_team_at"] = message["sent_at"] + timedelta(hours=1)
                message["read_by_team_user_id"] = answered_by
        for message in messages:
            if not message["from_patient"]:
                message["read_by_patient_at"] = message["sent_at"] + timedelta(hours=2)
        last = messages[-1]
        if last["from_patient"]:
            waiting = [m for m in messages if m["from_patient"] and m["read_by_team_at"] is None]
            due = waiting[0]["sent_at"] + timedelta(days=3)
            thread.update(due_at=due, warn_at=due - timedelta(days=1))
            for m in waiting:
                m["reply_due_at"] = due
            if rng.random() < 0.5:
                thread.update(status="new", unread_for_team=True)
            else:
                assignee = rng.choice(staff)
                thread.update(status="assigned", assignee_id=assignee)
                for m in waiting:
                    m["read_by_team_at"] = m["sent_at"] + timedelta(hours=2)
                    m["read_by_team_user_id"] = assignee
        elif last["sent_at"] < now - timedelta(days=30) and rng.random() < 0.8:
            thread.update(status="completed",
                          completed_at=min(last["sent_at"] + timedelta(days=1), now))
        else:
            thread["status"] = "waiting"
            if rng.random() < 0.15:
                thread["unread_for_patient"] = True
                last["read_by_patient_at"] = None

    def _body(self) -> str:
        rng = self.rng
        words = rng.choices(FILLER, k=rng.randint(15, 70))
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words)), rng.choice(TOPICS))
        return " ".join(words).capitalize() + "."


def _load(size: Size, database_url: str) -> str:
    """Insert the data set in one transaction; returns what was inserted, for the log."""
    use_app_environment(database_url)
    from smweb import create_app
    from smweb.clock import utcnow
    from smweb.extensions import db
    from smweb.models import Facility, Message, Thread, TriageGroup, User, group_members
    from smweb.models.people import patient_groups
    from smweb.services.accounts import hash_password

    # The URL given, not the one smweb.config read at import: one process may seed SQLite
    # and then PostgreSQL (`bench.load --mode all`).
    app = create_app(SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        data = DataSet(size, hash_password(PASSWORD), utcnow())
        data.people()
        engine = db.engine
        with engine.begin() as connection, _search_index_deferred(connection):
            connection.execute(Facility.__table__.insert(), [{
                "id": 1, "name": "Bench Medical Center", "timezone": "America/New_York",
                "phone": "555-0100"}])
            connection.execute(TriageGroup.__table__.insert(), [
                {"id": g, "facility_id": 1,
                 "name": {BIG_GROUP_ID: "Bench Team Big", SMALL_GROUP_ID: "Bench Team Small"}
                 .get(g, f"Bench Team {g}")} for g in range(1, size.groups + 1)])
            _insert(connection, User.__table__, data.users)
            _insert(connection, group_members, data.members)
            _insert(connection, patient_groups, data.patient_links)
            enrol_staff_in_second_step(
                connection, [u["id"] for u in data.users if u["role"] == "staff"])
            batches = Batches()
            for patient, group, count in data.threads():
                thread, messages = data.thread_rows(patient, group, count)
                batches.threads.append(thread)
                batches.messages.extend(messages)
                if len(batches.messages) >= BATCH:
                    _flush(connection, batches, Thread.__table__, Message.__table__)
            _flush(connection, batches, Thread.__table__, Message.__table__)
            print(file=sys.stderr)
            if engine.dialect.name == "postgresql":
                _advance_sequences(connection)
        _after_load(engine)
    return (f"{len(data.users):,} users, {batches.thread_count:,} threads, "
            f"{batches.message_count:,} messages")


def _insert(connection, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        connection.execute(table.insert(), rows[start:start + BATCH])


def _flush(connection, batches: Batches, threads, messages) -> None:
    """Threads before their messages: the FTS trigger reads the thread's subject."""
    _insert(connection, threads, batches.threads)
    _insert(connection, messages, batches.messages)
    batches.thread_count += len(batches.threads)
    batches.message_count += len(batches.messages)
    batches.threads.clear()
    batches.messages.clear()
    print(f"seed: {batches.message_count:,} messages", end="\r", file=sys.stderr, flush=True)


@contextmanager
def _search_index_deferred(connection) -> Iterator[None]:
    """On PostgreSQL, drop the search table's GIN index for the load (the triggers still fill
    the table) and build it again after, from its own definition (exactly the migration's)."""
    from sqlalchemy import text

    if connection.dialect.name != "postgresql":
        yield
        return
    definition = connection.scalar(text(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'message_fts' "
        "AND indexname = 'ix_message_fts_document'"))
    if definition:
        connection.execute(text("DROP INDEX ix_message_fts_document"))
    yield
    if definition:
        connection.execute(text(definition))


def _advance_sequences(connection) -> None:
    """Ids were given explicitly: move each serial sequence past them."""
    from sqlalchemy import text

    for table in ("facilities", "triage_groups", "users", "threads", "messages"):
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
            f"(SELECT max(id) FROM {table}))"))


def _after_load(engine) -> None:
    """PostgreSQL: vacuum and statistics, as autovacuum would soon do on its own — and
    would otherwise do in the middle of the measurements, a million rows' worth. SQLite:
    fold the WAL back in. (The app never runs ANALYZE on SQLite, so neither does the bench.)"""
    from sqlalchemy import text

    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM (ANALYZE)"))
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# Used while smweb.services.demo has no DEMO_TOTP_SECRET of its own (base32, 32 characters).
BENCH_TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCH22"  # noqa: S105 - bench accounts only


def staff_totp_secret() -> str:
    """The authenticator secret of every bench staff account: the demo's, when it has one."""
    from smweb.services import demo

    return getattr(demo, "DEMO_TOTP_SECRET", None) or BENCH_TOTP_SECRET


def enrol_staff_in_second_step(connection, staff_ids: list[int]) -> bool:
    """Enrol the bench's staff accounts in the sign-in's second step (TOTP) with
    `staff_totp_secret()`, so bench/browser.py `sign_in` can answer it with a code. Does
    nothing while the schema has no `users.totp_secret` column. Returns whether staff were
    enrolled."""
    from sqlalchemy import column, inspect, table

    columns = {c["name"] for c in inspect(connection).get_columns("users")}
    if "totp_secret" not in columns:
        return False
    users = table("users", column("id"), column("totp_secret"))
    connection.execute(users.update().where(users.c.id.in_(staff_ids))
                       .values(totp_secret=staff_totp_secret()))
    return True


if __name__ == "__main__":
    raise SystemExit(main())
