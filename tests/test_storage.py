"""The attachment store, the same tests over each backend: the local folder and a real
SeaweedFS S3 gateway (tests/seaweed.py). Writes confirmed before the row, bytes that no longer
match never served, the sweep, the backup, the health check, and move-attachments between the
two; each test leaves the suite's app on its local folder."""

import hashlib
import sqlite3
import time
import tracemalloc
from dataclasses import dataclass

import flask_migrate
import pytest

from smweb import create_app
from smweb.config import TestConfig
from smweb.extensions import db
from smweb.models import Attachment, Thread
from smweb.services import attachments, demo, drafts, health
from smweb.services.storage import (
    CHUNK,
    LocalStorage,
    S3Storage,
    open_storage,
    sha256,
    storage,
)
from tests import samples
from tests.seaweed import Seaweed, empty_bucket
from tests.support import send_with_files, sign_in, upload, user

KINDS = ["local", "s3"]


def _empty_folder(folder):
    for path in LocalStorage(folder).root.iterdir():
        path.unlink()


@dataclass
class Backend:
    """The store a test runs on, and how to damage what it holds behind the app's back."""

    kind: str
    server: Seaweed | None

    def spoil(self, app, key: str, data: bytes) -> None:
        if self.server:
            self.server.client().put_object(Bucket=self.server.bucket, Key=key, Body=data)
        else:
            (LocalStorage(app.config["ATTACHMENTS_DIR"]).root / key).write_bytes(data)

    def lose(self, app, key: str) -> None:
        if self.server:
            self.server.client().delete_object(Bucket=self.server.bucket, Key=key)
        else:
            (LocalStorage(app.config["ATTACHMENTS_DIR"]).root / key).unlink()


def use_bucket(app, server: Seaweed, monkeypatch) -> None:
    """The bucket (emptied) described in the app's settings, as SMWEB_S3_* would."""
    empty_bucket(server)
    for name, value in server.config().items():
        monkeypatch.setitem(app.config, name, value)


@pytest.fixture(params=KINDS)
def backend(request, app, monkeypatch):
    """The suite's app on the store named by the parameter, empty; afterwards the app is back
    on its own folder (emptied too)."""
    server = None
    if request.param == "s3":
        server = request.getfixturevalue("seaweed")  # started by the first test that needs it
        use_bucket(app, server, monkeypatch)
    _empty_folder(app.config["ATTACHMENTS_DIR"])
    monkeypatch.setitem(app.config, "STORAGE", request.param)
    monkeypatch.setitem(app.extensions, "smweb.storage", open_storage(app.config))
    yield Backend(request.param, server)
    _empty_folder(app.config["ATTACHMENTS_DIR"])


def sent_attachment(app) -> Attachment:
    with app.app_context():
        return db.session.scalar(db.select(Attachment))


# --- the interface ---------------------------------------------------------------------------

def test_save_read_delete_and_list(backend, ctx):
    store = storage()
    assert isinstance(store, S3Storage if backend.server else LocalStorage)
    key = store.save(b"some bytes")
    assert len(key) == 32 and key.isalnum()
    assert store.read(key) == b"some bytes"
    assert key in set(store.keys())
    assert abs(store.modified(key) - time.time()) < 60
    store.delete(key)
    store.delete(key)  # twice is no error
    with pytest.raises(FileNotFoundError):
        store.read(key)
    assert key not in set(store.keys())
    with pytest.raises(ValueError):
        store.read("../secret_key")


