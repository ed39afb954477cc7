"""What a file's content is, whatever its name says: a real file of its type, an Office file
that does not expand past its size or hold macros, a PDF that may run something when opened."""

import io
import zipfile

import filetype
from flask_babel import gettext

MB = 1024 * 1024
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office: .doc .xls .ppt
VIDEO_KINDS = {"mp4", "m4v", "mov"}


def looks_like(kind: str, data: bytes) -> bool:
    head = data[:8192]
    if kind == "ole2":
        return head.startswith(OLE2_MAGIC)
    if kind == "text":
        if filetype.guess(head) is not None or b"\0" in data:
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                return False
        # Served as a download with nosniff anyway; still, a "text" file that is a web page
        # or a script is not a patient's note — not after a byte-order mark either.
        start = text.lstrip("\ufeff \t\r\n")[:64].lower()
        if start.startswith(("<!doctype", "<html", "<script", "<svg", "<?xml", "<?php",
                             "<body", "<iframe")):
            return False
        return "<script" not in text[:65536].lower()
    if kind == "video":
        guessed = filetype.guess(head)
        return guessed is not None and guessed.extension in VIDEO_KINDS
    if kind == "png":
        guessed = filetype.guess(head)
        return guessed is not None and guessed.extension in {"png", "apng"}
    matcher = filetype.get_type(ext=kind)
    return matcher is not None and matcher.match(bytearray(head))


# Office files that are zip archives: what they may expand to when opened.
ZIPPED = {"docx", "xlsx", "pptx", "odt"}
ZIP_MAX_TOTAL = 100 * MB  # every member, uncompressed
ZIP_MAX_RATIO = 100  # one member's uncompressed size to its compressed size
ZIP_MAX_MEMBERS = 5000


def zip_problem(data: bytes, ext: str) -> str | None:
    """Why this Office file can't be sent: it expands far past its size when opened (a
    "zip bomb"), or it holds macros; None when it is fine. Read from the archive's directory:
    nothing is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return gettext("the file's content is not a real .%(ext)s file.", ext=ext)
    if len(members) > ZIP_MAX_MEMBERS or sum(m.file_size for m in members) > ZIP_MAX_TOTAL:
        return gettext("the file expands to more than %(mb)s MB when it is opened, so it "
                       "can't be sent.", mb=ZIP_MAX_TOTAL // MB)
    if any(m.file_size > MB and m.file_size > ZIP_MAX_RATIO * max(m.compress_size, 1)
           for m in members):
        return gettext("the file expands far past its size when it is opened, so it can't "
                       "be sent.")
    if any(m.filename.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for m in members):
        return gettext("the file contains macros, which can't be sent. Save it without macros "
                       "(as .%(ext)s) and attach it again.", ext=ext)
    return None


# Raw PDF names of actions that run something when the file is opened. (Inside compressed
# object streams they can't be seen without parsing the file: a flag, not a guarantee.)
PDF_ACTIONS = (b"/JavaScript", b"/JS", b"/Launch")


def pdf_warning(data: bytes, content_type: str) -> str | None:
    """For staff: a PDF that carries a script or a launch action."""
    if content_type == "application/pdf" and any(a in data for a in PDF_ACTIONS):
        return ("This PDF contains a script or an action that starts a program. Open it only "
                "in a viewer that blocks them (or print it to a new PDF first).")
    return None
