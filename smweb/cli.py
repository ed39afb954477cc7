"""`flask --app app smweb ...`: commands for site admins, and the background worker."""

import json
from pathlib import Path

import click
import pyotp
from flask import Flask, current_app
from flask.cli import AppGroup

from . import tasks
from .extensions import db
from .models import RecordEntry
from .services import accounts, attachments, backup, demo, health, jobs, records, search_index

smweb_cli = AppGroup("smweb", help="smweb administration commands.")


def init_app(app: Flask) -> None:
    app.cli.add_command(smweb_cli)


@smweb_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Add the demo facility, care teams, accounts and threads (not in production)."""
    if not current_app.config["ALLOW_DEMO_SEED"]:
        raise click.ClickException(
            "seed-demo is refused under the production configuration: demo accounts share "
            "a published password. Set SMWEB_ENV=development to try smweb."
        )
    created = demo.seed_demo()
    click.echo("Demo data created." if created else "Demo data already present.")
    click.echo(f"Demo sign-ins (demo only), password for all: {demo.DEMO_PASSWORD}")
    for username, name, role, level, _opted_in, _groups in demo.DEMO_ACCOUNTS:
        kind = f"{level} patient" if role == "patient" else role
        user = accounts.find_user(username)
        if user is not None and user.is_coordinator:
            kind = "coordinator"
        for caregiver, patient, may_write in demo.DEMO_CAREGIVERS:
            if caregiver == username:
                kind = f"caregiver of {patient} ({'read and write' if may_write else 'read'})"
        click.echo(f"  {username:<13} {kind:<16} {name}")
    click.echo(f"Staff, coordinator and admin sign-ins then ask for a code from an authenticator "
               f"app with the demo-only key {demo.DEMO_TOTP_SECRET}")
    click.echo("  (or print the current code: .venv/bin/flask --app app smweb demo-code)")


@smweb_cli.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
def backup_command(destination: Path) -> None:
    """Back up the SQLite database and attachments into DESTINATION while smweb runs."""
    try:
        report = backup.backup(destination)
    except backup.BackupError as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Database: {report.database} (integrity check: {report.integrity})")
    click.echo(f"Attachments: {report.attachments} ({report.files_copied} copied, "
               f"{report.files_checked} checked against their SHA-256)")
    for problem in report.problems:
        click.echo(f"Problem: {problem}", err=True)
    if not report.ok:
        raise SystemExit(1)


@smweb_cli.command("demo-code")
def demo_code_command() -> None:
    """Print the current sign-in code of the demo staff accounts (not in production)."""
    if not current_app.config["ALLOW_DEMO_SEED"]:
        raise click.ClickException("There are no demo accounts under the production "
                                   "configuration.")
    click.echo(pyotp.TOTP(demo.DEMO_TOTP_SECRET).now())


def _run_job(name: str, **options) -> object:
    """A scheduled job by hand: now, recorded on the health page like the worker's runs."""
    try:
        return tasks.run_now(name, **options)
    except jobs.JobBusy as busy:
        raise click.ClickException(f"{busy} Try again in a few minutes.") from None


@smweb_cli.command("sweep-attachments")
@click.option("--min-age", default=3600, show_default=True,
              help="Leave files younger than this many seconds (an upload may be committing).")
def sweep_attachments_command(min_age: int) -> None:
    """Remove stored files no attachment row names; report rows whose file is missing
    (the worker runs it nightly)."""
    report = _run_job("sweep-attachments", min_age_seconds=min_age)
    click.echo(f"Removed {len(report.removed)} orphaned file(s).")
    if report.missing:
        ids = ", ".join(str(i) for i in report.missing)
        click.echo(f"Attachment rows whose file is missing: {ids}", err=True)
        raise SystemExit(1)


@smweb_cli.command("move-attachments")
@click.option("--to", "kind", required=True, type=click.Choice(["s3", "local"]),
              help="The store to copy into (its SMWEB_S3_* or SMWEB_ATTACHMENTS_DIR settings).")
def move_attachments_command(kind: str) -> None:
    """Copy every attachment into the other store, checked; then switch SMWEB_STORAGE."""
    try:
        report = attachments.copy_to_store(kind)
    except attachments.MoveError as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(str(report))
    for problem in report.problems:
        click.echo(f"Problem: {problem}", err=True)
    if report.problems:
        raise SystemExit(1)
    click.echo(f"Once nothing new is uploaded meanwhile (run it again to copy what is), set "
               f"SMWEB_STORAGE={kind} and restart smweb and its worker.")


@smweb_cli.command("escalate")
def escalate_command() -> None:
    """Escalate threads past their reply time and notify coordinators (the worker runs it
    every 15 minutes)."""
    click.echo(_run_job("escalate"))


