"""Attachments: limits and types checked by content, durable storage, downloads only for the
thread's people, drafts that keep their files, the scanner hook and the sweep."""

import os
import socket
import struct
import threading
from html import unescape

import pytest

from smweb.extensions import db
from smweb.models import Attachment, Draft, Thread
from smweb.services import attachments, drafts, scanning
from smweb.services.storage import storage
from tests import samples
from tests.support import (
    csrf_token,
    files_on_disk,
    htmx_fragment,
    send_with_files,
    sign_in,
    upload,
    user,
)

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _empty_store(app):
    for name in os.listdir(app.config["ATTACHMENTS_DIR"]):
        os.unlink(os.path.join(app.config["ATTACHMENTS_DIR"], name))


def sent_thread(app, subject="My results"):
    with app.app_context():
        return db.session.scalar(db.select(Thread).where(Thread.subject == subject)).id


def test_compose_page_offers_file_picker_with_limits(login, client):
    login("veteran1")
    html = client.get("/compose").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html and "multiple" in html
    assert "Up to 4 files, 6 MB each, 10 MB in all." in html


@pytest.mark.parametrize("name", sorted(samples.STANDARD))
def test_each_allowed_type_round_trips_byte_for_byte(login, client, app, name):
    login("veteran1")
    content = samples.STANDARD[name]
    response = send_with_files(client, app, [(name, content)])
    assert response.status_code == 303, response.get_data(as_text=True)
    tid = sent_thread(app)
    staff = app.test_client()
    sign_in(staff, "nurse1")
    page = staff.get(f"/threads/{tid}").get_data(as_text=True)
    assert name in page
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
        assert attachment.size == len(content) and attachment.message_id is not None
        assert attachment.storage_key != name and attachment.storage_key in files_on_disk(app)
    download = staff.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert name in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.mimetype == attachments.TYPES[name.rsplit(".", 1)[1]][0]


def test_non_ascii_file_name_downloads_with_rfc6266_filename_star(login, client, app):
    login("veteran1")
    send_with_files(client, app, [("résumé 检查.pdf", samples.pdf())])
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
        assert attachment.filename == "résumé 检查.pdf"
    disposition = client.get(f"/attachments/{attachment.id}").headers["Content-Disposition"]
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%E6%A3%80%E6%9F%A5.pdf" in disposition


NOT_REAL = "the file's content is not a real"
CANT = "this type of file can't be sent."
FIVE_MB = b"\0" * int(5.2 * MB)
REFUSALS = [
    ([("report.pdf", b"MZ\x90\x00\x03" + b"\0" * 200)], f"report.pdf: {NOT_REAL} .pdf file."),
    ([("report.pdf", b"<html><script>alert(1)</script></html>")],
     f"report.pdf: {NOT_REAL} .pdf file."),
    ([("note.txt", b"<!DOCTYPE html><html><body>hi</body></html>")],
     f"note.txt: {NOT_REAL} .txt file."),
    ([("photo.png", samples.STANDARD["photo.jpg"])], f"photo.png: {NOT_REAL} .png file."),
    ([("empty.txt", b"")], "empty.txt: the file is empty."),
    ([("tool.exe", b"MZ\x90\x00")], f"tool.exe: {CANT}"),
    ([("page.html", b"<p>hi</p>")], f"page.html: {CANT}"),
    ([("noextension", b"hello")], f"noextension: {CANT}"),
    ([("xray.bmp", samples.LARGE_ONLY["xray.bmp"])], f"xray.bmp: {CANT}"),
    ([("big.pdf", samples.pdf() + b"\0" * (6 * MB))], "big.pdf: the file is larger than 6 MB."),
    ([("a.txt", b"same words"), ("b.txt", b"same words")],
     "b.txt: it is the same file as a.txt, which is already attached."),
    ([(f"{n}.txt", f"file {n}".encode()) for n in range(5)],
     "4.txt: at most 4 files can be attached to one message."),
    ([("a.pdf", samples.pdf("a") + FIVE_MB), ("b.pdf", samples.pdf("b") + FIVE_MB)],
     "b.pdf: all attachments together may be at most 10 MB."),
    ([("...", b"hello")], "...: the file needs a name with letters or digits."),
    # web pages and scripts dressed as text, after a byte-order mark or further in
    ([("note.txt", "\ufeff<!DOCTYPE html><html><body>hi</body></html>".encode())],
     f"note.txt: {NOT_REAL} .txt file."),
    ([("note.txt", b"Dear doctor,\n<SCRIPT>alert(1)</SCRIPT>\n")],
     f"note.txt: {NOT_REAL} .txt file."),
    # Office files: macros, and one that expands far past its size when opened
    ([("letter.docx", samples.ooxml_with(("word/vbaProject.bin", b"macro code")))],
     "letter.docx: the file contains macros, which can't be sent."),
    ([("sheet.xlsx", samples.ooxml_with(("xl/sheet.xml", b"\0" * (5 * MB)), part="xl"))],
     "sheet.xlsx: the file expands far past its size when it is opened"),
]


