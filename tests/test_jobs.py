"""Scheduled jobs: the worker's timetable read with a controllable clock, one run at a time
across workers, the by-hand commands, and what the health page and `doctor` say."""

import shutil
import subprocess
import sys
from datetime import datetime, time, timedelta

import pytest
from alembic.script import ScriptDirectory

from smweb import tasks
from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import JobRun, Notice, Thread, ThreadEvent
from smweb.services import health, jobs
from smweb.services.storage import LocalStorage
from tests.liveapp import ROOT, prepare_site, site_env
from tests.mailrelay import free_port
from tests.support import at_once, new_thread, sign_in, user


def test_the_timetable_over_a_day():
    day = datetime(2026, 12, 2)
    asked: dict[str, list[datetime]] = {}
    for minute in range(24 * 60):
        moment = day + timedelta(minutes=minute)
        for task in tasks.huey.read_periodic(moment):
            asked.setdefault(task.name, []).append(moment)
    assert len(asked["scheduled-deliver-notices"]) == 24 * 60
    assert len(asked["scheduled-escalate"]) == 96
    assert all(m.minute % 15 == 0 for m in asked["scheduled-escalate"])
    for daily in ("send-digests", "sweep-attachments", "prune"):  # asked; run once a day
        assert asked[f"scheduled-{daily}"] == asked["scheduled-escalate"]


def overdue_thread() -> Thread:
    thread = new_thread()
    thread.due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return thread


def test_two_workers_woken_by_the_same_tick_escalate_once(app, ctx, clock):
    thread = overdue_thread()
    results = at_once(app, lambda: tasks.run_scheduled("escalate"))
    assert sorted(results, key=str) == ["Escalated 1 thread(s).", None]
    assert db.session.scalar(db.select(db.func.count()).select_from(ThreadEvent).where(
        ThreadEvent.thread_id == thread.id, ThreadEvent.kind == "escalated")) == 1
    # A second worker's tick a few minutes late is the same run: skipped.
    clock.advance(minutes=5)
    assert tasks.run_scheduled("escalate") is None
    clock.advance(minutes=10)
    assert tasks.run_scheduled("escalate") == "Escalated 0 thread(s)."
    run = db.session.get(JobRun, "escalate")
    assert run.succeeded_at is not None and run.running_until is None


def test_a_daily_job_runs_once_a_day_at_its_time_and_catches_up(ctx, clock):
    """Two days of quarter-hour ticks, from two workers each; the second day the workers are
    down from 11:00 to 14:20: the digests go at 12:00, then at 14:30 (caught up)."""
    clock.set(datetime(2026, 12, 2, 0, 0))
    jobs.register_all()
    ran = []
    for tick in range(2 * 96):
        now = datetime(2026, 12, 2) + timedelta(minutes=15 * tick)
        clock.set(now)
        if now.day == 3 and time(11, 0) <= now.time() < time(14, 20):
            continue
        for _worker in range(2):
            if tasks.run_scheduled("send-digests") is not None:
                ran.append(now)
    assert ran == [datetime(2026, 12, 2, 12, 0), datetime(2026, 12, 3, 14, 30)]


def test_a_run_that_dies_frees_the_job_after_its_lease(ctx, clock):
    assert jobs._claim(jobs.JOBS["escalate"], utcnow(), scheduled=True)  # then "dies"
    with pytest.raises(jobs.JobBusy):
        tasks.run_now("escalate")
    clock.advance(minutes=11)
    assert tasks.run_now("escalate") == "Escalated 0 thread(s)."


def test_a_failing_job_is_recorded_by_kind(ctx, monkeypatch):
    def broken():
        raise ZeroDivisionError("nothing of the patient here")

    monkeypatch.setitem(tasks.WORK, "prune", broken)
    with pytest.raises(ZeroDivisionError):
        tasks.run_now("prune")
    run = db.session.get(JobRun, "prune")
    assert run.last_error == "ZeroDivisionError" and run.succeeded_at is None
    assert run.running_until is None
    [check] = [c for c in health.checks() if c.name == "Scheduled job prune"]
    assert not check.ok and "ZeroDivisionError" in check.detail


