"""Backups of a SQLite site while it runs: the database through SQLite's online backup API,
then the attachment files (from the folder or the object store, into the backup's folder),
then a check of the copy.

The order matters: an attachment's file is stored and confirmed before the row that names it
commits, so every row in the database copy already has its file when the files are copied
after it.
"""

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import utcnow
from ..extensions import db
from .storage import storage


class BackupError(Exception):
    """A backup that can't be made here; the text says what to do instead."""


@dataclass
class BackupReport:
    database: Path
    attachments: Path
    integrity: str  # "ok", or what PRAGMA integrity_check found
    files_copied: int = 0
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and not self.problems


def _database_path() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError("This command backs up a SQLite database file. For PostgreSQL use "
                          "pg_dump (see README, Production notes).")
    return Path(url.database)


def backup(destination: Path) -> BackupReport:
    """Copy the database and the attachments into `destination` (a folder), and check them."""
    source = _database_path()
    destination.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    target = destination / f"smweb-{stamp}.db"
    partial = target.with_suffix(".db.partial")
    partial.unlink(missing_ok=True)
    # The online backup API copies a consistent snapshot page by page while the app goes on
    # writing; readers and writers are not stopped.
    with sqlite3.connect(source) as live, sqlite3.connect(partial) as copy:
        live.backup(copy)
    live.close()
    copy.close()
    partial.replace(target)

    files = destination / "attachments"
    report = BackupReport(database=target, attachments=files, integrity=_integrity(target))
    files.mkdir(exist_ok=True)
    store = storage()  # the folder or the bucket: either way the files land in `files`
    for row_key, expected in _attachment_rows(target):
        kept = files / row_key
        if not kept.exists():
            try:
                data = store.read(row_key)
            except FileNotFoundError:
                report.problems.append(f"attachment file {row_key} is missing from the site")
                continue
            except OSError as error:
                report.problems.append(f"attachment file {row_key} can't be read: {error}")
                continue
            _write_whole(kept, data)
            report.files_copied += 1
        if hashlib.sha256(kept.read_bytes()).hexdigest() != expected:
            report.problems.append(f"attachment file {row_key} does not match its checksum")
        report.files_checked += 1
    return report


def _write_whole(path: Path, data: bytes) -> None:
    """A file that is there is whole: an interrupted backup leaves only a .partial."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as check:
        rows = check.execute("PRAGMA integrity_check").fetchall()
        broken_links = check.execute("PRAGMA foreign_key_check").fetchall()
    check.close()
    found = "; ".join(str(r[0]) for r in rows)
    if broken_links:
        found = (found if found != "ok" else "") + f" {len(broken_links)} broken references"
    return found.strip()


def _attachment_rows(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as copy:
        rows = copy.execute("SELECT storage_key, sha256 FROM attachments").fetchall()
    copy.close()
    return rows