@pytest.mark.parametrize(("files", "message"), REFUSALS)
def test_each_refusal_names_the_file_and_keeps_the_text(login, client, app, files, message):
    login("veteran1")
    response = send_with_files(client, app, files, body="Words I typed stay.")
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    assert message in page
    assert "Words I typed stay." in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Thread.id))) == 4  # nothing sent
        stored = db.session.scalars(db.select(Attachment)).all()
        refused_names = {message.split(":", 1)[0]}
        assert not any(a.filename in refused_names for a in stored)
        # the files that passed wait on the draft; nothing else is on disk
        assert sorted(a.storage_key for a in stored) == files_on_disk(app)


def test_refusal_through_htmx_swaps_the_form_and_points_the_url_at_the_draft(login, client, app):
    login("veteran1")
    response = send_with_files(client, app, [("good.txt", b"fine"), ("bad.pdf", b"<html>")],
                               action="attach", headers=htmx_fragment("compose-form"))
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert html.lstrip().startswith("<form id=\"compose-form\"")
    assert "bad.pdf: the file's content is not a real .pdf file." in html
    assert "good.txt" in html and 'value="remove:' in html
    assert response.headers["HX-Replace-Url"].startswith("/drafts/")


def test_oversized_request_is_a_clear_413(login, client, app):
    login("veteran1")
    response = send_with_files(client, app, [("huge.pdf", samples.pdf() + b"\0" * (12 * MB))])
    assert response.status_code == 413
    assert "at most 10 MB in all" in response.get_data(as_text=True)
    assert files_on_disk(app) == []


def test_unsafe_names_are_cleaned_and_never_used_on_disk(login, client, app):
    login("veteran1")
    long_name = "x" * 300 + ".txt"
    response = send_with_files(client, app, [
        ("../../../etc/passwd.txt", b"one"), ("evil\t\x07\x1b\u202ename.txt", b"two"),
        (long_name, b"three")])
    assert response.status_code == 303
    with app.app_context():
        names = sorted(db.session.scalars(db.select(Attachment.filename)))
        keys = set(db.session.scalars(db.select(Attachment.storage_key)))
    assert names[0] == "evilname.txt" and names[1] == "passwd.txt"
    assert len(names[2]) == 200 and names[2].endswith(".txt")
    assert set(files_on_disk(app)) == keys
    assert all(key.isalnum() for key in keys)