def test_a_large_object_is_read_a_piece_at_a_time(backend, ctx):
    store = storage()
    data = bytes(range(256)) * (CHUNK * 5 // 2 // 256)
    key = store.save(data)
    pieces = list(store.chunks(key))
    assert len(pieces) >= 3 and all(len(piece) <= CHUNK for piece in pieces)
    assert b"".join(pieces) == data == store.read(key)


def test_listing_goes_through_every_page(backend, ctx, monkeypatch):
    monkeypatch.setattr(S3Storage, "LIST_PAGE", 2)
    store = storage()
    saved = {store.save(bytes([n])) for n in range(5)}
    assert set(store.keys()) == saved


def test_health_check_says_what_the_store_is(backend, ctx):
    check = health._store_check()
    assert check.ok and "writable" in check.detail
    if backend.server:
        assert check.detail.startswith("object storage: reachable")
    else:
        assert "GiB free" in check.detail
    assert list(storage().keys()) == []  # the probe is removed


def test_an_unreachable_bucket_is_reported_not_raised(app, ctx, monkeypatch):
    # nothing listens on port 9 (discard) of loopback
    monkeypatch.setitem(app.extensions, "smweb.storage", S3Storage(
        "smweb-attachments", "http://127.0.0.1:9", "key", "secret"))
    check = health._store_check()
    assert not check.ok and "can't be written" in check.detail


# --- through the app ---------------------------------------------------------------------------

def test_compose_with_attachment_then_download(backend, login, client, app):
    login("veteran1")
    response = send_with_files(client, app, [("scan.pdf", samples.STANDARD["scan.pdf"])])
    assert response.status_code == 303, response.get_data(as_text=True)
    attachment = sent_attachment(app)
    with app.app_context():
        assert list(storage().keys()) == [attachment.storage_key]
        thread_id = db.session.scalar(db.select(Thread.id).where(Thread.subject == "My results"))
    staff = app.test_client()
    sign_in(staff, "nurse1")
    assert "scan.pdf" in staff.get(f"/threads/{thread_id}").get_data(as_text=True)
    download = staff.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.data == samples.STANDARD["scan.pdf"]
    assert download.headers["Content-Type"] == "application/pdf"


LARGE = 4 * 1024 * 1024  # beyond what a download keeps in memory (attachments.SPOOLED_IN_MEMORY)


def test_a_large_download_is_streamed_not_held_whole(backend, login, client, app):
    text = (b"A line of the patient's blood pressure log, one reading a day.\n" * 70000)[:LARGE]
    login("veteran1")
    assert send_with_files(client, app, [("log.txt", text)]).status_code == 303
    attachment = sent_attachment(app)
    tracemalloc.start()
    try:
        response = client.get(f"/attachments/{attachment.id}", buffered=False)
        received = hashlib_of(response)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(LARGE)
    assert received == sha256(text)
    # Read whole, the file alone would take LARGE bytes (and a copy for the response).
    assert peak < LARGE // 2, f"the download held {peak} bytes in memory at its peak"


def hashlib_of(response) -> str:
    """The SHA-256 of a streamed response's body, read as a browser does, a piece at a time."""
    digest = hashlib.sha256()
    try:
        for piece in response.response:
            digest.update(piece)
    finally:
        response.close()
    return digest.hexdigest()


def test_a_large_file_damaged_in_its_last_byte_is_never_served(backend, login, client, app):
    text = b"x" * LARGE
    login("veteran1")
    send_with_files(client, app, [("log.txt", text)])
    attachment = sent_attachment(app)
    backend.spoil(app, attachment.storage_key, text[:-1] + b"y")
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 500
    assert len(response.data) < 100_000


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_bytes_that_no_longer_match_are_never_served(backend, damage, login, client, app,
                                                     caplog):
    login("veteran1")
    send_with_files(client, app, [("note.txt", b"original")])
    attachment = sent_attachment(app)
    if damage == "changed":
        backend.spoil(app, attachment.storage_key, b"tampered")
    else:
        backend.lose(app, attachment.storage_key)
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 500  # what the site answers for a damaged file
    assert b"tampered" not in response.data and b"original" not in response.data
    assert ("SHA-256 mismatch" if damage == "changed" else "stored file is missing") \
        in caplog.text


def test_a_crash_between_write_and_commit_leaves_an_object_the_sweep_removes(backend, app,
                                                                             monkeypatch):
    with app.app_context():
        patient = user("veteran1")
        commit = db.session.commit
        commits = []

        def crash():
            # the second commit would add the row of the stored file: the power goes first
            commits.append(1)
            if len(commits) == 2:
                raise RuntimeError("power cut")
            commit()

        with monkeypatch.context() as patched, pytest.raises(RuntimeError):
            patched.setattr(db.session, "commit", crash)
            drafts.keep(patient, None, drafts.DraftFields(
                body="x", files=[upload("note.txt", b"orphan")]))
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
        orphans = list(storage().keys())
        assert len(orphans) == 1 and storage().read(orphans[0]) == b"orphan"
        assert attachments.sweep(min_age_seconds=3600).removed == []  # too young to judge
        assert attachments.sweep(min_age_seconds=0).removed == orphans
        assert list(storage().keys()) == []


def test_sweep_keeps_named_objects_and_reports_missing_ones(backend, login, client, app):
    login("veteran1")
    send_with_files(client, app, [("a.txt", b"A"), ("b.txt", b"B")])
    with app.app_context():
        a, b = db.session.scalars(db.select(Attachment).order_by(Attachment.id)).all()
        orphan = storage().save(b"orphan")
    backend.lose(app, b.storage_key)
    result = app.test_cli_runner().invoke(args=["smweb", "sweep-attachments", "--min-age", "0"])
    assert "Removed 1 orphaned file(s)." in result.output
    assert f"Attachment rows whose file is missing: {b.id}" in result.output
    with app.app_context():
        assert set(storage().keys()) == {a.storage_key}
        assert orphan not in set(storage().keys())


# --- backup ------------------------------------------------------------------------------------

@pytest.fixture
def sqlite_site(backend, app, tmp_path):
    """A site of its own on a SQLite file (the backup's kind of database) on the same store
    as the suite's app, with one sent attachment."""
    settings = {name: app.config[name] for name in (
        "STORAGE", "S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
        "S3_REGION")}
    site = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.db'}",
                      ATTACHMENTS_DIR=str(tmp_path / "attachments"),
                      MAIL_OUTBOX=str(tmp_path / "outbox"), **settings)
    with site.app_context():
        flask_migrate.upgrade()
        demo.seed_demo()
        db.session.remove()
    client = site.test_client()
    sign_in(client, "veteran1")
    assert send_with_files(client, site, [("note.txt", b"kept safe")]).status_code == 303
    yield site
    with site.app_context():
        db.session.remove()
        db.engine.dispose()