@smweb_cli.command("prune")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="Keep sessions this many days after they ended.")
def prune_command(days: int) -> None:
    """Delete sessions long over and sign-in failures past the lockout window (the worker
    runs it daily)."""
    click.echo(_run_job("prune", days=days))


@smweb_cli.command("send-digests")
def send_digests_command() -> None:
    """Queue a digest for each user who chose one, if anything is new (the worker runs it
    daily); the worker delivers them."""
    click.echo(_run_job("send-digests"))


@smweb_cli.command("deliver-notices")
def deliver_notices_command() -> None:
    """Deliver the email notices that are due, from this process (the worker does it as
    soon as a message is sent, and every minute)."""
    click.echo(_run_job("deliver-notices"))


@smweb_cli.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Threads delivering notices and running jobs.")
def worker_command(workers: int) -> None:
    """Run the background worker: email notices and the scheduled jobs. `make run` starts
    one beside the web server; in production run it as its own service."""
    try:
        tasks.run_worker(current_app._get_current_object(), workers)
    except RuntimeError as refusal:
        raise click.ClickException(str(refusal)) from None


@smweb_cli.command("doctor")
def doctor_command() -> None:
    """Check the site's health: scheduled jobs, the outbox, mail relay, clamd, attachment
    store, migrations, database. Exit status 1 when something is wrong."""
    problems = 0
    for check in health.checks(thorough=True):
        mark = "ok     " if check.ok else "PROBLEM"
        click.echo(f"{mark} {check.name}: {check.detail}")
        problems += not check.ok
    if problems:
        click.echo(f"{problems} problem(s) found.", err=True)
        raise SystemExit(1)
    click.echo("All checks passed.")


@smweb_cli.command("reindex-search")
def reindex_search_command() -> None:
    """Index every message for search again (after loading data with triggers turned off)."""
    click.echo(f"Indexed {search_index.rebuild_index():,} message(s) for search.")


@smweb_cli.command("export-record")
@click.argument("entry_id", type=int)
def export_record_command(entry_id: int) -> None:
    """Print a medical-record entry as a FHIR R4 Communication resource (JSON)."""
    entry = db.session.get(RecordEntry, entry_id)
    if entry is None:
        raise click.ClickException(f"No medical-record entry {entry_id}.")
    click.echo(json.dumps(records.to_fhir(entry), indent=2, ensure_ascii=False))


@smweb_cli.command("create-admin")
@click.argument("username")
@click.option("--name", default="Site administrator", show_default=True)
@click.password_option(help="At least 12 characters; asked for when not given.")
def create_admin_command(username: str, name: str, password: str) -> None:
    """Create an admin account (the first one, or another)."""
    from .services import admin

    try:
        admin.create_user(None, username, name, "admin", "basic", password)
    except admin.AdminError as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(f"Admin account {username.strip().lower()} created.")


@smweb_cli.command("create-user")
@click.argument("username")
@click.option("--name", required=True, help="The person's name as shown to others.")
@click.option("--role", type=click.Choice(["patient", "staff", "admin"]), default="patient",
              show_default=True)
@click.option("--level", type=click.Choice(["basic", "premium"]), default="basic",
              show_default=True)
@click.password_option(help="At least 12 characters; asked for when not given.")
def create_user_command(username: str, name: str, role: str, level: str, password: str) -> None:
    """Create an account."""
    from .services import admin

    try:
        admin.create_user(None, username, name, role, level, password)
    except admin.AdminError as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(f"Account {username.strip().lower()} created.")


@smweb_cli.command("disable-user")
@click.argument("username")
def disable_user_command(username: str) -> None:
    """Disable an account: it can't sign in, and is signed out on its next request."""
    from .services import accounts, admin

    user = accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"No account named {username}.")
    try:
        admin.update_user(None, user, role=user.role, account_level=user.account_level,
                          disabled=True)
    except admin.AdminError as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(f"Account {user.username} disabled.")


@smweb_cli.command("create-facility")
@click.argument("name")
@click.option("--timezone", default="America/New_York", show_default=True)
@click.option("--phone", required=True)
def create_facility_command(name: str, timezone: str, phone: str) -> None:
    """Add a facility (business hours 8:00-17:00; change them in the browser)."""
    from .services import admin

    try:
        admin.create_facility(name, timezone, phone)
    except admin.AdminError as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(f"Facility {name} added.")


@smweb_cli.command("create-group")
@click.argument("facility")
@click.argument("name")
def create_group_command(facility: str, name: str) -> None:
    """Add a care team to a facility (by the facility's name)."""
    from .models import Facility
    from .services import admin

    found = db.session.scalar(db.select(Facility).where(Facility.name == facility))
    if found is None:
        raise click.ClickException(f"No facility named {facility}.")
    try:
        admin.create_group(found, name)
    except admin.AdminError as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(f"Care team {name} added to {facility}.")