@pytest.mark.parametrize(("raw", "clean"), [
    ("C:\\Users\\vet\\scan.pdf", "scan.pdf"),
    ("..\\..\\boot.ini.txt", "boot.ini.txt"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("  spaced name .pdf ", "spaced name .pdf"),
    ("e\u0301te\u0301.txt", "\u00e9t\u00e9.txt"),  # one form of each letter
    ("\x00\x1f.", ""),
])
def test_clean_filename(raw, clean):
    assert attachments.clean_filename(raw) == clean


def test_large_mode_allows_more_files_and_types(login, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LARGE_ATTACHMENTS", True)
    login("veteran1")
    html = client.get("/compose").get_data(as_text=True)
    assert "Up to 10 files, 25 MB each, 25 MB in all." in html
    files = sorted(samples.LARGE_ONLY.items()) + [("more.txt", b"six"), ("more2.txt", b"7")]
    response = send_with_files(client, app, files)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 7


def test_drafts_keep_their_attachments_until_sent(login, client, app):
    login("veteran1")
    saved = send_with_files(client, app, [("scan.pdf", samples.pdf())], action="save")
    assert saved.status_code == 303
    draft_url = saved.headers["Location"]
    page = client.get(draft_url).get_data(as_text=True)
    assert "scan.pdf" in page and "Remove" in page
    sent = send_with_files(client, app, [], path=draft_url)
    assert sent.status_code == 303
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
        assert attachment.draft_id is None and attachment.message is not None
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0


def test_missing_subject_does_not_lose_the_chosen_files(login, client, app):
    login("veteran1")
    response = send_with_files(client, app, [("scan.pdf", samples.pdf())], subject="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter a subject." in html and "scan.pdf" in html
    assert 'action="/drafts/' in html  # the form now posts to the draft that holds the file


def test_remove_a_file_before_sending(login, client, app):
    login("veteran1")
    draft_url = send_with_files(client, app, [("a.txt", b"A"), ("b.txt", b"B")],
                                action="attach").headers["Location"]
    with app.app_context():
        a = db.session.scalar(db.select(Attachment).where(Attachment.filename == "a.txt"))
    response = send_with_files(client, app, [], action=f"remove:{a.id}", path=draft_url,
                               headers=htmx_fragment("compose-form"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Removed a.txt." in html  # said in a status message, for screen readers too
    assert ">a.txt</a>" not in html and ">b.txt</a>" in html
    assert a.storage_key not in files_on_disk(app) and len(files_on_disk(app)) == 1


def test_deleting_a_draft_deletes_its_files(login, client, app):
    login("veteran1")
    draft_url = send_with_files(client, app, [("a.txt", b"A")], action="save").headers[
        "Location"]
    assert len(files_on_disk(app)) == 1
    client.post(f"{draft_url}/delete", data={"csrf_token": csrf_token(client, draft_url)})
    assert files_on_disk(app) == []


def test_staff_reply_with_attachment_reaches_the_patient(login, client, app):
    with app.app_context():
        tid = db.session.scalar(db.select(Thread.id).where(Thread.subject == "Change of address"))
    login("nurse1")
    response = send_with_files(client, app, [("form.pdf", samples.pdf("address form"))],
                               path=f"/threads/{tid}/reply", body="Fill in this form.")
    assert response.status_code == 303
    patient = app.test_client()
    sign_in(patient, "veteran2")
    page = patient.get(f"/threads/{tid}").get_data(as_text=True)
    assert "form.pdf" in page and "(PDF, " in page
    with app.app_context():
        attachment_id = db.session.scalar(db.select(Attachment.id))
    assert patient.get(f"/attachments/{attachment_id}").data == samples.pdf("address form")
    other = app.test_client()
    sign_in(other, "veteran1")
    assert other.get(f"/attachments/{attachment_id}").status_code == 404


def test_tampered_file_is_never_served(login, client, app, caplog):
    login("veteran1")
    send_with_files(client, app, [("note.txt", b"original")])
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
    path = os.path.join(app.config["ATTACHMENTS_DIR"], attachment.storage_key)
    with open(path, "wb") as f:
        f.write(b"tampered")
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 500
    assert b"tampered" not in response.data
    assert "SHA-256 mismatch" in caplog.text


class FlaggingScanner:
    def scan(self, data):
        return "Eicar-Test-Signature" if samples.EICAR in data else None


def test_scanner_refusal_tells_the_patient_to_remove_the_file(login, client, app, monkeypatch):
    monkeypatch.setitem(app.extensions, "smweb.scanner", FlaggingScanner())
    login("veteran1")
    response = send_with_files(client, app, [("eicar.txt", samples.EICAR),
                                              ("fine.txt", b"fine")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "eicar.txt: our virus scanner found a problem in this file. Remove it to send" in html
    with app.app_context():
        assert db.session.scalars(db.select(Attachment.filename)).all() == ["fine.txt"]


def test_crash_between_file_and_row_leaves_only_an_orphan_the_sweep_removes(app, monkeypatch):
    with app.app_context():
        patient = user("veteran1")

        commit = db.session.commit
        commits = []

        def crash():
            # the first commit keeps the text (and marks the upload); the second, after the
            # file is stored, would add its row: the power goes just before it
            commits.append(1)
            if len(commits) == 2:
                raise RuntimeError("power cut")
            commit()

        monkeypatch.setattr(db.session, "commit", crash)
        with pytest.raises(RuntimeError):
            drafts.keep(patient, None, drafts.DraftFields(
                body="x", files=[upload("note.txt", b"orphan")]))
        monkeypatch.undo()
        db.session.rollback()
        assert len(commits) == 2
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
        orphans = files_on_disk(app)
        assert len(orphans) == 1
        assert attachments.sweep(min_age_seconds=3600).removed == []  # too young to judge
        report = attachments.sweep(min_age_seconds=0)
        assert report.removed == orphans and files_on_disk(app) == []


def test_sweep_command_keeps_named_files_and_reports_missing_ones(login, client, app):
    login("veteran1")
    send_with_files(client, app, [("a.txt", b"A"), ("b.txt", b"B")])
    with app.app_context():
        a, b = db.session.scalars(db.select(Attachment).order_by(Attachment.id)).all()
        storage().save(b"orphan")
    os.unlink(os.path.join(app.config["ATTACHMENTS_DIR"], b.storage_key))
    result = app.test_cli_runner().invoke(args=["smweb", "sweep-attachments", "--min-age", "0"])
    assert "Removed 1 orphaned file(s)." in result.output
    assert f"Attachment rows whose file is missing: {b.id}" in result.output
    assert result.exit_code == 1
    assert files_on_disk(app) == [a.storage_key]


# --- the ClamAV backend, over a real socket, against a stand-in clamd -----------------------

class FakeClamd(threading.Thread):
    """Answers clamd's INSTREAM protocol on a loopback port, flagging EICAR."""

    def __init__(self):
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"

    def run(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                command = b""
                while not command.endswith(b"\0"):
                    command += conn.recv(1)
                data = b""
                while True:
                    size = struct.unpack("!L", self._exact(conn, 4))[0]
                    if size == 0:
                        break
                    data += self._exact(conn, size)
                verdict = b"stream: Eicar-Signature FOUND" if samples.EICAR in data else \
                    b"stream: OK"
                conn.sendall(verdict + b"\0")

    @staticmethod
    def _exact(conn, n):
        buf = b""
        while len(buf) < n:
            buf += conn.recv(n - len(buf))
        return buf


def test_clamd_backend_speaks_instream():
    clamd = FakeClamd()
    clamd.start()
    try:
        scanner = scanning.ClamdScanner(clamd.address)
        assert scanner.scan(b"hello" * 50_000) is None
        assert scanner.scan(b"prefix " + samples.EICAR) == "Eicar-Signature"
    finally:
        clamd.server.close()


def test_unreachable_clamd_refuses_rather_than_accepting_unscanned():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    scanner = scanning.ClamdScanner(f"127.0.0.1:{port}", timeout=2)
    with pytest.raises(scanning.ScannerUnavailable):
        scanner.scan(b"anything")


def test_a_pdf_with_a_script_is_sent_with_a_caution_for_staff(login, client, app):
    scripted = samples.pdf("results").replace(
        b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>")
    login("veteran1")
    response = send_with_files(client, app, [("results.pdf", scripted)], body="My results")
    assert response.status_code == 303
    thread_url = response.location
    caution = "This PDF contains a script or an action that starts a program."
    assert "results.pdf" in client.get(thread_url).text
    assert caution not in client.get(thread_url).text  # the patient is not alarmed
    nurse = app.test_client()
    sign_in(nurse, "nurse1")
    assert caution in nurse.get(thread_url).text