def test_backup_copies_the_stored_files_and_checks_them(backend, sqlite_site, tmp_path):
    attachment = sent_attachment(sqlite_site)
    runner = sqlite_site.test_cli_runner()
    result = runner.invoke(args=["smweb", "backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    assert "1 copied, 1 checked against their SHA-256" in result.output
    kept = tmp_path / "backups" / "attachments" / attachment.storage_key
    assert kept.read_bytes() == b"kept safe"
    assert [p.name for p in kept.parent.iterdir()] == [attachment.storage_key]
    copy = next((tmp_path / "backups").glob("smweb-*.db"))
    with sqlite3.connect(copy) as check:
        assert check.execute("SELECT sha256 FROM attachments").fetchone()[0] == sha256(
            b"kept safe")
    check.close()

    # A second backup into the same folder checks what it has; a file damaged at the site
    # is reported when it is copied again.
    backend.spoil(sqlite_site, attachment.storage_key, b"tampered")
    again = runner.invoke(args=["smweb", "backup", str(tmp_path / "backups")])
    assert again.exit_code == 0 and "0 copied, 1 checked" in again.output
    kept.unlink()
    third = runner.invoke(args=["smweb", "backup", str(tmp_path / "backups")])
    assert third.exit_code == 1 and "does not match its checksum" in third.output

    backend.lose(sqlite_site, attachment.storage_key)
    kept.unlink()
    missing = runner.invoke(args=["smweb", "backup", str(tmp_path / "backups2")])
    assert missing.exit_code == 1 and "is missing from the site" in missing.output


# --- move-attachments ------------------------------------------------------------------------

def move(app, to):
    return app.test_cli_runner().invoke(args=["smweb", "move-attachments", "--to", to])


def test_move_attachments_to_s3_and_back(app, login, client, seaweed, monkeypatch):
    use_bucket(app, seaweed, monkeypatch)
    _empty_folder(app.config["ATTACHMENTS_DIR"])
    monkeypatch.setitem(app.extensions, "smweb.storage", open_storage(app.config, "local"))
    login("veteran1")
    files = [("a.txt", b"A"), ("b.txt", b"B"), ("c.pdf", samples.STANDARD["scan.pdf"])]
    assert send_with_files(client, app, files).status_code == 303
    with app.app_context():
        rows = db.session.scalars(db.select(Attachment).order_by(Attachment.id)).all()
        db.session.expunge_all()
    bucket = open_storage(app.config, "s3")

    result = move(app, "s3")
    assert result.exit_code == 0, result.output
    assert "Copied 3 attachment file(s)" in result.output and "0 were already there" in \
        result.output
    assert "set SMWEB_STORAGE=s3" in result.output
    assert set(bucket.keys()) == {r.storage_key for r in rows}
    again = move(app, "s3")
    assert "Copied 0 attachment file(s)" in again.output and "3 were already there" in \
        again.output

    # The site switches: the same rows, their bytes now from the bucket.
    monkeypatch.setitem(app.config, "STORAGE", "s3")
    monkeypatch.setitem(app.extensions, "smweb.storage", open_storage(app.config))
    _empty_folder(app.config["ATTACHMENTS_DIR"])
    for row, (_name, content) in zip(rows, files, strict=True):
        assert client.get(f"/attachments/{row.id}").data == content
    refused = move(app, "s3")
    assert refused.exit_code == 1 and "already keeps its attachments in s3" in refused.output

    # ... and back, with one copy in the bucket damaged meanwhile: reported, not copied.
    Backend("s3", seaweed).spoil(app, rows[0].storage_key, b"tampered")
    back = move(app, "local")
    assert back.exit_code == 1
    assert "Copied 2 attachment file(s)" in back.output
    assert f"{rows[0].storage_key} does not match its checksum on the site" in back.output
    folder = LocalStorage(app.config["ATTACHMENTS_DIR"])
    assert {folder.read(r.storage_key) for r in rows[1:]} == {c for _n, c in files[1:]}
    assert rows[0].storage_key not in set(folder.keys())
    _empty_folder(app.config["ATTACHMENTS_DIR"])


def test_move_to_an_unreachable_store_stops_and_says_so(app, login, client, monkeypatch):
    _empty_folder(app.config["ATTACHMENTS_DIR"])
    login("veteran1")
    assert send_with_files(client, app, [("a.txt", b"A")]).status_code == 303
    # nothing listens on port 9 (discard) of loopback
    for name, value in {"S3_ENDPOINT_URL": "http://127.0.0.1:9", "S3_BUCKET": "nowhere",
                        "S3_ACCESS_KEY_ID": "key", "S3_SECRET_ACCESS_KEY": "secret"}.items():
        monkeypatch.setitem(app.config, name, value)
    result = move(app, "s3")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
    assert "copied 0 so far; run it again once the store works" in result.output
    _empty_folder(app.config["ATTACHMENTS_DIR"])