def test_the_by_hand_command_says_when_a_run_is_under_way(app, ctx):
    runner = app.test_cli_runner()
    assert "Escalated 0 thread(s)." in runner.invoke(args=["smweb", "escalate"]).output
    jobs._claim(jobs.JOBS["escalate"], utcnow(), scheduled=False)
    busy = runner.invoke(args=["smweb", "escalate"])
    assert busy.exit_code == 1
    assert "escalate is already running (or has just run) elsewhere" in busy.output


# --- health: the page, the banner, doctor ------------------------------------------------

def all_jobs_ran(minutes_ago: float = 1) -> None:
    when = utcnow() - timedelta(minutes=minutes_ago)
    for name in jobs.JOBS:
        db.session.merge(JobRun(name=name, registered_at=when, started_at=when,
                                finished_at=when, succeeded_at=when, last_result="ok"))
    db.session.commit()


def checks_by_name() -> dict[str, health.Check]:
    return {c.name: c for c in health.checks()}


def test_a_healthy_site(app, ctx):
    all_jobs_ran()
    found = checks_by_name()
    assert all(c.ok for c in found.values()), [c for c in found.values() if not c.ok]
    newest = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    assert found["Database migrations"].detail == f"current ({newest})"
    assert "Scheduled job escalate" in found and "Email notices" in found
    result = app.test_cli_runner().invoke(args=["smweb", "doctor"])
    assert result.exit_code == 0 and "All checks passed." in result.output


def test_each_check_failing_shows_its_problem(app, ctx, monkeypatch, tmp_path):
    all_jobs_ran()
    # escalation stopped 40 minutes ago
    db.session.get(JobRun, "escalate").succeeded_at = utcnow() - timedelta(minutes=40)
    # a notice failing for two hours
    db.session.add(Notice(user_id=user("nurse1").id, kind="message", attempts=5,
                          created_at=utcnow() - timedelta(hours=2),
                          failing_since=utcnow() - timedelta(hours=2),
                          last_error="ConnectionRefusedError"))
    db.session.commit()
    # the relay unreachable, clamd not answering, the store gone
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())
    monkeypatch.setitem(app.config, "SCANNER", "clamd")
    from smweb.services.scanning import ClamdScanner
    monkeypatch.setitem(app.extensions, "smweb.scanner",
                        ClamdScanner(f"127.0.0.1:{free_port()}", timeout=2))
    store = LocalStorage(tmp_path / "store")
    shutil.rmtree(tmp_path / "store")
    monkeypatch.setitem(app.extensions, "smweb.storage", store)
    found = checks_by_name()
    assert not found["Scheduled job escalate"].ok
    assert "40 minutes ago" in found["Scheduled job escalate"].detail
    assert not found["Email notices"].ok
    assert "1 waiting, 1 failing" in found["Email notices"].detail
    assert "last error: ConnectionRefusedError" in found["Email notices"].detail
    assert "nurse" not in found["Email notices"].detail
    assert not found["Mail relay"].ok and "unreachable: ConnectionRefusedError" in \
        found["Mail relay"].detail
    assert not found["Virus scanner (clamd)"].ok
    assert not found["Attachment store"].ok and "can't be written" in \
        found["Attachment store"].detail
    result = app.test_cli_runner().invoke(args=["smweb", "doctor"])
    assert result.exit_code == 1
    assert "PROBLEM Mail relay" in result.output and "problem(s) found" in result.output
    # A full disk is a problem too.
    monkeypatch.setattr(health, "MIN_FREE_BYTES", 10 ** 18)
    monkeypatch.setitem(app.extensions, "smweb.storage", LocalStorage(tmp_path / "again"))
    store_check = checks_by_name()["Attachment store"]
    assert not store_check.ok and "GiB free" in store_check.detail


