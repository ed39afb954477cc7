"""Attachment rules: how many, how large, which types (by content, not just by name), no empty
files, no second copy; stored durably before the row that names them is committed."""

import hashlib
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..models import Attachment, Draft, Message, User
from . import access, file_content
from .refusals import NotFound
from .scanning import ScannerUnavailable, scanner
from .storage import Storage, open_storage, sha256, storage

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_file_bytes: int
    max_total_bytes: int
    extensions: frozenset[str]

    @property
    def request_bytes(self) -> int:
        """The largest request body worth reading: every file at its limit, plus the form."""
        return self.max_total_bytes + 1 * MB


# extension -> (content type we store and serve, how the content must look)
TYPES: dict[str, tuple[str, str]] = {
    "doc": ("application/msword", "ole2"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "gif": ("image/gif", "gif"),
    "jpg": ("image/jpeg", "jpg"),
    "jpeg": ("image/jpeg", "jpg"),
    "pdf": ("application/pdf", "pdf"),
    "png": ("image/png", "png"),
    "rtf": ("application/rtf", "rtf"),
    "txt": ("text/plain", "text"),
    "xls": ("application/vnd.ms-excel", "ole2"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    # large mode only
    "bmp": ("image/bmp", "bmp"),
    "tif": ("image/tiff", "tif"),
    "tiff": ("image/tiff", "tif"),
    "ppt": ("application/vnd.ms-powerpoint", "ole2"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "pptx"),
    "odt": ("application/vnd.oasis.opendocument.text", "odt"),
    "mp4": ("video/mp4", "video"),
    "m4v": ("video/x-m4v", "video"),
    "mov": ("video/quicktime", "video"),
}
STANDARD = frozenset({"doc", "docx", "gif", "jpg", "jpeg", "pdf", "png", "rtf", "txt", "xls",
                      "xlsx"})
LARGE = STANDARD | {"bmp", "tif", "tiff", "ppt", "pptx", "odt", "mp4", "m4v", "mov"}
MAX_NAME = 200


# Standard, or large mode when SMWEB_LARGE_ATTACHMENTS is on.
STANDARD_LIMITS = Limits(4, 6 * MB, 10 * MB, STANDARD)
LARGE_LIMITS = Limits(10, 25 * MB, 25 * MB, LARGE)


def limits(large: bool | None = None) -> Limits:
    """The site's limits (or those of large mode, or not, when `large` is given)."""
    if large is None:
        large = current_app.config["LARGE_ATTACHMENTS"]
    return LARGE_LIMITS if large else STANDARD_LIMITS


@dataclass(frozen=True)
class Refusal:
    filename: str
    reason: str

    def __str__(self) -> str:
        return f"{self.filename}: {self.reason}" if self.filename else self.reason


def clean_filename(raw: str) -> str:
    """A display name safe to show and to send back: no folders, no control characters,
    not too long. The file is never stored under it."""
    name = unicodedata.normalize("NFC", raw or "")
    name = PureWindowsPath(PurePosixPath(name).name).name  # drop any folder, / or \\
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 10:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME]
    return name


def _extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def _check(name: str, data: bytes, digest: str, allowed: frozenset[str], limit: Limits,
           seen: dict[str, str]) -> tuple[str | None, str]:
    """(reason refused or None, content type)."""
    ext = _extension(name)
    if ext not in allowed:
        listed = ", ".join(sorted(allowed))
        return gettext("this type of file can't be sent. Allowed types: %(types)s.",
                       types=listed), ""
    if not data:
        return gettext("the file is empty."), ""
    if len(data) > limit.max_file_bytes:
        return gettext("the file is larger than %(mb)s MB.", mb=limit.max_file_bytes // MB), ""
    content_type, kind = TYPES[ext]
    if not file_content.looks_like(kind, data):
        return gettext("the file's content is not a real .%(ext)s file.", ext=ext), ""
    if kind in file_content.ZIPPED and (problem := file_content.zip_problem(data, ext)):
        return problem, ""
    if digest in seen:
        return gettext("it is the same file as %(name)s, which is already attached.",
                       name=seen[digest]), ""
    return None, content_type


@dataclass(frozen=True)
class StoredFile:
    """An upload that passed every check and whose bytes are safely stored; its row is
    made by attach()."""

    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    warning: str | None = None  # for staff (file_content.pdf_warning)


def store_files(user: User, existing: list[Attachment],
                files: list[FileStorage]) -> tuple[list[StoredFile], list[Refusal], list[str]]:
    """Check each upload against the limits (counting the files already on the draft, in
    `existing`), scan it, and write the good ones to storage. Touches no database row, so
    no write lock is held during the slow part (scanning, fsync).

    Also returns the names of uploads the draft holds already, the same name and the same
    bytes: a form sent again after its answer was lost (Back, then Send), whose first press
    kept the file. It is attached once, as the person meant, and not refused."""
    limit = limits()
    refusals: list[Refusal] = []
    stored: list[StoredFile] = []
    already: list[str] = []
    seen = {a.sha256: a.filename for a in existing}
    held = {(a.filename, a.sha256) for a in existing}
    count = len(existing)
    total = sum(a.size for a in existing)
    for upload in files:
        name = clean_filename(upload.filename or "")
        if not name:
            refusals.append(Refusal(upload.filename or gettext("(no name)"),
                                    gettext("the file needs a name with letters or digits.")))
            continue
        data = upload.read(limit.max_file_bytes + 1)
        digest = sha256(data)
        if (name, digest) in held:
            already.append(name)
            continue
        reason, content_type = _check(name, data, digest, limit.extensions, limit, seen)
        if reason is None and count + 1 > limit.max_files:
            reason = gettext("at most %(num)s files can be attached to one message.",
                             num=limit.max_files)
        if reason is None and total + len(data) > limit.max_total_bytes:
            reason = gettext("all attachments together may be at most %(mb)s MB.",
                             mb=limit.max_total_bytes // MB)
        if reason is None:
            try:
                found = scanner().scan(data)
            except ScannerUnavailable:
                current_app.logger.error("attachment scanner unavailable; upload refused")
                reason = gettext("the file could not be checked for viruses just now. Try "
                                 "again later.")
            else:
                if found:
                    current_app.logger.warning("scanner refused an upload by user %s", user.id)
                    reason = gettext("our virus scanner found a problem in this file. Remove "
                                     "it to send your message.")
        if reason:
            refusals.append(Refusal(name, reason))
            continue
        stored.append(StoredFile(name, content_type, len(data), digest, storage().save(data),
                                 file_content.pdf_warning(data, content_type)))
        seen[digest] = name
        count += 1
        total += len(data)
    return stored, refusals, already


def attach(user: User, draft: Draft, stored: list[StoredFile]) -> None:
    """Add rows for stored files to the draft; the caller commits."""
    for f in stored:
        db.session.add(Attachment(
            draft=draft, uploader_id=user.id, filename=f.filename,
            content_type=f.content_type, size=f.size, sha256=f.sha256,
            storage_key=f.storage_key, warning=f.warning,
        ))


def discard_stored(stored: list[StoredFile]) -> None:
    """Stored files that will have no row after all (their draft went away meanwhile)."""
    for f in stored:
        storage().delete(f.storage_key)


def add_files(user: User, draft: Draft, files: list[FileStorage]) -> list[Refusal]:
    """Check, store and attach uploads to a draft in one go; the caller commits."""
    stored, refusals, _already = store_files(user, list(draft.attachments), files)
    attach(user, draft, stored)
    return refusals


def remove_from_draft(draft: Draft, attachment_id: int) -> str | None:
    """Take a file off a draft before sending; its bytes are deleted once the row is gone.
    Returns its name, or None when the draft holds no such file (removed in another tab)."""
    attachment = next((a for a in draft.attachments if a.id == attachment_id), None)
    if attachment is None:
        return None
    key = attachment.storage_key
    draft.attachments.remove(attachment)
    db.session.delete(attachment)
    _after_commit_delete([key])
    return attachment.filename


def discard_draft_files(draft: Draft) -> None:
    """A draft is thrown away: its files go too (a sent message's never do)."""
    keys = [a.storage_key for a in draft.attachments]
    for attachment in list(draft.attachments):
        db.session.delete(attachment)
    _after_commit_delete(keys)


def move_to_message(draft: Draft, message: Message) -> None:
    """On send, the draft's files become the message's."""
    for attachment in list(draft.attachments):
        attachment.draft = None
        attachment.message = message


def _after_commit_delete(keys: list[str]) -> None:
    # Delete bytes only once the rows are gone for good; if the commit fails they stay, and
    # if we crash first the sweep removes them.
    session = db.session()
    pending = session.info.setdefault("smweb.delete_after_commit", [])
    pending.extend(keys)


def delete_pending_files(session) -> None:
    for key in session.info.pop("smweb.delete_after_commit", []):
        storage().delete(key)


def forget_pending_files(session) -> None:
    session.info.pop("smweb.delete_after_commit", None)


def init_app(app) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", delete_pending_files):
        event.listen(Session, "after_commit", delete_pending_files)
        event.listen(Session, "after_rollback", forget_pending_files)


def get_attachment_for(user: User, attachment_id: int) -> Attachment:
    """The attachment, if the user is on its thread or it is on their own draft; else 404."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound()
    if attachment.message is not None:
        if not access.can_see_thread(user, attachment.message.thread):
            raise NotFound()
    elif attachment.draft is None or attachment.draft.author_id != user.id:
        raise NotFound()
    return attachment


class IntegrityFailure(Exception):
    """The stored bytes no longer match their SHA-256: never served."""


SPOOLED_IN_MEMORY = 1024 * 1024  # a larger download waits in an unnamed temporary file


def open_verified(attachment: Attachment) -> BinaryIO:
    """The attachment's bytes, read a piece at a time from the store into a temporary file
    (in memory up to SPOOLED_IN_MEMORY, beyond on disk, unnamed, gone once closed) while
    their SHA-256 is worked out: only bytes that match the one recorded when they were
    stored are given back, at the start of the file. IntegrityFailure otherwise. The
    caller closes it (send_file does, once it has sent it)."""
    copy = tempfile.SpooledTemporaryFile(max_size=SPOOLED_IN_MEMORY)  # noqa: SIM115
    try:
        _copy_checked(attachment, copy)
    except BaseException:
        copy.close()
        raise
    copy.seek(0)
    return copy


def _copy_checked(attachment: Attachment, copy: BinaryIO) -> None:
    digest = hashlib.sha256()
    try:
        for piece in storage().chunks(attachment.storage_key):
            digest.update(piece)
            copy.write(piece)
    except FileNotFoundError as error:
        current_app.logger.error("attachment %s: stored file is missing", attachment.id)
        raise IntegrityFailure from error
    except OSError as error:  # the disk, or the object store, could not give it
        current_app.logger.error("attachment %s: stored file can't be read: %s",
                                 attachment.id, error)
        raise IntegrityFailure from error
    if digest.hexdigest() != attachment.sha256:
        current_app.logger.error("attachment %s: SHA-256 mismatch, not served", attachment.id)
        raise IntegrityFailure


@dataclass
class SweepReport:
    removed: list[str]
    missing: list[int]

    def __str__(self) -> str:
        line = f"Removed {len(self.removed)} orphaned file(s)."
        if self.missing:
            line += f" {len(self.missing)} attachment row(s) have no file."
        return line


def sweep(min_age_seconds: int = 3600) -> SweepReport:
    """Remove stored files that no row names (left by a crash); report rows whose file is
    missing. A file that a row names is never deleted, and a file younger than
    `min_age_seconds` is left alone: its row may be about to commit."""
    store = storage()
    present = set(store.keys())  # listed before the rows are read: a new pair is never split
    named = set(db.session.scalars(db.select(Attachment.storage_key)))
    cutoff = time.time() - min_age_seconds
    removed = []
    for key in sorted(present - named):
        try:
            if store.modified(key) > cutoff:
                continue
        except FileNotFoundError:  # gone meanwhile
            continue
        store.delete(key)
        removed.append(key)
    missing = list(db.session.scalars(
        db.select(Attachment.id).where(Attachment.storage_key.not_in(present))
        .order_by(Attachment.id)
    )) if named - present else []
    return SweepReport(removed=removed, missing=missing)


class MoveError(Exception):
    """A move between stores that can't be made; the text says why."""


@dataclass
class MoveReport:
    target: str
    copied: int = 0
    already_there: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"Copied {self.copied} attachment file(s) to {self.target}; "
                f"{self.already_there} were already there; each checked against its SHA-256.")


def copy_to_store(kind: str) -> MoveReport:
    """Copy every file an attachment row names from the site's store into the other one the
    settings describe (`kind`: "local" or "s3"), under the same key, each copy checked against
    the row's SHA-256. A copy already there and whole is left as it is, so running it again
    copies only what is new; nothing is deleted from either store."""
    if kind == current_app.config["STORAGE"]:
        raise MoveError(f"the site already keeps its attachments in {kind} "
                        "(SMWEB_STORAGE): name the other store")
    source = storage()
    try:
        target = open_storage(current_app.config, kind)
    except ValueError as error:
        raise MoveError(str(error)) from None
    rows = db.session.execute(db.select(Attachment.storage_key, Attachment.sha256)
                              .order_by(Attachment.id)).all()
    db.session.rollback()  # read only: no transaction stays open through the copies
    report = MoveReport(target=target.where)
    for key, digest in rows:
        try:
            _copy_one(key, digest, source, target, report)
        except OSError as error:  # the target can't be written: stop; a rerun goes on
            raise MoveError(f"{error} (copied {report.copied} so far; run it again once "
                            "the store works)") from error
    return report


def _copy_one(key: str, digest: str, source: Storage, target: Storage,
              report: MoveReport) -> None:
    try:
        if sha256(target.read(key)) == digest:
            report.already_there += 1
            return
    except FileNotFoundError:
        pass
    try:
        data = source.read(key)
    except OSError as error:
        report.problems.append(f"attachment file {key} can't be read from the site: {error}")
        return
    if sha256(data) != digest:
        report.problems.append(f"attachment file {key} does not match its checksum on the "
                               "site: not copied")
        return
    target.put(key, data)
    if sha256(target.read(key)) != digest:
        report.problems.append(f"the copy of attachment file {key} does not match its checksum")
        return
    report.copied += 1
