"""`flask smweb backup`: a consistent copy of a running SQLite site (database and attachment
files), checked; and the README's restore, done for real: the restored site serves the same
messages and the same attachment bytes."""

import shutil
import sqlite3

import flask_migrate
import pytest

from smweb import create_app
from smweb.config import TestConfig
from smweb.extensions import db
from smweb.models import Attachment, Message
from smweb.services import demo, drafts, messaging
from tests.support import new_thread, sign_in, upload, user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sqlite_site(folder):
    """A site of its own on a SQLite file (whatever database the rest of the suite uses)."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'smweb.db'}",
                     ATTACHMENTS_DIR=str(folder / "attachments"),
                     MAIL_OUTBOX=str(folder / "outbox"))
    return app


def close(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    app = sqlite_site(folder)
    with app.app_context():
        flask_migrate.upgrade()
        demo.seed_demo()
        thread = new_thread(body="Before the backup.")
        veteran = user("veteran1")
        kept = drafts.keep(veteran, None, drafts.DraftFields(
            thread=thread, body="See the scan", files=[upload("scan.pdf", PDF)]))
        assert kept.refused == []
        draft = kept.draft
        message = messaging.reply(veteran, thread, "See the scan", draft=draft)
        ids = {"thread": thread.id, "attachment": message.attachments[0].id}
        db.session.remove()
    yield app, folder, ids
    close(app)


def test_backup_and_restore_round_trip(site, tmp_path):
    app, folder, ids = site
    result = app.test_cli_runner().invoke(args=["smweb", "backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    assert "integrity check: ok" in result.output
    assert "1 copied, 1 checked against their SHA-256" in result.output
    copy = next((tmp_path / "backups").glob("smweb-*.db"))
    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()

    # After the backup: more work, then the disaster (the database and files are lost).
    with app.app_context():
        new_thread(body="After the backup.")
        db.session.remove()
    close(app)
    for name in ("smweb.db", "smweb.db-wal", "smweb.db-shm"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "attachments")

    # The README's restore: the copy back in place, the attachments folder back, migrations.
    shutil.copy2(copy, folder / "smweb.db")
    shutil.copytree(tmp_path / "backups" / "attachments", folder / "attachments")
    restored = sqlite_site(folder)
    try:
        with restored.app_context():
            flask_migrate.upgrade()
            bodies = set(db.session.scalars(db.select(Message.body)))
            assert {"Before the backup.", "See the scan"} <= bodies
            assert "After the backup." not in bodies
            db.session.remove()
        client = restored.test_client()
        assert sign_in(client, "veteran1").status_code == 303
        assert "See the scan" in client.get(f"/threads/{ids['thread']}").text
        download = client.get(f"/attachments/{ids['attachment']}")
        assert download.status_code == 200 and download.data == PDF
    finally:
        close(restored)


def test_backup_reports_a_missing_attachment_file(site, tmp_path):
    app, folder, _ids = site
    for path in (folder / "attachments").iterdir():
        path.unlink()
    result = app.test_cli_runner().invoke(args=["smweb", "backup", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "is missing from the site" in result.output


def test_backup_of_postgresql_says_to_use_pg_dump(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u@127.0.0.1/x",
                     ATTACHMENTS_DIR=str(tmp_path / "a"), MAIL_OUTBOX=str(tmp_path / "o"))
    result = app.test_cli_runner().invoke(args=["smweb", "backup", str(tmp_path / "b")])
    assert result.exit_code == 1 and "For PostgreSQL use pg_dump" in result.output
    assert not (tmp_path / "b").exists()


def test_attachments_are_written_before_their_rows(site):
    """What the backup's order relies on: a row never exists without its file."""
    app, folder, _ids = site
    with app.app_context():
        keys = set(db.session.scalars(db.select(Attachment.storage_key)))
        assert keys and all((folder / "attachments" / k).exists() for k in keys)