def test_a_database_behind_its_migrations_is_a_problem(app, ctx):
    current = db.session.scalar(db.text("SELECT version_num FROM alembic_version"))
    db.session.execute(db.text("UPDATE alembic_version SET version_num = '0020_attachment_"
                               "warning'"))
    db.session.commit()
    try:
        check = checks_by_name()["Database migrations"]
    finally:
        db.session.execute(db.text("UPDATE alembic_version SET version_num = :v"),
                           {"v": current})
        db.session.commit()
    assert not check.ok and "run flask --app app db upgrade" in check.detail


def test_a_job_never_run_and_unknown_to_any_worker_is_a_problem(ctx):
    found = checks_by_name()
    assert not found["Scheduled job send-digests"].ok
    assert "is the worker running?" in found["Scheduled job send-digests"].detail
    jobs.register_all()  # a worker starts: the daily jobs are not due yet
    assert checks_by_name()["Scheduled job send-digests"].ok


def in_app(app, work) -> None:
    """Database work beside the test clients (an outer app context would share flask.g
    with their requests, and with it the CSRF token)."""
    with app.app_context():
        work()
        db.session.remove()


def test_the_banner_on_admin_and_coordinator_pages_only(app):
    in_app(app, lambda: all_jobs_ran(minutes_ago=45))
    for username, path in (("admin1", "/admin/"), ("coordinator1", "/triage/escalations"),
                           ("admin1", "/admin/health")):
        client = app.test_client()
        sign_in(client, username)
        page = client.get(path)
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert 'class="alert alert--error site-alarm" role="alert"' in text
        assert "Escalation last ran 45 minutes ago" in text
    for username, path in (("nurse1", "/triage/"), ("veteran1", "/mailbox/inbox")):
        client = app.test_client()
        sign_in(client, username)
        page = client.get(path)
        assert page.status_code == 200 and "site-alarm" not in page.get_data(as_text=True)
    # Escalation runs again: the banner goes.
    in_app(app, all_jobs_ran)
    client = app.test_client()
    sign_in(client, "admin1")
    assert "site-alarm" not in client.get("/admin/").get_data(as_text=True)

    # Notices failing for over an hour bring it back, saying so.
    def failing():
        db.session.add(Notice(user_id=user("nurse1").id, kind="message",
                              failing_since=utcnow() - timedelta(minutes=61),
                              last_error="SMTP 451"))
        db.session.commit()

    in_app(app, failing)
    text = client.get("/admin/").get_data(as_text=True)
    assert "site-alarm" in text and "Email notices are not going out" in text

    # ... unless other notices have gone since (one mailbox full is not the relay down).
    def one_went():
        db.session.add(Notice(user_id=user("doctor1").id, kind="message",
                              sent_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()

    in_app(app, one_went)
    assert "site-alarm" not in client.get("/admin/").get_data(as_text=True)


def test_the_health_page_for_admins(app):
    in_app(app, all_jobs_ran)
    client = app.test_client()
    sign_in(client, "admin1")
    page = client.get("/admin/health")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Site health</h1>" in text and "All checks passed." in text
    assert ('<th scope="row" data-label="Check">Scheduled job escalate</th>'
            '<td data-label="State">OK</td>') in text
    assert "flask --app app smweb doctor" in text
    nurse = app.test_client()
    sign_in(nurse, "nurse1")
    assert nurse.get("/admin/health").status_code == 404  # admin pages hide from others


def test_doctor_finds_a_damaged_sqlite_file(tmp_path):
    env = site_env(tmp_path)
    prepare_site(env)
    database = tmp_path / "smweb.db"
    data = bytearray(database.read_bytes())
    page = 4096
    for offset in range(page * 3, min(len(data), page * 8)):
        data[offset] = 0x5A  # pages of tables overwritten: the integrity check must say so
    database.write_bytes(bytes(data))
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "app", "smweb", "doctor"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "PROBLEM Database" in result.stdout, result.stdout + result.stderr
