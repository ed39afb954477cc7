"""The patient's own folders, and moving threads between Inbox, folders and Deleted.
Nothing the patient sent or received is ever destroyed here."""

import re
from typing import NamedTuple

from flask_babel import gettext, ngettext
from sqlalchemy import bindparam, case, func, select

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..i18n import in_every_language
from ..models import Folder, Thread, User
from ..parsing import as_id
from .refusals import NotAllowed, NotFound

NAME_MAX = 50
NAME_RE = re.compile(r"^[A-Za-z0-9 ]+$")
INBOX, DELETED = "inbox", "deleted"


class FolderError(NotAllowed):
    """A folder rule was broken; the text says which."""


def _clean(owner: User, name: str, folder: Folder | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FolderError(gettext("Enter a name for the folder."))
    if len(name) > NAME_MAX:
        raise FolderError(gettext("A folder name can be at most %(num)d characters.", num=NAME_MAX))
    if not NAME_RE.match(name):
        raise FolderError(gettext("A folder name can have only letters, digits and spaces."))
    if name.casefold() in in_every_language("Inbox", "Sent", "Drafts", "Deleted"):
        raise FolderError(gettext("%(name)s is already one of your mailbox's folders.", name=name))
    clash = db.session.scalar(select(Folder.id).where(
        Folder.owner_id == owner.id, Folder.name_key == name.lower()))
    if clash is not None and (folder is None or clash != folder.id):
        raise FolderError(gettext("You already have a folder named %(name)s.", name=name))
    return name


def create(owner: User, name: str) -> Folder:
    """Make a new folder for the patient."""
    name = _clean(owner, name)
    folder = Folder(owner_id=owner.id, name=name, name_key=name.lower())
    db.session.add(folder)
    db.session.commit()
    return folder


def rename(owner: User, folder: Folder, name: str) -> None:
    name = _clean(owner, name, folder)
    folder.name, folder.name_key = name, name.lower()
    db.session.commit()


def remove(folder: Folder) -> None:
    """Remove an empty folder; one that holds threads stays, and the patient is told why."""
    held = db.session.scalar(select(func.count(Thread.id)).where(Thread.folder_id == folder.id))
    if held:
        raise FolderError(ngettext(
            "%(name)s still holds %(num)d conversation(s). Move them to another folder first; "
            "then you can remove it.",
            "%(name)s still holds %(num)d conversation(s). Move them to another folder first; "
            "then you can remove it.", held, name=folder.name))
    db.session.delete(folder)
    db.session.commit()


def get_folder_for(user: User, folder_id: int) -> Folder:
    """The user's own folder; 404 for anyone else's."""
    folder = db.session.get(Folder, folder_id)
    if folder is None or folder.owner_id != user.id:
        raise NotFound()
    return folder


class FolderName(NamedTuple):
    """A folder as lists and menus show it (no ORM object: asked on every page)."""

    id: int
    name: str


# Asked on every page a patient sees (the menu lists their folders): built once, the owner
# bound when it runs, so SQLAlchemy reuses its compiled SQL.
_FOLDERS_OF = (
    select(Folder.id, Folder.name,
           func.count(Thread.id),
           func.coalesce(func.sum(case((Thread.unread_for_patient.is_(True), 1), else_=0)), 0))
    .outerjoin(Thread, (Thread.folder_id == Folder.id) & Thread.patient_deleted_at.is_(None))
    .where(Folder.owner_id == bindparam("owner_id"))
    .group_by(Folder.id, Folder.name, Folder.name_key)
    .order_by(Folder.name_key)
)


def folders_of(owner: User) -> list[tuple[FolderName, int, int]]:
    """The patient's folders, A to Z, with how many threads each holds and how many unread."""
    rows = read_rows(_FOLDERS_OF, {"owner_id": owner.id})
    return [(FolderName(folder_id, name), int(total), int(unread))
            for folder_id, name, total, unread in rows]


def move(patient: User, threads: list[Thread], destination: str) -> tuple[int, str]:
    """Move the patient's threads to the Inbox, Deleted, or one of their folders (by id).
    Returns how many, and the name of where they went."""
    folder = None
    if destination not in {INBOX, DELETED}:
        if (folder_id := as_id(destination)) is None:
            raise FolderError(gettext("Choose where to move the conversations."))
        folder = get_folder_for(patient, folder_id)
    for thread in threads:
        if thread.patient_id != patient.id:
            raise NotFound()
        if destination == DELETED:
            thread.patient_deleted_at = thread.patient_deleted_at or utcnow()
            thread.folder_id = None
        else:
            thread.patient_deleted_at = None
            thread.folder_id = folder.id if folder else None
    db.session.commit()
    return len(threads), folder.name if folder else (
        gettext("Deleted") if destination == DELETED else gettext("Inbox"))
